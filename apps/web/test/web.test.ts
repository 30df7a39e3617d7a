/**
 * The page in a real browser: Debian's chromium, headless, driven by playwright-core (no browser
 * download). It loads the demo checkpoint (fixtures/demo.safetensors: `sign demo --exclude-classes
 * bag`, exported by scripts/export-checkpoint.ts), segments an uploaded test scene with the
 * same pixel accuracy as Node on the same scene (`segment` of @sign/trainer, on Node's wasm
 * backend), then adds 'bag' typed by name and segments the scene again: the same labels as Node's
 * `addClass` + `segment` with the same settings, with bag in them. A screenshot (after the
 * addition) goes to $SIGN_WEB_SCREENSHOT (docs/web.png was made so) or the temp folder.
 *
 * Without chromium the browser part is skipped with a message, unless SIGN_REQUIRE_CHROMIUM is
 * set (CI installs chromium and sets it, so there it fails instead).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FASHION_CLASSES, encodePng, fashionEmbeddings, greyToImage } from '@sign/data';
import { makeFashionScenes } from '@sign/data/node';
import { initBackend } from '@sign/core';
import { addClass, segment, type Segmentation, type TrainedModel } from '@sign/trainer';
import { loadModel } from '@sign/trainer/node';
import { colorOf, colorize } from '../src/colors';
// @ts-expect-error: plain ES module scripts without type declarations
import { DEFAULT_CHECKPOINT, buildWeb } from '../scripts/build.mjs';
// @ts-expect-error: plain ES module scripts without type declarations
import { serveDir } from '../scripts/serve.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const REQUIRE = !!process.env.SIGN_REQUIRE_CHROMIUM;

describe('page helpers', () => {
  it('colours classes by name: the fashion palette, and a stable colour for any other name', () => {
    expect(colorOf('bag')).toEqual([210, 245, 60]);
    expect(colorOf('background')).toEqual([0, 0, 0]);
    expect(colorOf('umbrella')).toEqual(colorOf('umbrella'));
    const rgba = colorize([0, 1, 7], ['background', 'bag']);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 255, 210, 245, 60, 255, 128, 128, 128, 255]);
  });
});

/** Share of pixels whose predicted class NAME is the true one (truth: fashion-scenes class ids). */
function pixelAccuracy(seg: { labels: ArrayLike<number>; classes: string[] }, truth: Uint8Array): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (seg.classes[seg.labels[i]!] === FASHION_CLASSES[truth[i]!]) ok++;
  return ok / truth.length;
}

function fnv1a(bytes: ArrayLike<number>): number {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0;
  return h;
}

/** Pixels predicted as class `name` and the IoU of that class on the scene (truth: fashion-scenes class ids). */
function classStats(seg: { labels: ArrayLike<number>; classes: string[] }, truth: Uint8Array, name: string): { predicted: number; iou: number } {
  const k = seg.classes.indexOf(name);
  const t = FASHION_CLASSES.indexOf(name as (typeof FASHION_CLASSES)[number]);
  let predicted = 0;
  let both = 0;
  let either = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = seg.labels[i] === k;
    const g = truth[i] === t;
    if (p) predicted++;
    if (p && g) both++;
    if (p || g) either++;
  }
  return { predicted, iou: either ? both / either : 0 };
}

/** The page's last segmentation, as plain data. */
async function pageSegmentation(page: Page): Promise<{ labels: number[]; classes: string[]; scores: number[]; width: number; height: number }> {
  return page.evaluate(() => {
    const l = (window as any).signApp.last as Segmentation;
    return { labels: Array.from(l.labels), classes: l.classes, scores: Array.from(l.scores), width: l.width, height: l.height };
  });
}

/** Classifier steps of the addition in the test: the page's default (that of `sign add-class`). */
const ADD_STEPS = 200;

describe.skipIf(!CHROMIUM && !REQUIRE)('the page in headless chromium (wasm backend)', () => {
  let tmp: string;
  let server: Server | undefined;
  let url: string;
  let node: TrainedModel;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];
  // the first test scene with a bag in it (deterministic)
  let scene: ReturnType<typeof makeFashionScenes>;
  let rgba: ReturnType<typeof greyToImage>;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('chromium not found (apt-get install chromium, or set CHROMIUM_PATH); SIGN_REQUIRE_CHROMIUM is set');
    tmp = mkdtempSync(join(tmpdir(), 'sign-web-'));
    const built = await buildWeb({ outDir: join(tmp, 'site') });
    ({ server, url } = await serveDir(built.outDir, 0));
    await initBackend('wasm');
    node = await loadModel(DEFAULT_CHECKPOINT);
    for (let seed = 0; !scene; seed++) {
      const s = makeFashionScenes({ split: 'test', count: 1, seed, layout: 'outfit', size: 64 });
      if (s.labels.filter((l) => l === FASHION_CLASSES.indexOf('bag')).length >= 150) scene = s;
      if (seed > 200) throw new Error('no test scene with a bag in 200 seeds');
    }
    rgba = greyToImage(scene.images, scene.height, scene.width);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 660 } });
    page.on('pageerror', (e) => errors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    node?.dispose();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loads the demo checkpoint and segments an uploaded test scene with the pixel accuracy Node has on it', async () => {
    expect(node.classNames).not.toContain('bag'); // the demo checkpoint was trained without bag
    const { height, width } = scene;
    const png = join(tmp, 'scene.png');
    writeFileSync(png, encodePng(rgba));

    // Node: the same pixels, the same call
    const nodeSeg = await segment(node, { data: rgba.data, width, height, channels: 4 });
    const nodeAcc = pixelAccuracy(nodeSeg, scene.labels);

    await page.goto(url);
    await page.waitForFunction(() => ['ready', 'error'].includes((window as any).signApp?.state), null, { timeout: 90_000 });
    const start = await page.evaluate(() => ({ state: (window as any).signApp.state, error: (window as any).signApp.error, backend: (window as any).signApp.backend }));
    expect(start, JSON.stringify(start)).toMatchObject({ state: 'ready', backend: 'wasm' });

    await page.setInputFiles('#upload', png);
    const hash = fnv1a(rgba.data);
    await page.waitForFunction((h) => (window as any).signApp.state === 'ready' && (window as any).signApp.last?.inputHash === h, hash, { timeout: 60_000 });
    const before = await pageSegmentation(page);
    expect([before.width, before.height]).toEqual([width, height]);
    expect(before.classes).toEqual(nodeSeg.classes);
    const webAcc = pixelAccuracy(before, scene.labels);
    const differ = before.labels.filter((v, i) => v !== nodeSeg.labels[i]).length;
    console.log(`web: pixel accuracy browser ${webAcc.toFixed(6)}, Node ${nodeAcc.toFixed(6)} (${differ} of ${width * height} labels differ)`);
    expect(webAcc).toBe(nodeAcc);
    expect(nodeAcc).toBeGreaterThan(0.5);
    // the mean probabilities: the same to float32 rounding (the browser's reduction order may differ)
    expect(before.scores).toHaveLength(nodeSeg.scores.length);
    before.scores.forEach((v, k) => expect(Math.abs(v - nodeSeg.scores[k]!), nodeSeg.classes[k]).toBeLessThan(1e-6));

    expect(await page.locator('#legend li .name').allTextContents()).toEqual(node.classNames);
    expect(errors).toEqual([]);
  }, 180_000);

  // continues on the page the test above loaded (with the scene uploaded); vitest runs them in order
  it("adds 'bag' typed by name: the legend lists it, and the scene's labels are Node's addClass + segment, with bag in them", async () => {
    const { height, width } = scene;
    // Node: the same embedding row (the table the page bundles), the same defaults (seed: the checkpoint's)
    const t0 = Date.now();
    const withBag = await addClass(node, 'bag', fashionEmbeddings('both', { includeBackground: true }).vector('bag'), { steps: ADD_STEPS });
    const nodeSeconds = (Date.now() - t0) / 1000;
    let nodeSeg: Segmentation;
    try {
      nodeSeg = await segment(withBag, { data: rgba.data, width, height, channels: 4 });
    } finally {
      withBag.dispose();
    }
    const nodeBag = classStats(nodeSeg, scene.labels, 'bag');

    // a name the table lacks is refused, naming it; the page stays usable
    await page.fill('#class-name', 'umbrella');
    await page.click('#add');
    await page.waitForFunction(() => (window as any).signApp.state === 'ready' && (window as any).signApp.error, null, { timeout: 30_000 });
    expect(await page.evaluate(() => (window as any).signApp.error)).toContain("'umbrella' has no embedding in the page's table (both)");
    expect(await page.evaluate(() => (window as any).signApp.model.classNames)).toEqual(node.classNames);

    // 'Bag' finds the table's 'bag'
    await page.fill('#class-name', 'Bag');
    await page.fill('#steps', String(ADD_STEPS));
    await page.click('#add');
    // the page stays live while the classifier is retrained: its status shows the steps (polled by a timer in the page)
    const progress = await page.waitForFunction(() => /step \d+ of \d+, loss/.exec(document.getElementById('status')!.textContent ?? '')?.[0], null, { timeout: 120_000, polling: 50 });
    expect(await progress.jsonValue()).toMatch(new RegExp(`^step \\d+ of ${ADD_STEPS}, loss$`));
    await page.waitForFunction(() => (window as any).signApp.lastAdded && (window as any).signApp.state !== 'busy', null, { timeout: 300_000 });
    const added = await page.evaluate(() => {
      const a = (window as any).signApp;
      return { state: a.state, error: a.error, lastAdded: a.lastAdded, classNames: a.model.classNames, unseen: a.model.unseen, added: a.model.added };
    });
    expect(added.state).toBe('ready');
    expect(added.error).toBeUndefined();
    expect(added.classNames).toEqual([...node.classNames, 'bag']);
    expect(added.unseen).toContain(node.classNames.length);
    expect(added.lastAdded).toMatchObject({ name: 'bag', typed: 'Bag', id: node.classNames.length, steps: ADD_STEPS });
    expect(added.lastAdded.losses).toHaveLength(ADD_STEPS);
    expect(added.added).toHaveLength(1);

    const after = await pageSegmentation(page);
    expect(after.classes).toEqual(nodeSeg.classes);
    const webBag = classStats(after, scene.labels, 'bag');
    const differ = after.labels.filter((v, i) => v !== nodeSeg.labels[i]).length;
    const webAcc = pixelAccuracy(after, scene.labels);
    const nodeAcc = pixelAccuracy(nodeSeg, scene.labels);
    console.log(
      `web: add-class 'bag' (${ADD_STEPS} steps): browser ${added.lastAdded.seconds.toFixed(1)} s in addClass (${added.lastAdded.wallSeconds.toFixed(1)} s with the re-segmentation), Node ${nodeSeconds.toFixed(1)} s; ` +
        `after: pixel accuracy browser ${webAcc.toFixed(6)}, Node ${nodeAcc.toFixed(6)} (${differ} of ${width * height} labels differ); ` +
        `bag pixels browser ${webBag.predicted}, Node ${nodeBag.predicted}; bag IoU browser ${webBag.iou.toFixed(4)}, Node ${nodeBag.iou.toFixed(4)}`,
    );
    expect(webAcc).toBe(nodeAcc);
    expect(webBag).toEqual(nodeBag);
    expect(webBag.predicted).toBeGreaterThan(0); // the new class is used
    expect(webBag.iou).toBeGreaterThan(0);

    // the legend: every class, bag last, tagged as added, with its mean probability
    expect(await page.locator('#legend li .name').allTextContents()).toEqual([...node.classNames, 'bag']);
    const bagRow = page.locator('#legend li[data-class="bag"]');
    expect(await bagRow.locator('.tag').textContent()).toBe('added');
    const k = after.classes.indexOf('bag');
    expect(await bagRow.locator('.score').textContent()).toBe(`${(100 * after.scores[k]!).toFixed(1)} %`);
    expect(after.scores[k]!).toBeGreaterThan(0);

    const shot = process.env.SIGN_WEB_SCREENSHOT ?? join(tmp, 'web.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    expect(errors).toEqual([]);
  }, 600_000);
});
