// Pillow's Image.resize filters as resize backends ('pil-*'): the pixels equal Pillow's bit for bit
// (test/golden/pil_resize.json from scripts/golden/pil_resize_golden.py, Pillow 10.4: Pillow 13 may run
// the vertical pass first where one axis grows and the other shrinks; ours, like Pillow 10.4, never does).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath } from './helpers';

const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/pil_resize.json'), 'utf8')) as {
  cases: { image: string; width: number; height: number; interp: string; shape: number[]; sha256: string; sum: number }[];
};

describe(`Pillow resize parity (${golden.cases.length} cases)`, () => {
  for (const c of golden.cases) {
    const shared = c.image.startsWith('shared:');
    it.skipIf(shared && !HAS_SHARED)(`${c.image} -> ${c.width}x${c.height} ${c.interp}${shared && !HAS_SHARED ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const path = shared ? sharedPath('data/calibration/dist_dir', c.image.slice(7)) : join(ROOT, c.image);
      const r = await preprocess(path, { resize: { width: c.width, height: c.height, interp: c.interp as 'pil-bilinear' } });
      expect([r.height, r.width, r.channels]).toEqual(c.shape.length === 2 ? [...c.shape, 1] : c.shape);
      // Ours is BGR: reorder to Pillow's RGB before hashing.
      const px = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      const rgb = Buffer.alloc(px.length);
      const cn = r.channels;
      for (let i = 0; i < px.length; i += cn) for (let k = 0; k < cn; k++) rgb[i + k] = px[i + (cn === 3 ? 2 - k : k)];
      let sum = 0;
      for (const v of rgb) sum += v;
      expect(sum).toBe(c.sum);
      expect(createHash('sha256').update(rgb).digest('hex')).toBe(c.sha256);
    });
  }

  it('an unknown backend is ERR_INPUT naming the choices', async () => {
    const e = await rejection(preprocess(join(ROOT, 'test/fixtures/images/rgb8.png'), { resize: { width: 8, height: 8, interp: 'pil-sinc' as 'pil-bilinear' } }));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/pil-bilinear/);
  });
});
