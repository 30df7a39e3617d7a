/**
 * Bad input (config, files, classes): one error listing every problem found, each naming the key,
 * file or class. A CLI maps it to its usage/bad-input exit code (2).
 */
export class DatasetError extends Error {
  readonly problems: string[];
  constructor(problems: string[], heading?: string) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`${heading ? `${heading}:\n  ` : ''}${shown.join('\n  ')}${more}`);
    this.name = 'DatasetError';
    this.problems = problems;
  }
}
