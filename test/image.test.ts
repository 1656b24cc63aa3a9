// The shared conversion path against independent references (scripts/golden/image_golden.py:
// opencv-python for decode/cvtColor/resize, MathWorks' rgb2gray coefficients, pyiqa's MATLAB
// imresize port).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess, type DecodedImage } from '../lib';
import { ROOT } from './helpers';

const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/image.json'), 'utf8'));
const fixture = (name: string) => join(ROOT, 'test/fixtures/images', name);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('decode', () => {
  for (const [name, g] of Object.entries<any>(golden.decode)) {
    it(`${name} decodes like OpenCV (path and Buffer)`, async () => {
      for (const input of [fixture(name), readFileSync(fixture(name))]) {
        const img: DecodedImage = await preprocess(input);
        expect([img.width, img.height, img.channels]).toEqual([g.width, g.height, g.channels]);
        expect(img.data.constructor.name).toBe(g.dtype === 'uint16' ? 'Uint16Array' : 'Uint8Array');
        expect(maxAbsDiff(img.data, g.data)).toBeLessThanOrEqual(g.tolerance);
      }
    });
  }
});

describe('colour conversion', () => {
  it('MATLAB rgb2gray (uint8, rounded) matches the documented coefficients exactly', async () => {
    const img = await preprocess(fixture('rgb8.png'), { gray: 'matlab' });
    expect(img.channels).toBe(1);
    expect(maxAbsDiff(img.data, golden.rgb2gray_matlab)).toBe(0);
  });
  it('OpenCV BGR2GRAY matches cv2.cvtColor', async () => {
    const img = await preprocess(fixture('rgb8.png'), { gray: 'opencv' });
    expect(maxAbsDiff(img.data, golden.rgb2gray_opencv)).toBe(0);
  });
  it('raw RGB, BGR and RGBA pixels give the same grey as the decoded file', async () => {
    const bgr = await preprocess(fixture('rgb8.png'));
    const n = bgr.width * bgr.height;
    const rgb = new Uint8Array(n * 3);
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        rgb[i * 3 + c] = bgr.data[i * 3 + 2 - c];
        rgba[i * 4 + c] = bgr.data[i * 3 + 2 - c];
      }
      rgba[i * 4 + 3] = 255;
    }
    const size = { width: bgr.width, height: bgr.height };
    for (const raw of [
      { data: rgb, ...size, channels: 3 as const, order: 'rgb' as const },
      { data: bgr.data as Uint8Array, ...size, channels: 3 as const, order: 'bgr' as const },
      { data: rgba, ...size, channels: 4 as const, order: 'rgba' as const },
    ]) {
      const g = await preprocess(raw, { gray: 'matlab' });
      expect(maxAbsDiff(g.data, golden.rgb2gray_matlab)).toBe(0);
    }
  });
  it('float raw input in [0,1] equals the 8-bit image scaled', async () => {
    const bgr = await preprocess(fixture('rgb8.png'));
    const f = Float32Array.from(bgr.data, (v) => v / 255);
    const out = await preprocess({ data: f, width: bgr.width, height: bgr.height, channels: 3, order: 'bgr' }, { float: 255 });
    expect(maxAbsDiff(out.data, bgr.data)).toBeLessThan(1e-4);
  });
  it('an opencv4nodejs-style Mat (duck-typed) is read as BGR', async () => {
    const bgr = await preprocess(fixture('rgb8.png'));
    const mat = { rows: bgr.height, cols: bgr.width, type: 16 /* CV_8UC3 */, getData: () => Buffer.from(bgr.data as Uint8Array) };
    const g = await preprocess(mat, { gray: 'matlab' });
    expect(maxAbsDiff(g.data, golden.rgb2gray_matlab)).toBe(0);
  });
});

describe('resize', () => {
  for (const [key, ref] of Object.entries<number[]>(golden.resize)) {
    it(`${key} matches cv2.resize on float64`, async () => {
      const [interp, size] = key.split('_');
      const [width, height] = size.split('x').map(Number);
      const img = await preprocess(fixture('rgb8.png'), { float: 1, resize: { width, height, interp: interp as 'area' } });
      // OpenCV keeps bilinear coefficients in float32 (and its versions differ there): 1e-6.
      expect(maxAbsDiff(img.data, ref)).toBeLessThan(interp === 'bilinear' ? 1e-6 : 1e-9);
    });
  }
  for (const [size, ref] of Object.entries<number[]>(golden.imresize_matlab)) {
    it(`MATLAB imresize bicubic+antialias to ${size} matches pyiqa's port`, async () => {
      const [width, height] = size.split('x').map(Number);
      const img = await preprocess(fixture('rgb8.png'), { gray: 'matlab', float: 255, resize: { width, height, interp: 'matlab-bicubic' } });
      expect(img.data).toBeInstanceOf(Float64Array);
      expect(maxAbsDiff(img.data, ref)).toBeLessThan(1e-9);
    });
  }
});

describe('MATLAB imresize(img, 0.5)', () => {
  it('scale 0.5 (size ceil(n/2)) matches pyiqa', async () => {
    const g = golden.imresize_matlab_half;
    const img = await preprocess(fixture('rgb8.png'), { gray: 'matlab', float: 255, resize: { scale: 0.5, interp: 'matlab-bicubic' } });
    expect([img.width, img.height]).toEqual([g.width, g.height]);
    expect(maxAbsDiff(img.data, g.data)).toBeLessThan(1e-9);
  });
});

describe('crop', () => {
  it('matches numpy slicing', async () => {
    const { x, y, width, height, data } = golden.crop;
    const img = await preprocess(fixture('rgb8.png'), { crop: { x, y, width, height } });
    expect(maxAbsDiff(img.data, data)).toBe(0);
  });
  it('outside the image rejects with ERR_INPUT', async () => {
    await expect(preprocess(fixture('rgb8.png'), { crop: { x: 30, y: 0, width: 20, height: 5 } })).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });
});

describe('NCHW tensor packing', () => {
  it('RGB with ImageNet mean/std matches numpy', async () => {
    const t = await preprocess(fixture('rgb8.png'), { tensor: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
    expect(t.dims).toEqual([1, 3, 29, 37]);
    expect(maxAbsDiff(t.data, golden.tensor_imagenet)).toBeLessThan(1e-5);
  });
  it('one grey channel', async () => {
    const t = await preprocess(fixture('gray8.png'), { tensor: { channels: 1, mean: [0.5, 0, 0], std: [1, 1, 1] } });
    expect(t.dims).toEqual([1, 1, 29, 37]);
    expect(maxAbsDiff(t.data, golden.tensor_gray)).toBeLessThan(1e-6);
  });
  it('a zero std rejects with ERR_INPUT', async () => {
    await expect(preprocess(fixture('rgb8.png'), { tensor: { std: [0, 1, 1] } })).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });
});
