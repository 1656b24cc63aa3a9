// Full-reference metrics against references no one here wrote: the official MATLAB results
// (../shared/data/calibration/results_official.csv), OpenCV's quality module
// (test/golden/fr_opencv.json, scripts/golden/fr_opencv.mjs) and pyiqa
// (test/golden/fr_pyiqa.json, scripts/golden/fr_pyiqa.py).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gmsd, IqaError, msssim, psnr, ssim } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath, syntheticRgb } from './helpers';

const ref = (k: string) => sharedPath('data/calibration/ref_dir', `${k}.bmp`);
const dist = (k: string) => sharedPath('data/calibration/dist_dir', `${k}.bmp`);

function officialRows(): Record<string, number[]> {
  const lines = readFileSync(sharedPath('data/calibration/results_official.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const rows: Record<string, number[]> = {};
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    rows[cells[0]] = CALIBRATION_IMAGES.map((k) => Number(cells[header.indexOf(`${k}.bmp`)]));
  }
  return rows;
}

const opencv = JSON.parse(readFileSync(join(ROOT, 'test/golden/fr_opencv.json'), 'utf8'));
const pyiqa = JSON.parse(readFileSync(join(ROOT, 'test/golden/fr_pyiqa.json'), 'utf8'));

describe.skipIf(!HAS_SHARED)(`official MATLAB results ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  const official = HAS_SHARED ? officialRows() : {};
  const pairs = CALIBRATION_IMAGES.map((k) => [ref(k), dist(k)] as const);

  it('psnr (default: MSE over the R,G,B channels) matches the psnr row to its 2 decimals', async () => {
    const got = await psnr.batch(pairs);
    got.forEach((v, i) => expect(Math.abs(v - official.psnr[i])).toBeLessThanOrEqual(0.005));
    // The grey (MATLAB rgb2gray) PSNR is a different quantity: I04 gives ~52 dB, not 20.99.
    expect(await psnr(ref('I04'), dist('I04'), { channels: 'gray' })).toBeGreaterThan(50);
  });

  it('ssim (no downsampling) matches the ssim row within 1e-4', async () => {
    const got = await ssim.batch(pairs);
    got.forEach((v, i) => expect(Math.abs(v - official.ssim[i])).toBeLessThan(1e-4));
  });

  it("ms-ssim matches the ms_ssim row within 1e-4 with method 'wtd_sum' (not with 'product')", async () => {
    const got = await msssim.batch(pairs, { method: 'wtd_sum' });
    got.forEach((v, i) => expect(Math.abs(v - official.ms_ssim[i])).toBeLessThan(1e-4));
    const prod = await msssim(ref('I03'), dist('I03'));
    expect(Math.abs(prod - official.ms_ssim[0])).toBeGreaterThan(1e-3);
  });

  it('gmsd matches the gmsd row within 1e-4 (in fact 1e-8)', async () => {
    const got = await gmsd.batch(pairs);
    got.forEach((v, i) => expect(Math.abs(v - official.gmsd[i])).toBeLessThan(1e-8));
  });

  // pyiqa builds its Gaussian window in float32, hence ~3e-7 differences.
  it('ssim downsample option and ms-ssim product agree with pyiqa (relu clamp disabled) within 1e-6', async () => {
    for (const k of CALIBRATION_IMAGES) {
      const w = pyiqa.pairs[k].wang;
      expect(Math.abs((await ssim(ref(k), dist(k))) - w.ssim)).toBeLessThan(1e-6);
      expect(Math.abs((await ssim(ref(k), dist(k), { downsample: true })) - w.ssim_downsample)).toBeLessThan(1e-6);
      expect(Math.abs((await msssim(ref(k), dist(k))) - w.ms_ssim_product)).toBeLessThan(1e-6);
    }
  });

  it('iqa compare --metric psnr|ssim|ms-ssim|gmsd prints the score', () => {
    const cli = join(ROOT, 'dist/cjs/cli/index.js');
    const expected: Record<string, [number, number]> = { psnr: [official.psnr[0], 0.005], ssim: [official.ssim[0], 1e-4], gmsd: [official.gmsd[0], 1e-6], 'ms-ssim': [0.669979, 1e-5] };
    for (const [metric, [value, tol]] of Object.entries(expected)) {
      const j = JSON.parse(execFileSync(process.execPath, [cli, 'compare', '--metric', metric, ref('I03'), dist('I03')], { encoding: 'utf8' }));
      expect(j.metric).toBe(metric);
      expect(Math.abs(j.score - value)).toBeLessThan(tol);
    }
  });
});

describe.skipIf(!HAS_SHARED)(`OpenCV quality module ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  const rev = (a: number[]) => [...a].reverse(); // OpenCV reports BGR, we report R,G,B

  it("ssim {channels:'rgb', border:'reflect101'} equals QualitySSIM per channel", async () => {
    let worstU8 = 0;
    for (const k of CALIBRATION_IMAGES) {
      const d = await ssim.detail(ref(k), dist(k), { channels: 'rgb', border: 'reflect101', maps: true });
      const f64 = rev(opencv.pairs[k].ssim_f64), u8 = rev(opencv.pairs[k].ssim_u8);
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(d.channels[c] - f64[c])).toBeLessThan(1e-9); // OpenCV in double
        worstU8 = Math.max(worstU8, Math.abs(d.channels[c] - u8[c]));
      }
      expect(d.score).toBeCloseTo((d.channels[0] + d.channels[1] + d.channels[2]) / 3, 12);
      const blue = d.maps[2];
      expect([blue.width, blue.height]).toEqual([opencv.pairs[k].ssim_f64_map.width, opencv.pairs[k].ssim_f64_map.height]);
    }
    // OpenCV's 8-bit path computes in float32: it is the one off, by ~1e-6.
    expect(worstU8).toBeLessThan(5e-6);
  });

  it("gmsd {channels:'rgb'}: same map as QualityGMSD; OpenCV's score is the population std", async () => {
    for (const k of CALIBRATION_IMAGES) {
      const d = await gmsd.detail(ref(k), dist(k), { channels: 'rgb', maps: true });
      const f64 = rev(opencv.pairs[k].gmsd_f64), u8 = rev(opencv.pairs[k].gmsd_u8);
      const blue = d.maps[2];
      const n = blue.width * blue.height;
      for (let c = 0; c < 3; c++) {
        const population = d.channels[c] * Math.sqrt((n - 1) / n);
        expect(Math.abs(population - f64[c])).toBeLessThan(1e-9);
        expect(Math.abs(population - u8[c])).toBeLessThan(1e-6);
      }
      const m = opencv.pairs[k].gmsd_f64_map;
      expect([blue.width, blue.height]).toEqual([m.width, m.height]);
      const mean = blue.data.reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(mean - m.mean)).toBeLessThan(1e-9);
    }
  });

  it('psnr (R,G,B pooled) equals the pooled QualityPSNR channel MSEs', async () => {
    for (const k of CALIBRATION_IMAGES) {
      const mse = opencv.pairs[k].psnr_u8.map((p: number) => (255 * 255) / 10 ** (p / 10));
      const pooled = 10 * Math.log10((255 * 255) / ((mse[0] + mse[1] + mse[2]) / 3));
      expect(Math.abs((await psnr(ref(k), dist(k))) - pooled)).toBeLessThan(1e-6);
    }
  });
});

describe('full-reference input checks', () => {
  const rgb = (w: number, h: number, seed = 1) => syntheticRgb(w, h, seed);
  const gray = (w: number, h: number) => ({ data: new Uint8Array(w * h).fill(100), width: w, height: h, channels: 1 as const });

  it('size mismatch rejects with ERR_INPUT for every metric', async () => {
    for (const fn of [psnr, ssim, msssim, gmsd]) {
      const e = await fn(rgb(200, 200), rgb(201, 200)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IqaError);
      expect((e as IqaError).code).toBe('ERR_INPUT');
      expect((e as IqaError).message).toMatch(/200x200.*201x200/);
    }
  });

  it('channel mismatch rejects with ERR_INPUT for every metric', async () => {
    for (const fn of [psnr, ssim, msssim, gmsd]) {
      const e = await fn(rgb(200, 200), gray(200, 200)).catch((x: unknown) => x);
      expect((e as IqaError).code).toBe('ERR_INPUT');
      expect((e as IqaError).message).toMatch(/channels/);
    }
  });

  it('images too small for the window reject with ERR_INPUT', async () => {
    const cases: [typeof ssim, number, RegExp][] = [
      [ssim, 10, /smaller than the 11x11/],
      [msssim, 175, /at least 176x176/],
      [gmsd, 3, /at least 4x4/],
    ];
    for (const [fn, size, msg] of cases) {
      const e = await fn(rgb(size, size), rgb(size, size, 2)).catch((x: unknown) => x);
      expect((e as IqaError).code).toBe('ERR_INPUT');
      expect((e as IqaError).message).toMatch(msg);
    }
    // One pixel larger works.
    expect(await ssim(rgb(11, 11), rgb(11, 11, 2))).toBeLessThan(1);
    expect(await msssim(rgb(176, 176), rgb(176, 176, 2))).toBeLessThan(1);
  });

  it('unknown option values reject with ERR_INPUT', async () => {
    const e = await ssim(rgb(20, 20), rgb(20, 20), { border: 'zero' as never }).catch((x: unknown) => x);
    expect((e as IqaError).code).toBe('ERR_INPUT');
  });

  it('batch keeps per-item errors; identical images score 1 / 0', async () => {
    const a = rgb(64, 48), b = rgb(64, 48, 3);
    const s = await ssim.batchSettled([
      [a, a],
      [a, b],
      [a, rgb(10, 10)],
    ]);
    expect(s.scores[0]).toBe(1);
    expect(s.scores[1]).toBeLessThan(1);
    expect(Number.isNaN(s.scores[2])).toBe(true);
    expect(s.errors[2]?.code).toBe('ERR_INPUT');
    expect(await gmsd(a, a)).toBe(0);
  });

  it('ssim map has the valid-region size and its mean is the score', async () => {
    const a = rgb(64, 48), b = rgb(64, 48, 3);
    const d = await ssim.detail(a, b, { maps: true });
    expect([d.maps[0].width, d.maps[0].height]).toEqual([54, 38]);
    const mean = d.maps[0].data.reduce((x, y) => x + y, 0) / d.maps[0].data.length;
    expect(mean).toBeCloseTo(d.score, 12);
    expect((await msssim.detail(rgb(200, 180), rgb(200, 180, 2), { maps: true })).maps).toHaveLength(5);
  });
});
