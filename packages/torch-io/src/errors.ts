/**
 * The one error type of @sign/torch-io. Its message always starts with the file (or the `source`
 * name given for bytes), so that every refusal names what was refused.
 */
export class PthError extends Error {
  /** The file (or the `source` given for bytes) the error is about. */
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${message}`, options);
    this.name = 'PthError';
    this.source = source;
  }
}
