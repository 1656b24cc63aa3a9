// iqa-node/ssim.js and iqa-node/image-ssim against the packages they replace, run side by side
// (ssim.js 3.5.0 and image-ssim 0.2.0 are devDependencies).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { preprocess } from '../dist/cjs/index.js';
import * as ours from '../dist/cjs/compat/ssimjs.js';
import * as oursImageSsim from '../dist/cjs/compat/image-ssim.js';
import { CALIBRATION_IMAGES, HAS_SHARED, ROOT, rng, sharedPath } from './helpers';

/** Runs an ES module snippet in a real Node process (vitest's import() is Vite's, not Node's). */
const esm = (code: string) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' }).trim();

const require = createRequire(import.meta.url);
const ssimJs = require('ssim.js') as typeof ours;
const imageSsim = require('image-ssim') as typeof oursImageSsim;

type Img = { data: Uint8ClampedArray; width: number; height: number };

/** Smooth gradients plus noise, RGBA, deterministic; `dist` adds blur-like and noise changes. */
function generated(width: number, height: number, seed: number): [Img, Img] {
  const r = rng(seed);
  const a = new Uint8ClampedArray(width * height * 4), b = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 4; c++) {
        const i = (y * width + x) * 4 + c;
        if (c === 3) {
          a[i] = 255;
          b[i] = 255;
          continue;
        }
        const v = 128 + 90 * Math.sin((x * (c + 2)) / 19 + (y * (3 - c)) / 13) + 40 * (r() - 0.5);
        a[i] = v;
        b[i] = v + 30 * (r() - 0.5) + (x > width / 2 ? 20 : 0);
      }
  return [
    { data: a, width, height },
    { data: b, width, height },
  ];
}

async function calibrationRgba(k: string): Promise<[Img, Img]> {
  const load = async (p: string): Promise<Img> => {
    const im = await preprocess(p);
    const n = im.width * im.height;
    const src = im.data as Uint8Array;
    const out = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      out[4 * i] = src[3 * i + 2];
      out[4 * i + 1] = src[3 * i + 1];
      out[4 * i + 2] = src[3 * i];
      out[4 * i + 3] = 255;
    }
    return { data: out, width: im.width, height: im.height };
  };
  return [await load(sharedPath('data/calibration/ref_dir', `${k}.bmp`)), await load(sharedPath('data/calibration/dist_dir', `${k}.bmp`))];
}

const MODES = ['weber', 'fast', 'original', 'bezkrovny'] as const;

function expectSame(a: Img | { data: ArrayLike<number>; width: number; height: number }, b: typeof a, options: object) {
  const theirs = ssimJs.ssim(a as never, b as never, options);
  const mine = ours.ssim(a as never, b as never, options);
  const label = JSON.stringify({ size: `${a.width}x${a.height}`, ...options });
  expect(Math.abs(mine.mssim - theirs.mssim), label).toBeLessThan(1e-6);
  expect(Object.keys(mine.ssim_map), label).toEqual(Object.keys(theirs.ssim_map));
  expect(Array.isArray(mine.ssim_map.data)).toBe(true);
  expect([mine.ssim_map.width, mine.ssim_map.height], label).toEqual([theirs.ssim_map.width, theirs.ssim_map.height]);
  expect(mine.ssim_map.data.length, label).toBe(theirs.ssim_map.data.length);
  let worst = 0;
  for (let i = 0; i < theirs.ssim_map.data.length; i++) {
    const t = theirs.ssim_map.data[i], m = mine.ssim_map.data[i];
    if (Number.isNaN(t)) expect(Number.isNaN(m), label).toBe(true);
    else worst = Math.max(worst, Math.abs(t - m));
  }
  expect(worst, label).toBeLessThan(1e-5);
  if ('mssim' in theirs.ssim_map) expect(Math.abs((mine.ssim_map as { mssim: number }).mssim - theirs.ssim_map.mssim)).toBeLessThan(1e-6);
  expect(typeof mine.performance).toBe('number');
}

describe('iqa-node/ssim.js vs ssim.js 3.5.0', () => {
  it.skipIf(!HAS_SHARED)('calibration pairs, every mode, default and non-default options', async () => {
    for (const k of CALIBRATION_IMAGES.slice(0, 3)) {
      const [a, b] = await calibrationRgba(k);
      for (const ssim of MODES) {
        expectSame(a, b, { ssim });
        expectSame(a, b, { ssim, downsample: false });
      }
    }
    const [a, b] = await calibrationRgba('I19');
    for (const ssim of MODES) {
      expectSame(a, b, { ssim, rgb2grayVersion: 'original', windowSize: 8, maxSize: 100 });
      expectSame(a, b, { ssim, k1: 0.02, k2: 0.05, bitDepth: 10, downsample: 'fast' });
    }
  });

  it('generated images of odd sizes, every mode', () => {
    const sizes: [number, number][] = [
      [37, 23],
      [258, 131],
      [601, 387],
      [777, 555],
    ];
    sizes.forEach(([w, h], i) => {
      const [a, b] = generated(w, h, i + 1);
      for (const ssim of MODES) {
        expectSame(a, b, { ssim });
        expectSame(a, b, { ssim, windowSize: 7, downsample: false, rgb2grayVersion: 'original' });
      }
    });
    // f = round(1030 / 256) = 4 with maxSize 256 default; 3 with maxSize 300
    const [a, b] = generated(1031, 1030, 9);
    for (const ssim of ['weber', 'fast', 'bezkrovny'] as const) {
      expectSame(a, b, { ssim });
      expectSame(a, b, { ssim, maxSize: 300, windowSize: 9 });
    }
  });

  it('edge options: UQI (k1 = 0 / k2 = 0), windowSize 1, window as tall as the image, empty map', () => {
    const [a, b] = generated(61, 47, 11);
    for (const ssim of MODES)
      for (const o of [{ k1: 0 }, { k1: 0, k2: 0 }, { windowSize: 1 }, { windowSize: 47 }, { windowSize: 47, downsample: false }]) expectSame(a, b, { ssim, ...o });
    expectSame(a, b, { ssim: 'weber', windowSize: 48, downsample: false }); // 14x0 map, mssim 0
  });

  it('ssimAsync resolves with what ssim returns and rejects the same errors', async () => {
    const [a, b] = generated(129, 77, 4);
    for (const ssim of MODES) {
      const sync = ours.ssim(a, b, { ssim });
      const async = await ours.ssimAsync(a, b, { ssim });
      expect(async.mssim).toBe(sync.mssim);
      expect(async.ssim_map).toEqual(sync.ssim_map);
    }
    const [c] = generated(130, 77, 4);
    await expect(ours.ssimAsync(a, c)).rejects.toThrow('Image dimensions do not match');
  });

  it('image forms: Uint8ClampedArray, Buffer, plain array, Float32Array', () => {
    const [a, b] = generated(41, 29, 5);
    expectSame({ ...a, data: Buffer.from(a.data) } as never, { ...b, data: Buffer.from(b.data) } as never, {});
    expectSame({ ...a, data: Array.from(a.data) } as never, { ...b, data: Array.from(b.data) } as never, { ssim: 'fast' });
    expectSame({ ...a, data: Float32Array.from(a.data) } as never, { ...b, data: Float32Array.from(b.data) } as never, { rgb2grayVersion: 'original' });
  });

  it('same errors: mismatched sizes, unknown option, bad k1/k2, bad mode', () => {
    const [a] = generated(40, 30, 1);
    const [c] = generated(41, 30, 2);
    const cases: [Img, Img, object][] = [
      [a, c, {}],
      [a, { ...c, width: 40, height: 31 }, {}],
      [a, a, { nope: 1 }],
      [a, a, { k1: -1 }],
      [a, a, { k2: 'x' }],
      [a, a, { ssim: 'slow' }],
    ];
    for (const [x, y, o] of cases) {
      let theirs: unknown, mine: unknown;
      try {
        ssimJs.ssim(x as never, y as never, o as never);
      } catch (e) {
        theirs = e;
      }
      try {
        ours.ssim(x as never, y as never, o as never);
      } catch (e) {
        mine = e;
      }
      expect(theirs).toBeInstanceOf(Error);
      expect(mine).toBeInstanceOf(Error);
      expect((mine as Error).message).toBe((theirs as Error).message);
    }
  });

  it('exports: named ssim, default, CJS and ESM subpath', () => {
    const cjs = require('iqa-node/ssim.js');
    expect(cjs.default).toBe(cjs.ssim);
    const out = esm(
      "import ssim, { ssim as named } from 'iqa-node/ssim.js'; import { createRequire } from 'node:module';" +
        "const cjs = createRequire(import.meta.url)('iqa-node/ssim.js');" +
        'const img = { data: new Uint8ClampedArray(30 * 20 * 4).map((_, i) => (i * 37) % 256), width: 30, height: 20 };' +
        "console.log(typeof ssim, ssim === named, named === cjs.ssim, ssim(img, img).mssim);",
    );
    expect(out).toBe('function true true 1');
  });
});

describe('iqa-node/image-ssim vs image-ssim 0.2.0', () => {
  function channelsOf(img: Img, channels: 1 | 2 | 3 | 4): { data: Uint8Array; width: number; height: number; channels: number } {
    const n = img.width * img.height;
    const data = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < channels; c++) data[i * channels + c] = img.data[i * 4 + (channels === 2 && c === 1 ? 3 : c)] - (c === 3 || (channels === 2 && c === 1) ? (i % 7) * 9 : 0);
    return { data, width: img.width, height: img.height, channels };
  }

  function same(a: object, b: object, args: unknown[] = []) {
    const t = imageSsim.compare(a as never, b as never, ...(args as []));
    const m = oursImageSsim.compare(a as never, b as never, ...(args as []));
    const label = JSON.stringify(args);
    expect(Math.abs(m.ssim - t.ssim), label).toBeLessThan(1e-6);
    expect(Math.abs(m.mcs - t.mcs), label).toBeLessThan(1e-6);
    expect(Object.keys(m)).toEqual(Object.keys(t));
  }

  it.skipIf(!HAS_SHARED)('calibration pairs, RGBA and RGB', async () => {
    for (const k of CALIBRATION_IMAGES) {
      const [a, b] = await calibrationRgba(k);
      same({ ...a, channels: 4 }, { ...b, channels: 4 });
      same(channelsOf(a, 3), channelsOf(b, 3), [11]);
    }
  });

  it('generated odd sizes, every channel count and argument', () => {
    for (const [w, h] of [
      [37, 23],
      [301, 199],
    ] as const) {
      const [a, b] = generated(w, h, w);
      for (const ch of [1, 2, 3, 4] as const) {
        same(channelsOf(a, ch), channelsOf(b, ch));
        same(channelsOf(a, ch), channelsOf(b, ch), [7, 0.02, 0.04, false, 8]);
        same(channelsOf(a, ch), channelsOf(b, ch), [16, 0.01, 0.03, true, 16]);
      }
      same({ ...channelsOf(a, 3), data: Array.from(channelsOf(a, 3).data) }, { ...channelsOf(b, 3), data: Array.from(channelsOf(b, 3).data) }, [5]);
    }
  });

  it('same error for different sizes', () => {
    const [a] = generated(20, 20, 1);
    const [c] = generated(21, 20, 1);
    expect(() => imageSsim.compare({ ...a, channels: 4 }, { ...c, channels: 4 })).toThrow('Images have different sizes!');
    expect(() => oursImageSsim.compare({ ...a, channels: 4 }, { ...c, channels: 4 })).toThrow('Images have different sizes!');
  });

  it('exports compare and Channels from the subpath, CJS and ESM', () => {
    const cjs = require('iqa-node/image-ssim');
    expect(cjs.Channels.RGBAlpha).toBe(4);
    expect(esm("import { compare, Channels } from 'iqa-node/image-ssim'; console.log(typeof compare, Channels.RGB)")).toBe('function 3');
  });
});
