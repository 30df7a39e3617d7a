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

/** A name from a file, quoted for a message: control and non-ASCII characters escaped, cut at 80 characters. */
export function quote(name: string): string {
  const cut = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  return `'${cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}
