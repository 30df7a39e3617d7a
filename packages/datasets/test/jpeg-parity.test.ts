/**
 * JPEG pixels as the release reads them: nodeIo (sharp) against OpenCV's cv2.imread on the same
 * files (fixtures/jpeg.json, scripts/make-jpeg-fixtures.py, OpenCV 4.6 with Debian's libjpeg-turbo).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeIo } from '../src/node';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'jpeg.json'), 'utf8')) as {
  cases: Array<{ name: string; height: number; width: number; grey: boolean; jpeg: string; rgb: string }>;
};
const dir = mkdtempSync(join(tmpdir(), 'sign-jpeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JPEG decoding matches OpenCV (cv2.imread, IMREAD_COLOR)', () => {
  for (const [i, c] of fixture.cases.entries()) {
    it(`${c.name}: every value identical`, async () => {
      const path = join(dir, `${i}.jpg`);
      writeFileSync(path, Buffer.from(c.jpeg, 'base64'));
      const d = await nodeIo.decodeImage(path);
      expect([d.height, d.width, d.channels]).toEqual([c.height, c.width, c.grey ? 1 : 3]);
      // a grey file: the datasets replicate it to three channels, as IMREAD_COLOR does
      const rgb = c.grey ? Uint8Array.from({ length: d.data.length * 3 }, (_, k) => d.data[Math.floor(k / 3)]!) : d.data;
      const want = new Uint8Array(Buffer.from(c.rgb, 'base64'));
      let differ = 0;
      for (let k = 0; k < want.length; k++) if (rgb[k] !== want[k]) differ++;
      expect(differ).toBe(0);
    });
  }
});
