/**
 * Bundles workspace packages for the browser the way an app's bundler would (esbuild,
 * `--platform=browser`), from their TypeScript sources or from their build (`dist/`, what npm
 * ships), and reports every import of a Node built-in (`fs`, `node:path`, …) with the file that
 * imports it, instead of stopping at the first.
 * Used by test/bundle.test.ts and by scripts/bundle-sizes.ts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** A published (non-private) package of packages/: its name, folder and entry points. */
export interface LibraryPackage {
  name: string;
  dir: string;
  /** The subpaths its package.json exports besides '.' and './package.json' (e.g. './node'). */
  subpaths: string[];
}

/** Every published package under packages/, by name. */
export function libraryPackages(): LibraryPackage[] {
  const out: LibraryPackage[] = [];
  for (const d of readdirSync(join(ROOT, 'packages')).sort()) {
    const file = join(ROOT, 'packages', d, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean; exports?: Record<string, unknown> };
    if (pkg.private) continue;
    out.push({
      name: pkg.name,
      dir: join(ROOT, 'packages', d),
      subpaths: Object.keys(pkg.exports ?? {}).filter((k) => k !== '.' && k !== './package.json'),
    });
  }
  return out;
}

/** `@sign/x` and `@sign/x/sub` → their TypeScript sources (as the vitest preset maps them). */
export function sourceAliases(): Record<string, string> {
  const alias: Record<string, string> = {};
  for (const p of libraryPackages()) {
    for (const sub of p.subpaths) alias[`${p.name}/${sub.slice(2)}`] = join(p.dir, 'src', `${sub.slice(2)}.ts`);
    alias[p.name] = join(p.dir, 'src', 'index.ts');
  }
  return alias;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** One import of a Node built-in found in a bundle. */
export interface NodeImport {
  /** What was imported, as written (`node:fs/promises`, `zlib`). */
  path: string;
  /** The importing file, relative to the repository root. */
  importer: string;
}

const SKIP = Symbol('resolving');

/**
 * Records imports of Node built-ins that esbuild cannot resolve for the browser, and leaves them
 * out of the bundle (so the build goes on and every one is listed). A built-in that a package's
 * `browser` field maps away (tfjs-core's `util`, seedrandom's `crypto`) resolves and is not one.
 */
function nodeBuiltins(found: NodeImport[]): Plugin {
  return {
    name: 'node-builtins',
    setup(b) {
      b.onResolve({ filter: /^[a-z_:/]+$/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const base = args.path.startsWith('node:') ? args.path : args.path.split('/')[0]!;
        if (!BUILTINS.has(base) && !BUILTINS.has(args.path)) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: SKIP });
        if (r.errors.length === 0) {
          // mapped away by a browser field: an empty module
          return r.path.startsWith('/') ? { path: r.path, namespace: r.namespace, external: r.external } : { path: args.path, namespace: 'browser-disabled' };
        }
        found.push({ path: args.path, importer: relative(ROOT, args.importer) });
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: 'browser-disabled' }, () => ({ contents: 'module.exports = {};' }));
    },
  };
}

/** What {@link bundleForBrowser} made. */
export interface BrowserBundle {
  /** Minified bytes (peer dependencies `external` left out). */
  bytes: number;
  /** The same, gzip'd (level 9). */
  gzipBytes: number;
  /** Every Node built-in imported, with its importer; empty for a browser-ready entry. */
  nodeImports: NodeImport[];
  /** The bundle's code. */
  code: string;
}

/**
 * Bundles `entry` (a file, or `{ contents }` resolved from the repository root) for the browser:
 * esbuild, `platform: 'browser'` (package.json `browser` fields honoured, Node built-ins not
 * available), minified, `@sign/*` from their sources (`sources: false`: as an app resolves them,
 * through node_modules and their package.json exports, i.e. their built `dist/` files). `external`
 * package patterns are left out (default: `@tensorflow/*`, the peer dependency an app shares);
 * `format: 'iife'` makes a script that {@link runWithoutNode} can evaluate.
 */
export async function bundleForBrowser(
  entry: string | { contents: string },
  opts: { external?: string[]; format?: 'esm' | 'iife'; sources?: boolean } = {},
): Promise<BrowserBundle> {
  const nodeImports: NodeImport[] = [];
  const result = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, sourcefile: 'entry.ts', loader: 'ts' } }),
    bundle: true,
    platform: 'browser',
    format: opts.format ?? 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    ...(opts.sources === false ? {} : { alias: sourceAliases() }),
    external: opts.external ?? ['@tensorflow/*'],
    plugins: [nodeBuiltins(nodeImports)],
  });
  const out = result.outputFiles[0]!.contents;
  return { bytes: out.byteLength, gzipBytes: gzipSync(out, { level: 9 }).byteLength, nodeImports, code: result.outputFiles[0]!.text };
}

/**
 * Evaluates a script (an `iife` bundle) in a fresh context that has what a browser page has
 * (timers, TextEncoder/Decoder, URL, Blob, fetch, WebCrypto, `self`, `window`, `document`, `navigator`) and
 * none of Node's globals (`process`, `Buffer`, `require`, `module`, `__dirname`), and returns the
 * context, so that a test can call what the script put on it.
 */
export function runWithoutNode(code: string): Record<string, unknown> {
  const g = globalThis as Record<string, unknown>;
  const context: Record<string, unknown> = {};
  for (const k of [
    'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'TextEncoder',
    'TextDecoder', 'URL', 'Blob', 'ReadableStream', 'fetch', 'Response', 'crypto', 'performance', 'structuredClone', 'atob', 'btoa',
  ]) {
    context[k] = g[k];
  }
  context.navigator = { userAgent: 'Mozilla/5.0 (a test page without WebGL or WebGPU)' };
  // tfjs-core picks its browser platform where window.document exists; no DOM is used here
  context.document = {};
  context.self = context;
  context.window = context;
  context.globalThis = context;
  runInNewContext(code, context, { filename: 'bundle.js' });
  for (const k of ['process', 'Buffer', 'require', 'module', '__dirname']) {
    if (k in context) throw new Error(`runWithoutNode: the context has Node's '${k}'`);
  }
  return context;
}
