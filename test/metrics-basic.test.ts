// sharpness and PSNR end to end (input -> native -> Promise) against cv2 and scikit-image
// (scripts/golden/metrics_basic_golden.py) and the official PSNR row.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { psnr, sharpness } from '../lib';
import { CALIBRATION_IMAGES, HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/metrics_basic.json'), 'utf8'));

describe('sharpness (variance of Laplacian)', () => {
  for (const name of ['rgb8.png', 'rgb8.bmp', 'rgb8.tiff', 'rgb8.webp']) {
    it(`${name} matches cv2`, async () => {
      const s = await sharpness(join(ROOT, 'test/fixtures/images', name));
      expect(Math.abs(s - golden.sharpness[`fixtures/${name}`])).toBeLessThan(1e-9 * golden.sharpness[`fixtures/${name}`]);
    });
  }
  it('is higher for a sharper image', async () => {
    const [a, b] = await sharpness.batch([join(ROOT, 'test/fixtures/images/rgb8.png'), { data: new Uint8Array(64 * 64).fill(90), width: 64, height: 64 }]);
    expect(a).toBeGreaterThan(b);
    expect(b).toBe(0);
  });
  it('16-bit and float inputs score on the same 0-255 scale as 8-bit', async () => {
    const png8 = join(ROOT, 'test/fixtures/images/rgb8.png');
    const png16 = join(ROOT, 'test/fixtures/images/rgb16.png');
    const s8 = await sharpness(png8);
    const s16 = await sharpness(png16); // rgb16 = rgb8 * 257 + small noise
    expect(Math.abs(s16 - s8) / s8).toBeLessThan(0.05);
    const f = await sharpness({ data: new Float32Array(32 * 32).map((_, i) => (i % 7) / 7), width: 32, height: 32 });
    expect(Number.isFinite(f) && f > 0).toBe(true);
  });
  it('rejects an image smaller than 3x3 with ERR_INPUT', async () => {
    await expect(sharpness({ data: new Uint8Array(4), width: 2, height: 2 })).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });
});

describe.skipIf(!HAS_SHARED)(`calibration images ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  const official = HAS_SHARED
    ? Object.fromEntries(
        readFileSync(sharedPath('data/calibration/results_official.csv'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(','))
          .map(([k, ...v]) => [k, v.map(Number)]),
      )
    : {};

  it('sharpness batch matches cv2 on all five', async () => {
    const scores = await sharpness.batch(CALIBRATION_IMAGES.map((n) => sharedPath(`data/calibration/dist_dir/${n}.bmp`)));
    CALIBRATION_IMAGES.forEach((n, i) => expect(scores[i]).toBeCloseTo(golden.sharpness[`calibration/${n}.bmp`], 9));
  });

  it('psnr matches scikit-image to 1e-10 and the official row to its 2 decimals', async () => {
    const pairs = CALIBRATION_IMAGES.map((n) => [sharedPath(`data/calibration/ref_dir/${n}.bmp`), sharedPath(`data/calibration/dist_dir/${n}.bmp`)] as const);
    const scores = await psnr.batch(pairs);
    CALIBRATION_IMAGES.forEach((n, i) => {
      expect(Math.abs(scores[i] - golden.psnr[`calibration/${n}.bmp`])).toBeLessThan(1e-10);
      expect(Math.abs(scores[i] - official.psnr[i])).toBeLessThanOrEqual(0.005 + 1e-9);
    });
  });

  it('psnr of an image with itself is Infinity', async () => {
    const p = sharedPath('data/calibration/ref_dir/I03.bmp');
    expect(await psnr(p, p)).toBe(Infinity);
  });
});

describe('psnr input checks', () => {
  it('size mismatch rejects with ERR_INPUT', async () => {
    const a = { data: new Uint8Array(30 * 20 * 3), width: 30, height: 20 };
    const b = { data: new Uint8Array(20 * 30 * 3), width: 20, height: 30 };
    await expect(psnr(a, b)).rejects.toMatchObject({ code: 'ERR_INPUT', message: expect.stringMatching(/30x20.*20x30/) });
  });
  it('channel mismatch rejects with ERR_INPUT', async () => {
    const a = { data: new Uint8Array(30 * 20 * 3), width: 30, height: 20 };
    const b = { data: new Uint8Array(30 * 20), width: 30, height: 20 };
    await expect(psnr(a, b)).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });
});
