import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { vi } from 'vitest';

/**
 * The first ```ts block of `<pkgDir>/README.md` (the package's opening example), verbatim, or the
 * `index`-th (0-based) when given. Throws, naming the README, when there is none.
 */
export function readmeExample(pkgDir: string, index = 0): string {
  const readme = resolve(pkgDir, 'README.md');
  const blocks = [...readFileSync(readme, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)];
  const block = blocks[index];
  if (!block) throw new Error(`${readme} has no \`\`\`ts block number ${index + 1} (the package's README must open with an example)`);
  return block[1]!;
}

/**
 * The code between the `// README-EXAMPLE-START` and `// README-EXAMPLE-END` comment lines of a
 * test file (its own copy of the README example, run inline), each line dedented by two spaces and
 * the whole trimmed. Throws, naming the file, when a marker is missing.
 */
export function markedExample(testFile: string): string {
  const text = readFileSync(testFile, 'utf8');
  const body = /\/\/ README-EXAMPLE-START\n([\s\S]*?)\n\s*\/\/ README-EXAMPLE-END/.exec(text);
  if (!body) throw new Error(`${testFile} has no // README-EXAMPLE-START ... // README-EXAMPLE-END section`);
  return body[1]!
    .split('\n')
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n')
    .trim();
}

/** What running a README example gave: its code, the lines it printed, the lines its comments promise. */
export interface ReadmeRun {
  /** The README's first ```ts block, as run. */
  code: string;
  /** Each `console.log` call's arguments, `String`-ed and joined by a space. */
  lines: string[];
  /** The text after `// ` on every `console.log(...); // <text>` line of the code, in order. */
  promised: string[];
}

/**
 * Runs a package's README example exactly as written: the first ```ts block (or the `index`-th) is written to
 * `<pkgDir>/.tmp/readme-example-<pid>-<index>.ts` (git-ignored; inside the package so that its imports
 * resolve as they do there), imported, and what it prints through `console.log` is captured
 * (and not shown). The file is removed afterwards, also when the example throws.
 *
 * @example
 * const { lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
 * expect(lines).toEqual(promised);
 */
export async function runReadmeExample(pkgDir: string, index = 0): Promise<ReadmeRun> {
  const code = readmeExample(pkgDir, index);
  const dir = resolve(pkgDir, '.tmp');
  const file = join(dir, `readme-example-${process.pid}-${index}.ts`); // one module per block: imports are cached
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, code);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    spy.mockRestore();
    rmSync(file, { force: true });
  }
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]!);
  return { code, lines, promised };
}
