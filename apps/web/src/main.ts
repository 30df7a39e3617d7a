/**
 * The page: loads a trained checkpoint (`demo.safetensors` next to the page, or a file the user
 * picks), segments what is drawn or uploaded on the input canvas (`segment` of @sign/trainer) and
 * adds a class typed by name (`addClass` of @sign/trainer, its embedding from the table bundled
 * with the page). Backend: tfjs' WebAssembly backend (the .wasm files are served next to main.js).
 * State for tests and curious users: `window.signApp`.
 */
// a bundled app registers the gradients and chained ops itself (initBackend checks for them)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@sign/core';
import { fashionEmbeddings, type FashionEmbeddingSource } from '@sign/data';
import { addClass, loadModelFromBytes, segment, type Segmentation, type TrainedModel } from '@sign/trainer';
import { colorOf, colorize } from './colors';

/** What the page exposes on `window.signApp`. */
interface AppState {
  state: 'loading' | 'ready' | 'busy' | 'error';
  backend?: string;
  checkpoint?: string;
  model?: TrainedModel;
  /** The last segmentation, with a checksum (FNV-1a) of the RGBA pixels it was computed from. */
  last?: Segmentation & { inputHash: number };
  /** The last class added by name: where its embedding came from, and what `addClass` took. */
  lastAdded?: AddedByName;
  error?: string;
  /** Runs the segmentation of the input canvas now (also done after every stroke and upload). */
  refresh(): Promise<void>;
}

/** A class added on the page. */
interface AddedByName {
  /** The class name as the embedding table spells it (what was typed may differ: `Bag`, `ankle_boot`). */
  name: string;
  typed: string;
  id: number;
  source: string;
  steps: number;
  /** The classifier's loss after each step. */
  losses: number[];
  /** Seconds in `addClass`, and with the re-segmentation of the canvas after it. */
  seconds: number;
  wallSeconds: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const input = $<HTMLCanvasElement>('input');
const output = $<HTMLCanvasElement>('output');
const status = $<HTMLDivElement>('status');
const legend = $<HTMLUListElement>('legend');
const inCtx = input.getContext('2d', { willReadFrequently: true })!;
const outCtx = output.getContext('2d')!;

const app: AppState = { state: 'loading', refresh };
(window as unknown as { signApp: AppState }).signApp = app;

function setState(state: AppState['state'], message: string): void {
  app.state = state;
  document.body.dataset.state = state;
  status.textContent = message;
  status.classList.toggle('error', state === 'error');
}

function fail(err: unknown): void {
  app.error = err instanceof Error ? err.message : String(err);
  setState('error', app.error);
}

function fnv1a(bytes: ArrayLike<number>): number {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0;
  return h;
}

function describeModel(m: TrainedModel): string {
  const names = (ids: number[]) => ids.filter((i) => i !== m.background).map((i) => m.classNames[i]).join(', ');
  return `${app.checkpoint}: ${m.classNames.length} classes; unseen in training: ${names(m.unseen)} · backend ${app.backend}`;
}

function showLegend(m: TrainedModel, seg: Segmentation | undefined): void {
  const added = new Set(m.added.map((a) => a.name));
  legend.replaceChildren();
  m.classNames.forEach((name, id) => {
    const li = document.createElement('li');
    li.dataset.class = name;
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = `rgb(${colorOf(name).join(',')})`;
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = name;
    li.append(sw, label);
    const tag = added.has(name) ? 'added' : m.unseen.includes(id) ? 'unseen' : null;
    if (tag) {
      const t = document.createElement('span');
      t.className = `tag ${tag}`;
      t.textContent = tag;
      li.append(t);
    }
    const score = document.createElement('span');
    score.className = 'score';
    const k = seg ? seg.classes.indexOf(name) : -1;
    score.textContent = k >= 0 ? `${(100 * seg!.scores[k]!).toFixed(1)} %` : '';
    li.append(score);
    legend.append(li);
  });
}

async function refresh(): Promise<void> {
  const m = app.model;
  if (!m) return;
  const { width, height } = input;
  const pixels = inCtx.getImageData(0, 0, width, height);
  const seg = await segment(m, { data: pixels.data, width, height, channels: 4 });
  app.last = { ...seg, inputHash: fnv1a(pixels.data) };
  output.width = width;
  output.height = height;
  outCtx.putImageData(new ImageData(colorize(seg.labels, seg.classes), width, height), 0, 0);
  showLegend(m, seg);
}

async function run(message: string, work: () => Promise<string | void>): Promise<void> {
  if (app.state === 'busy' || app.state === 'loading') return;
  setState('busy', message);
  app.error = undefined;
  try {
    const done = await work();
    setState('ready', done || (app.model ? describeModel(app.model) : 'ready'));
  } catch (err) {
    fail(err);
    // the page stays usable after a refused name or file
    if (app.model) app.state = 'ready';
    document.body.dataset.state = app.state;
  }
}

async function useModel(bytes: ArrayBuffer, name: string): Promise<void> {
  const m = await loadModelFromBytes(bytes, { source: name, requireFinite: true });
  app.model?.dispose();
  app.model = m;
  app.checkpoint = name;
  await refresh();
}

// ---- a class added by name ----
/**
 * The embedding of a typed class name, from the table bundled with the page: the fashion-scenes
 * table the checkpoint was trained with (its `data.embeddings`: GloVe 100-d of the name's words,
 * the hand-made attributes, or both; built by `fashionEmbeddings` of @sign/data, the row `sign
 * add-class --embedding-source dataset` takes). The page carries no general word vectors, so
 * only the names of that table can be added (the fashion classes, e.g. `bag`, which the demo
 * checkpoint was trained without); names are matched as the table matches them (`Ankle_Boot`
 * finds `ankle boot`).
 */
function embeddingOf(m: TrainedModel, typed: string): { name: string; vector: Float32Array; source: string } {
  const data = m.config.data as { type?: string; embeddings?: FashionEmbeddingSource };
  if (data.type !== 'fashion-scenes') {
    throw new Error(`add class: the page bundles the fashion-scenes embedding tables only; ${app.checkpoint} was trained on '${String(data.type)}'`);
  }
  const which = data.embeddings ?? 'both';
  const table = fashionEmbeddings(which, { includeBackground: true });
  if (!table.has(typed)) {
    throw new Error(`add class: '${typed}' has no embedding in the page's table (${which}); it has: ${table.classNames.join(', ')}`);
  }
  const name = table.classNames[table.id(typed)]!;
  const what = { glove: 'GloVe', attributes: 'attribute', both: 'GloVe + attribute' }[which];
  return { name, vector: table.vector(name), source: `page's ${what} table (fashion-scenes, as trained)` };
}

async function addByName(typed: string, steps: number): Promise<string> {
  const m = app.model;
  if (!m) throw new Error('add class: no model is loaded');
  if (typed === '') throw new Error('add class: type a class name');
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`add class: steps must be a whole number of at least 1, got '${steps}'`);
  const { name, vector, source } = embeddingOf(m, typed);
  const t0 = performance.now();
  const losses: number[] = [];
  const bigger = await addClass(m, name, vector, {
    steps,
    source,
    onStep: (step, loss) => {
      losses.push(loss);
      if (step % 10 !== 0) return;
      status.textContent = `adding '${name}': step ${step} of ${steps}, loss ${loss.toFixed(3)}`;
      // every 10 steps the page paints and takes input (addClass awaits this before the next step)
      return new Promise<void>((r) => setTimeout(r, 0));
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  m.dispose();
  app.model = bigger;
  await refresh();
  const id = bigger.added[bigger.added.length - 1]!.id;
  app.lastAdded = { name, typed, id, source, steps, losses, seconds, wallSeconds: (performance.now() - t0) / 1000 };
  return `added '${name}' (id ${id}, unseen) from the ${source}: classifier retrained for ${steps} steps in ${seconds.toFixed(1)} s · ${describeModel(bigger)}`;
}

$<HTMLFormElement>('add-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const typed = $<HTMLInputElement>('class-name').value.trim();
  const steps = Number($<HTMLInputElement>('steps').value);
  void run(`adding '${typed}'…`, () => addByName(typed, steps));
});

// ---- drawing ----
function clear(): void {
  inCtx.fillStyle = '#000';
  inCtx.fillRect(0, 0, input.width, input.height);
}
let drawing = false;
function stroke(e: PointerEvent): void {
  const r = input.getBoundingClientRect();
  const x = ((e.clientX - r.left) / r.width) * input.width;
  const y = ((e.clientY - r.top) / r.height) * input.height;
  const g = Number($<HTMLInputElement>('grey').value);
  inCtx.fillStyle = `rgb(${g},${g},${g})`;
  inCtx.beginPath();
  inCtx.arc(x, y, Number($<HTMLInputElement>('brush').value) / 2, 0, 2 * Math.PI);
  inCtx.fill();
}
input.addEventListener('pointerdown', (e) => {
  drawing = true;
  input.setPointerCapture(e.pointerId);
  stroke(e);
});
input.addEventListener('pointermove', (e) => drawing && stroke(e));
input.addEventListener('pointerup', () => {
  drawing = false;
  void run('segmenting…', refresh);
});
$('clear').addEventListener('click', () => {
  clear();
  void run('segmenting…', refresh);
});

// ---- upload: the image at its own size, pixels exactly as in the file ----
$<HTMLInputElement>('upload').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void run(`reading ${file.name}…`, async () => {
    const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    input.width = bitmap.width;
    input.height = bitmap.height;
    clear();
    inCtx.drawImage(bitmap, 0, 0);
    bitmap.close();
    await refresh();
  });
});

// ---- another checkpoint ----
$<HTMLInputElement>('checkpoint').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void run(`loading ${file.name}…`, async () => useModel(await file.arrayBuffer(), file.name));
});

// ---- start ----
clear();
(async () => {
  try {
    setWasmPaths(new URL('./', location.href).href);
    const report = await initBackend('wasm');
    app.backend = report.backend;
    const res = await fetch('demo.safetensors');
    if (!res.ok) throw new Error(`demo.safetensors: HTTP ${res.status}`);
    app.state = 'busy';
    await useModel(await res.arrayBuffer(), 'demo.safetensors');
    setState('ready', describeModel(app.model!));
  } catch (err) {
    fail(err);
  }
})();
