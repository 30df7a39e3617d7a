/**
 * The page: loads a trained checkpoint (`demo.safetensors` next to the page, or a file the user
 * picks) and segments what is drawn or uploaded on the input canvas. Backend: tfjs' WebAssembly backend (the .wasm files are
 * served next to main.js). State for tests and curious users: `window.signApp`.
 */
// a bundled app registers the gradients and chained ops itself (initBackend checks for them)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@sign/core';
import { loadModelFromBytes, type TrainedModel } from '@sign/trainer';
import { colorOf, colorize } from './colors';
import { segmentImage, type PageSegmentation } from './segment';

/** What the page exposes on `window.signApp`. */
interface AppState {
  state: 'loading' | 'ready' | 'busy' | 'error';
  backend?: string;
  checkpoint?: string;
  model?: TrainedModel;
  /** The last segmentation, with a checksum (FNV-1a) of the RGBA pixels it was computed from. */
  last?: PageSegmentation & { inputHash: number };
  error?: string;
  /** Runs the segmentation of the input canvas now (also done after every stroke and upload). */
  refresh(): Promise<void>;
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

function showLegend(m: TrainedModel, seg: PageSegmentation | undefined): void {
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
    const tag = m.unseen.includes(id) ? 'unseen' : null;
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
  const seg = await segmentImage(m, { data: pixels.data, width, height, channels: 4 });
  app.last = { ...seg, inputHash: fnv1a(pixels.data) };
  output.width = width;
  output.height = height;
  outCtx.putImageData(new ImageData(colorize(seg.labels, seg.classes), width, height), 0, 0);
  showLegend(m, seg);
}

async function run(message: string, work: () => Promise<string | void>): Promise<void> {
  if (app.state === 'busy' || app.state === 'loading') return;
  setState('busy', message);
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
