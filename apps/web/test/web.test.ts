/**
 * The page in a real browser: Debian's chromium, headless, driven by playwright-core (no browser
 * download). It loads the demo checkpoint (fixtures/demo.safetensors: `sign demo --exclude-classes
 * bag`, exported by scripts/export-checkpoint.ts) and segments an uploaded test scene with the
 * same pixel accuracy as Node on the same scene (the same code, on Node's wasm backend). A
 * screenshot goes to $SIGN_WEB_SCREENSHOT (docs/web.png was made so) or the temp folder.
 *
 * Without chromium the browser part is skipped with a message, unless SIGN_REQUIRE_CHROMIUM is
 * set (CI installs chromium and sets it, so there it fails instead).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_CLASSES, encodePng, greyToImage } from '@sign/data';
import { makeFashionScenes } from '@sign/data/node';
import { initBackend } from '@sign/core';
import type { TrainedModel } from '@sign/trainer';
import { loadModel } from '@sign/trainer/node';
import { colorOf, colorize } from '../src/colors';
import { segmentImage, type PageSegmentation } from '../src/segment';
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

describe.skipIf(!CHROMIUM && !REQUIRE)('the page in headless chromium (wasm backend)', () => {
  let tmp: string;
  let server: Server | undefined;
  let url: string;
  let node: TrainedModel;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('chromium not found (apt-get install chromium, or set CHROMIUM_PATH); SIGN_REQUIRE_CHROMIUM is set');
    tmp = mkdtempSync(join(tmpdir(), 'sign-web-'));
    const built = await buildWeb({ outDir: join(tmp, 'site') });
    ({ server, url } = await serveDir(built.outDir, 0));
    await initBackend('wasm');
    node = await loadModel(DEFAULT_CHECKPOINT);
  });

  afterAll(() => {
    node?.dispose();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('loads the demo checkpoint and segments an uploaded test scene with the pixel accuracy Node has on it', async () => {
    expect(node.classNames).not.toContain('bag'); // the demo checkpoint was trained without bag
    // the first test scene with a bag in it (deterministic)
    let scene: ReturnType<typeof makeFashionScenes> | undefined;
    for (let seed = 0; !scene; seed++) {
      const s = makeFashionScenes({ split: 'test', count: 1, seed, layout: 'outfit', size: 64 });
      if (s.labels.filter((l) => l === FASHION_CLASSES.indexOf('bag')).length >= 150) scene = s;
      if (seed > 200) throw new Error('no test scene with a bag in 200 seeds');
    }
    const { height, width } = scene;
    const rgba = greyToImage(scene.images, height, width);
    const png = join(tmp, 'scene.png');
    writeFileSync(png, encodePng(rgba));

    // Node: the same pixels, the same call
    const nodeSeg = await segmentImage(node, { data: rgba.data, width, height, channels: 4 });
    const nodeAcc = pixelAccuracy(nodeSeg, scene.labels);

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(() => ['ready', 'error'].includes((window as any).signApp?.state), null, { timeout: 90_000 });
      const start = await page.evaluate(() => ({ state: (window as any).signApp.state, error: (window as any).signApp.error, backend: (window as any).signApp.backend }));
      expect(start, JSON.stringify(start)).toMatchObject({ state: 'ready', backend: 'wasm' });

      await page.setInputFiles('#upload', png);
      const hash = fnv1a(rgba.data);
      await page.waitForFunction((h) => (window as any).signApp.state === 'ready' && (window as any).signApp.last?.inputHash === h, hash, { timeout: 60_000 });
      const before = await page.evaluate(() => {
        const l = (window as any).signApp.last as PageSegmentation;
        return { labels: Array.from(l.labels), classes: l.classes, width: l.width, height: l.height };
      });
      expect([before.width, before.height]).toEqual([width, height]);
      expect(before.classes).toEqual(nodeSeg.classes);
      const webAcc = pixelAccuracy(before, scene.labels);
      const differ = before.labels.filter((v, i) => v !== nodeSeg.labels[i]).length;
      console.log(`web: pixel accuracy browser ${webAcc.toFixed(6)}, Node ${nodeAcc.toFixed(6)} (${differ} of ${width * height} labels differ)`);
      expect(webAcc).toBe(nodeAcc);
      expect(nodeAcc).toBeGreaterThan(0.5);

      expect(await page.locator('#legend li .name').allTextContents()).toEqual(node.classNames);

      const shot = process.env.SIGN_WEB_SCREENSHOT ?? join(tmp, 'web.png');
      await page.screenshot({ path: shot });
      expect(existsSync(shot)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
