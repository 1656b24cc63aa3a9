// SER-FIQ through the 'stochastic' face readout: trunk once, head on T = 100 masked copies
// (tools/export/serfiq.py), against the whole PyTorch network run T times with the same masks and
// the authors' score and normalisation (test/golden/face_serfiq.json, scripts/golden/face_serfiq_golden.py).
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faceQuality } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath } from './helpers';

const FIX = join(ROOT, 'test/fixtures/face/serfiq-tiny');
const method = join(FIX, 'manifest.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/face_serfiq.json'), 'utf8'));

describe('SER-FIQ (stochastic readout) against PyTorch with the same masks', () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file}: raw within 1e-5, 0-100 within 1e-3, embedding without dropout within 1e-5${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const path = g.where === 'shared' ? sharedPath('data/faces/lfw-aligned', g.file) : join(FIX, g.file);
      const r = await faceQuality(path, { method, aligned: true, embeddings: true });
      const f = r.faces[0];
      expect(Math.abs(f.raw! - g.raw)).toBeLessThan(1e-5);
      expect(Math.abs(f.quality! - g.quality)).toBeLessThan(1e-3);
      const e = f.embedding as Float32Array | number[];
      expect(e.length).toBe(g.embedding.length);
      let m = 0;
      for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(e[i] - g.embedding[i]) / Math.max(1, Math.abs(g.embedding[i])));
      expect(m).toBeLessThan(1e-5);
    });
  }

  it('the same masks every call: the score is reproducible', async () => {
    const path = join(FIX, 'pattern.png');
    const a = await faceQuality(path, { method, aligned: true });
    const b = await faceQuality.batch([path, path], { method, aligned: true });
    expect(b.map((x) => x.faces[0].raw)).toEqual([a.faces[0].raw, a.faces[0].raw]);
  });

  it('a bad head: missing file, wrong inputs, wrong sha256 -> ERR_MODEL', async () => {
    const variant = (edit: (m: any) => void) => {
      const dir = mkdtempSync(join(tmpdir(), 'iqa-serfiq-'));
      for (const f of ['trunk.onnx', 'head.onnx']) copyFileSync(join(FIX, f), join(dir, f));
      const m = JSON.parse(readFileSync(method, 'utf8'));
      edit(m);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      return join(dir, 'manifest.json');
    };
    const path = join(FIX, 'pattern.png');
    for (const [edit, msg] of [
      [(m: any) => (m.readout.head.file = 'nope.onnx'), /not found/],
      [(m: any) => (m.readout.head.mask = 'features'), /inputs/],
      [(m: any) => (m.readout.head.sha256 = '0'.repeat(64)), /sha256/],
      [(m: any) => delete m.readout.head, /head/],
      [(m: any) => (m.readout.head.file = 'trunk.onnx', delete m.readout.head.sha256), /inputs/],
    ] as const) {
      const e = await rejection(faceQuality(path, { method: variant(edit as (m: any) => void), aligned: true }));
      expect(e.code).toBe('ERR_MODEL');
      expect(e.message).toMatch(msg);
    }
  });
});
