// The 'tf-gaussian' resize (native/core/image/tf_resize.cpp) against TensorFlow's own
// tf.image.resize(method='gaussian', antialias=True) on the same float pixels, every output pixel
// (test/golden/tf_gaussian_resize.{json,bin} from scripts/golden/tf_resize_golden.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess } from '../dist/cjs/index.js';
import { ROOT } from './helpers';

const index = JSON.parse(readFileSync(join(ROOT, 'test/golden/tf_gaussian_resize.json'), 'utf8')) as { cases: { file: string; width: number; height: number; offset: number; count: number }[] };
const bin = readFileSync(join(ROOT, 'test/golden/tf_gaussian_resize.bin'));
const all = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);

describe("tf-gaussian resize against TensorFlow's tf.image.resize(method='gaussian', antialias=True)", () => {
  for (const c of index.cases) {
    it(`${c.file} -> ${c.width} x ${c.height}: every pixel within 2e-6`, async () => {
      const r = await preprocess(join(ROOT, 'test/fixtures', c.file), { resize: { width: c.width, height: c.height, interp: 'tf-gaussian' } });
      expect([r.width, r.height, r.channels]).toEqual([c.width, c.height, 3]);
      const want = all.subarray(c.offset, c.offset + c.count);
      const got = r.data as Float32Array;
      expect(got).toBeInstanceOf(Float32Array);
      let worst = 0;
      // ours BGR (canonical), TF's RGB
      for (let p = 0; p < c.width * c.height; ++p) for (let ch = 0; ch < 3; ++ch) worst = Math.max(worst, Math.abs(got[p * 3 + ch] - want[p * 3 + 2 - ch]));
      expect(worst).toBeLessThanOrEqual(2e-6);
    });
  }

  it('differs from Pillow bicubic by far more than the tolerance (the goldens tell them apart)', async () => {
    const c = index.cases[0];
    const r = await preprocess(join(ROOT, 'test/fixtures', c.file), { resize: { width: c.width, height: c.height, interp: 'pil-bicubic' }, float: 1 });
    const want = all.subarray(c.offset, c.offset + c.count);
    let worst = 0;
    for (let p = 0; p < c.width * c.height; ++p) for (let ch = 0; ch < 3; ++ch) worst = Math.max(worst, Math.abs(Number(r.data[p * 3 + ch]) - want[p * 3 + 2 - ch]));
    expect(worst).toBeGreaterThan(1e-2);
  });
});
