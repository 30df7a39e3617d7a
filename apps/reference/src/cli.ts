/**
 * The `sign` CLI: `demo`, `train`, `eval`, `predict`, `doctor`, `embed`, `add-class`. `main(argv, io)` returns the exit code
 * (0 ok, 1 failure, 2 usage or config error, 130 interrupted) and never calls process.exit, so
 * tests can run it in-process; bin/sign.js calls it and sets the exit code.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import './plugins.js';
import { initBackend } from '@sign/core';
import { DatasetError } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { ConfigError, type ExperimentConfig } from '@sign/trainer';
import { evaluateCheckpoint, loadModel } from '@sign/trainer/node';
import {
  BACKENDS,
  DEMO_OPTIONS,
  DOCTOR_OPTIONS,
  EVAL_OPTIONS,
  INVERT,
  PREDICT_OPTIONS,
  TRAIN_OPTIONS,
  choice,
  integer,
  number,
  parseCommand,
  required,
  shellQuote,
  string,
} from './args.js';
import { demoConfig, presetNames, trainConfig } from './configs.js';
import { doctorCommand } from './doctor.js';
import { EXIT, UsageError } from './errors.js';
import { EMBED_HELP, embedCommand } from './embed.js';
import { IMPORT_HELP, importCommand } from './import.js';
import { ADD_CLASS_HELP, addClassCommand } from './add-class.js';
import { writeFileAtomic } from '@sign/core/node';
import { predictAndWrite, readInputs, testInputs } from './predict.js';
import { chooseMode, createReporter, type TextSink } from './progress.js';
import { buildReport, formatMarkdown, formatTable, protocolNotes, protocolSummary, writeReport, writeZsl } from './report.js';
import { trainAndReport } from './run.js';

export { EXIT, UsageError } from './errors.js';
export type { Report } from './report.js';
export { REPORT_KEYS } from './report.js';

/** The app's version, from its package.json (one directory above both src/ and dist/). */
export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Handle SIGINT/SIGTERM (graceful stop + resume hint). Default true. */
  handleSignals?: boolean;
  /** How the user invoked the CLI, for hints (default: derived from process.argv / npm script). */
  invocation?: string;
}

const HELP = `sign ${VERSION}: SIGN generalized zero-shot semantic segmentation, reference app

Usage:
  sign demo [flags]                      train + evaluate on fashion-scenes, write a report
  sign train --preset <name> --data-root <dir> [--pretrained <file.pth>] [--max-steps <n>] [--out <dir>]   the paper's settings
  sign train (--config <file.json> | --dataset <name> [--data-root <dir>] --unseen <a,b>) [--quick] [--seed <n>] [--out <dir>]
  sign eval --checkpoint <file> [--preset <name>] [--config <file.json>] [--data-root <dir>] [--calibrate <gamma>] [--out <dir>] [--json]
  sign predict --checkpoint <file> [--preset <name>] [--config <file.json>] (<image>… | --from-test <n>) --out <dir> [--save-labels]
  sign import <file.pth> --out <file.safetensors>   a PyTorch checkpoint (e.g. the SIGN release's) as safetensors
  sign doctor [--json]                   backends, GPU adapter and limits, a parity test
  sign embed --classes <a,b,…> (--word2vec|--fasttext|--glove <file>)… --out <embeddings.json>
  sign add-class <name> --checkpoint <file> --out <file> [--embedding-source dataset|glove|attributes|<file>]
  sign help [command]

Presets (--preset <name>; configs/presets/<name>.json, the paper's settings per benchmark):
  ${presetNames().join(', ')}

Run 'sign <command> --help' for the flags of a command.
`;

const DEMO_HELP = `sign demo: build fashion-scenes, train SIGN, evaluate, write <out>/report.{json,md}

Flags (all optional; no flags = the built-in demo config, about 10 minutes on 2 cores):
  --quick                         reduced run for smoke tests (about a minute)
  --unseen <a,b,c>                unseen classes (default pullover,dress,sandal)
  --seed <n>                      seed for data, init, dropout, noise (default 0)
  --layout outfit|random          scene layout (default outfit)
  --recipe sign|cagnet|zs3net     model recipe (configs/_base_/models/<recipe>.json; default sign)
  --generator sign|cagnet|gmmn    the same by generator name (gmmn = the zs3net recipe)
  --positional relative|absolute|none   SIGN's positional encoding (sign recipe only)
  --self-training none|ast|top-p  annealed self-training, CaGNet's top-p, or none (default ast)
  --embeddings glove|attributes|both   class embeddings (default both)
  --control none|random|permuted  replace unseen embeddings by random vectors / permute them
  --control-seed <n>              draw of the random control (default: derived from --seed)
  --calibrate <gamma>             calibrated stacking: subtract gamma from seen scores (default 0)
  --temperature <T>               AST temperature: weights exp(T·(p − p_max)); 0 = all weights 1
  --temperature-end <T>           anneal the AST temperature linearly to this over self-training
  --top-p <p>                     CaGNet's top-p (with --self-training top-p; default 2)
  --supervised                    upper bound: unseen classes labelled in training (same metrics split)
  --exclude-classes <a,b>         classes absent altogether (not in the model, pixels ignored in training and
                                  testing), e.g. to add one by name afterwards with 'sign add-class'
  --backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu   (default auto)
  --out <dir>                     output directory (default runs/demo, runs/quick with --quick)
  --resume                        continue from <out>/checkpoints/last.safetensors
  --keep <n>                      step checkpoints kept in <out>/checkpoints (default 2)
  --json                          JSON lines on stdout (one event per line) instead of a table
`;

const TRAIN_HELP = `sign train: train with a preset, from a config file, or on a dataset with the app's configs

  sign train --preset voc12-sign --data-root <dir> [--pretrained <file.pth>] [--embeddings-file <file>] [--max-steps <n>] [--out <dir>]
  sign train --dataset folder --data-root <dir> --unseen 'cat,dog' [--quick] [--seed <n>] --out <dir>
  sign train --config <file.json> [--dataset …] [--data-root …] [--unseen …] [--quick] [--seed <n>] [--out <dir>]

--dataset <name> trains on a registered dataset (folder: your own images, see the README) with
the app's experiment file for it, configs/<name>.json (--quick: configs/<name>-quick.json), where
there is one (folder); else with configs/_base_/datasets/<name>.json, the sign recipe and the demo
schedule (--quick: the quick one); with --config, the flags override the file. A config file is JSON composed from base files
({ "_base_": ["_base_/models/sign.json", …], …overrides }, paths relative to the file), or
{ "base": "demo" | "quick", ...overrides }. Unknown keys, wrong types, unknown classes and bad
files are errors that name them (exit code 2, nothing written). Flags: --data-root <dir>
(data.root), --unseen <a,b> (data.unseen, class names of the dataset), --control
none|random|permuted (data.control: replace the unseen embeddings by random vectors or permute
them, the controls a zero-shot result is compared with), --control-seed <n>, --seed <n>, --quick,
--out <dir> (default runs/<config name>), --resume, --keep <n> (step checkpoints kept, default 2),
--backend <b>, --json. One run per --out (a second one exits 2 naming <out>/run.lock).

--preset <name> trains with the paper's settings for a benchmark (configs/presets/<name>.json:
DeepLabv2-ResNet101, METHOD §4's schedule, the release's preprocessing; presets: ${presetNames().join(', ')}).
--data-root is the benchmark's data, in the release's layout (images/, annotations/, split/) or
the original one (VOC 2012 + SBD, PASCAL Context, COCO-Stuff 164k). The class embeddings are
data.embeddingsFile (default class-embeddings/<benchmark>.json, from 'sign embed'), or
--embeddings-file <file>. With --preset, --config <file> is merged on top of the preset (e.g. a
smaller crop or batch). --max-steps <n> stops after n steps in all (the schedule stays the
preset's; --resume continues, with a larger --max-steps to go further).

--pretrained <file.pth> (model.backbone.pretrained) starts the backbone from ImageNet ResNet-101
weights: torchvision's resnet101 state dict, or the Caffe-converted DeepLab init the release's
lineage starts from (names 'scale.layer1.conv1.conv.weight' or 'Scale.conv1.weight'); the naming is
detected, the ResNet trunk is loaded, the ASPP keeps its initialisation, torchvision's first conv
is rewritten for the presets' BGR/Caffe-mean input. A key the backbone cannot place, or one it
needs and the file lacks, is an error naming it (exit code 2). Read when a run starts, not on
--resume.
`;

const EVAL_HELP = `sign eval --checkpoint <file>: evaluate a checkpoint on the test split of the data it records

The checkpoint records its dataset, classes and config. A SIGN release checkpoint (.pth as
released, or its 'sign import'ed .safetensors) records none: --preset <name> (e.g. voc12-sign)
and/or --config <file.json> give the dataset and split (its network's structure, SIM variant and class embeddings come from the
file); it is scored with the release's protocol (image warped to 513x513, argmax on the feature
grid against the labels nearest-resized to it) and the standard one (logits upsampled to each
label map) beside it, both in report.json (config.protocol) and report.md. Flags: --data-root
<dir> (the dataset's folder), --calibrate <gamma> (default: the config's eval.calibrate), --out
<dir> (also write report.json / report.md there), --backend <b>, --json.
`;

const PREDICT_HELP = `sign predict --checkpoint <file> <image>… --out <dir>

Segments PNG or JPEG images (grey or colour, any size; converted to the dataset's channels and
normalised as its test images were) and writes <name>.mask.png, <name>.overlay.png (both at the
image's size), <name>.panel.png (input | overlay | prediction, with a legend), legend.png and
predictions.json. --save-labels also writes <name>.labels.png (8-bit class ids at the image's
size) and <name>.feature-labels.png (8-bit class ids on the feature grid: the release's protocol
for a model evaluated with it). A SIGN release checkpoint needs --preset <name> and/or --config
<file.json> (its dataset and split). Flags: --from-test <n> (predict the first n test samples of the checkpoint's
data instead, with their ground truth), --calibrate <gamma>, --invert auto|always|never
(fashion-scenes models only: auto inverts images with a light background; the model saw light
items on black, at the scene size), --scale <k> (panel upscaling), --backend <b>, --json.
`;

const DOCTOR_HELP = `sign doctor: what this machine can run on

Tries every backend (tensorflow-gpu, webgpu, tensorflow, wasm, cpu) and says why each that does
not load was skipped, which one --backend auto picks, the WebGPU adapter with the device limits
it was given, and compares a strided + dilated conv net (forward and backward) on every backend
that loads with the cpu backend (exit 1 if one disagrees). Flags: --json.
`;

const HELPS: Record<string, string> = {
  demo: DEMO_HELP,
  train: TRAIN_HELP,
  eval: EVAL_HELP,
  predict: PREDICT_HELP,
  doctor: DOCTOR_HELP,
  embed: EMBED_HELP,
  import: IMPORT_HELP,
  'add-class': ADD_CLASS_HELP,
};

function defaultInvocation(): string {
  const script = process.env.npm_lifecycle_event;
  if (script === 'demo') return 'pnpm demo';
  const bin = process.argv[1];
  if (bin && /sign(\.js)?$/.test(bin) && !bin.includes('node_modules/.bin')) {
    const rel = relative(process.cwd(), bin) || bin;
    return `node ${shellQuote(rel)}`;
  }
  return 'sign';
}

function commandLine(invocation: string, args: string[], opts: { dropCommand?: boolean } = {}): string {
  const parts = opts.dropCommand ? args.slice(1) : args;
  return [invocation, ...parts.map(shellQuote)].join(' ');
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  const stdout = io.stdout;
  const stderr = io.stderr;
  const json = rest.includes('--json');
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      const topic = command === 'help' ? rest[0] : undefined;
      stdout.write(topic && HELPS[topic] ? HELPS[topic] : HELP);
      return EXIT.ok;
    }
    if (command === '--version' || command === 'version') {
      stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    }
    const invocation = io.invocation ?? defaultInvocation();
    // `pnpm demo` already says "demo"; other invocations name the command.
    const shown = invocation === 'pnpm demo' ? commandLine(invocation, argv, { dropCommand: true }) : commandLine(invocation, argv);
    const resumeCommand = argv.includes('--resume') ? shown : `${shown} --resume`;
    switch (command) {
      case 'demo': {
        const { flags } = parseCommand('demo', rest, DEMO_OPTIONS);
        if (flags.help) return help(stdout, 'demo');
        const config = demoConfig(flags);
        const outDir = string(flags, 'out') ?? join('runs', flags.quick ? 'quick' : 'demo');
        const reporter = createReporter({ mode: chooseMode(!!flags.json, stderr), stdout, stderr });
        return await trainAndReport(
          {
            config,
            outDir,
            resume: !!flags.resume,
            keep: integer(flags, 'keep', { min: 1 }),
            title: `SIGN ${flags.quick ? 'quick demo' : 'demo'} on fashion-scenes`,
            command: shown,
            resumeCommand,
          },
          { stdout, stderr, handleSignals: io.handleSignals ?? true },
          reporter,
        );
      }
      case 'train': {
        const { flags } = parseCommand('train', rest, TRAIN_OPTIONS);
        if (flags.help) return help(stdout, 'train');
        let config: ExperimentConfig = trainConfig(flags);
        const backend = choice(flags, 'backend', BACKENDS);
        if (backend) config = { ...config, runtime: { ...config.runtime, backend } };
        const maxSteps = integer(flags, 'max-steps', { min: 1 });
        const outDir = string(flags, 'out') ?? join('runs', config.name);
        const reporter = createReporter({ mode: chooseMode(!!flags.json, stderr), stdout, stderr });
        return await trainAndReport(
          { config, outDir, resume: !!flags.resume, keep: integer(flags, 'keep', { min: 1 }), title: `SIGN run '${config.name}'`, command: shown, resumeCommand, ...(maxSteps !== undefined ? { maxSteps } : {}) },
          { stdout, stderr, handleSignals: io.handleSignals ?? true },
          reporter,
        );
      }
      case 'eval':
        return await evalCommand(rest, io, shown);
      case 'predict':
        return await predictCommand(rest, io);
      case 'doctor': {
        const { flags } = parseCommand('doctor', rest, DOCTOR_OPTIONS);
        if (flags.help) return help(stdout, 'doctor');
        return await doctorCommand(!!flags.json, stdout);
      }
      case 'embed':
        return await embedCommand(rest, io);
      case 'import':
        return await importCommand(rest, io);
      case 'add-class':
        return await addClassCommand(rest, io, checkpointArg);
      default:
        throw new UsageError(`unknown command '${command}' (valid: demo, train, eval, predict, import, doctor, embed, add-class, help)`);
    }
  } catch (err) {
    // a bad input file (a corrupt or non-finite checkpoint) is a usage error too: exit 2
    if (err instanceof UsageError || err instanceof DatasetError || err instanceof ConfigError || (err instanceof Error && err.name === 'CheckpointError')) {
      if (json) stdout.write(`${JSON.stringify({ event: 'error', kind: 'usage', message: err.message })}\n`);
      stderr.write(`sign: ${err.message}\n`);
      return EXIT.usage;
    }
    const e = err as Error;
    if (json) stdout.write(`${JSON.stringify({ event: 'error', kind: 'failure', message: e.message })}\n`);
    stderr.write(`sign: ${e.message}\n`);
    if (process.env.SIGN_DEBUG) stderr.write(`${e.stack}\n`);
    return EXIT.failure;
  }
}

function help(stdout: TextSink, command: string): number {
  stdout.write(HELPS[command] ?? HELP);
  return EXIT.ok;
}

function checkpointArg(flags: Record<string, unknown>, command: string): string {
  const ckpt = required(flags as any, 'checkpoint', command);
  if (!existsSync(ckpt)) throw new UsageError(`--checkpoint: no such file ${ckpt}`);
  return ckpt;
}

/**
 * The config for a checkpoint that records none (a SIGN release checkpoint): `--preset NAME`
 * and/or `--config FILE` (merged on top of the preset), with `--data-root` as `sign train` takes
 * them. Undefined without either (the trainer's checkpoints record theirs; a release checkpoint
 * then fails, asking for one).
 */
function checkpointConfig(flags: Record<string, unknown>, opts: { readsData: boolean }): ExperimentConfig | undefined {
  const file = string(flags as any, 'config');
  if (file === undefined && string(flags as any, 'preset') === undefined) return undefined;
  if (file !== undefined && !existsSync(file)) throw new UsageError(`--config: no such file ${file}`);
  // sign predict reads no data: a preset's data section (which needs a root) gets a placeholder
  if (!opts.readsData && string(flags as any, 'data-root') === undefined) return trainConfig({ ...flags, 'data-root': '(no data: sign predict reads images only)' } as any);
  return trainConfig(flags as any);
}

async function evalCommand(argv: string[], io: CliIo, shown: string): Promise<number> {
  const { flags } = parseCommand('eval', argv, EVAL_OPTIONS);
  if (flags.help) return help(io.stdout, 'eval');
  const ckpt = checkpointArg(flags, 'eval');
  const calibrateFlag = number(flags, 'calibrate');
  const outDir = string(flags, 'out');
  const backend = choice(flags, 'backend', BACKENDS) ?? 'auto';
  const reporter = createReporter({ mode: chooseMode(!!flags.json, io.stderr), stdout: io.stdout, stderr: io.stderr });
  const given = checkpointConfig(flags, { readsData: true });
  const t0 = Date.now();
  const b = await initBackend(backend);
  reporter.log(`evaluating ${ckpt} (backend ${b.backend})`);
  const dataRoot = string(flags, 'data-root');
  const m = await evaluateCheckpoint(ckpt, {
    ...(calibrateFlag !== undefined ? { calibrate: calibrateFlag } : {}),
    io: nodeIo,
    ...(dataRoot !== undefined ? { dataOverrides: { root: dataRoot } } : {}),
    ...(given ? { config: given } : {}),
  });
  const config = m.config;
  const names = m.classes.classNames;
  const seen = m.classes.seen.map((id) => names[id]);
  const calibrate = calibrateFlag ?? config.eval.calibrate;
  const report = buildReport({
    metrics: m,
    perClassIoU: m.perClassIoU,
    seen,
    unseen: [...config.data.unseen],
    backend: b.backend,
    seconds: (Date.now() - t0) / 1000,
    config: { ...config, eval: { ...config.eval, calibrate }, protocol: protocolSummary(m.protocol, m.protocols) },
  });
  let files: { json: string; md: string; zsl: string } | undefined;
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    const md = formatMarkdown(report, {
      title: `Evaluation of ${ckpt}`,
      command: shown,
      notes: [`calibrated stacking gamma: ${calibrate}`, ...protocolNotes(m.protocol, m.protocols)],
      zsl: m.zsl,
    });
    const zslFile = writeZsl(outDir, m.zsl);
    files = { ...writeReport(outDir, report, md), zsl: zslFile };
  }
  if (reporter.mode === 'json') reporter.event('report', { report, zsl: m.zsl, files: files ?? null });
  else {
    io.stdout.write(formatTable(report, `${ckpt} · calibrate ${calibrate}`, m.zsl));
    if (files) io.stderr.write(`report: ${files.md} · ${files.json}\n`);
  }
  return EXIT.ok;
}

async function predictCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseCommand('predict', argv, PREDICT_OPTIONS, true);
  if (flags.help) return help(io.stdout, 'predict');
  const ckpt = checkpointArg(flags, 'predict');
  const outDir = required(flags, 'out', 'predict');
  const fromTest = integer(flags, 'from-test', { min: 1 });
  const calibrate = number(flags, 'calibrate');
  const invert = choice(flags, 'invert', INVERT) ?? 'auto';
  const scale = integer(flags, 'scale', { min: 1 });
  const backend = choice(flags, 'backend', BACKENDS) ?? 'auto';
  if (positionals.length === 0 && fromTest === undefined) {
    throw new UsageError('sign predict: give PNG images to segment, or --from-test <n> for generated test scenes');
  }
  // Read every image before loading the model, so a bad file fails at once.
  let inputs;
  try {
    inputs = await readInputs(positionals);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const given = checkpointConfig(flags, { readsData: fromTest !== undefined });
  const reporter = createReporter({ mode: chooseMode(!!flags.json, io.stderr), stdout: io.stdout, stderr: io.stderr });
  await initBackend(backend);
  const model = await loadModel(ckpt, given ? { config: given } : {});
  try {
    if (fromTest !== undefined) inputs = [...inputs, ...(await testInputs(model, fromTest))];
    mkdirSync(outDir, { recursive: true });
    const outputs = await predictAndWrite(model, inputs, outDir, { calibrate, invert, scale, saveLabels: !!flags['save-labels'] });
    const summary = {
      checkpoint: ckpt,
      inputSize: (model.config.data as { size?: number }).size ?? null,
      calibrate: calibrate ?? model.config.eval.calibrate,
      legend: join(outDir, 'legend.png'),
      images: outputs,
    };
    writeFileAtomic(join(outDir, 'predictions.json'), `${JSON.stringify(summary, null, 2)}\n`);
    if (reporter.mode === 'json') reporter.event('predictions', summary);
    else {
      for (const o of outputs) {
        const top = Object.entries(o.classes)
          .filter(([n]) => n !== 'background')
          .slice(0, 3)
          .map(([n, f]) => `${n} ${(100 * f).toFixed(0)}%`)
          .join(', ');
        io.stdout.write(`${o.source} → ${o.panel}${top ? ` (${top})` : ''}\n`);
      }
      io.stdout.write(`masks, overlays and panels in ${outDir}; legend: ${summary.legend}\n`);
    }
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}

