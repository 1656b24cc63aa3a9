// dlib's face-recognition ResNet converted by tools/export/dlib_resnet.py, against dlib's own
// compute_face_descriptor (golden: scripts/golden/face_dlib_golden.py). The exported model is
// 22 MB and not in the repository: the test runs when IQA_FACE_DLIB_MODEL names its manifest.json
// (python3 tools/export/dlib_resnet.py --checkpoint .../dlib_face_recognition_resnet_model_v1.dat --out-dir DIR).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faceQuality } from '../lib/face/quality';
import { ROOT } from './helpers';

const MANIFEST = process.env.IQA_FACE_DLIB_MODEL ?? '';
const HAVE = MANIFEST !== '' && existsSync(MANIFEST);
if (!HAVE) console.warn('IQA_FACE_DLIB_MODEL not set to an exported dlib-resnet manifest.json: skipping the dlib parity test');
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'dlib.json'), 'utf8')) as { cases: { chip: string; embedding: number[]; norm: number }[] };

describe.skipIf(!HAVE)('dlib ResNet export against dlib.compute_face_descriptor', () => {
  for (const c of golden.cases) {
    it(`${c.chip}: embedding within 1e-4, norm within 1e-4 relative`, async () => {
      const r = await faceQuality(join(ROOT, 'test', 'golden', 'face', c.chip), { method: MANIFEST, aligned: true, embeddings: true });
      const e = r.faces[0].embedding!;
      expect(e.length).toBe(128);
      let worst = 0;
      for (let k = 0; k < 128; k++) worst = Math.max(worst, Math.abs(e[k] - c.embedding[k]));
      expect(worst).toBeLessThan(1e-4);
      expect(Math.abs(r.faces[0].raw! - c.norm) / c.norm).toBeLessThan(1e-4);
    });
  }
});
