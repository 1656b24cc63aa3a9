// CR-FIQA (scalar readout on the `quality` output), SDD-FIQA (scalar) and EQFace (softmax column 0
// of the logits) through the one face runner, on their seeded tiny fixtures (tools/export/<method>.py
// --weights random; scores mean nothing), against PyTorch with each author's own preprocessing and
// readout (goldens: scripts/golden/face_fiqa_golden.py).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFaceManifest, type FaceManifest } from '../lib/face/manifest';
import { faceQuality } from '../lib/face/quality';
import { HAS_SHARED, rejection, ROOT, sharedPath } from './helpers';

type Method = 'crfiqa' | 'sddfiqa' | 'eqface';
const METHODS: Method[] = ['crfiqa', 'sddfiqa', 'eqface'];
const manifest = (m: Method) => join(ROOT, 'test', 'fixtures', 'face', `${m}-tiny`, 'manifest.json');
// Whole-pipeline tolerance on raw. The golden warps with OpenCV 4.x's fixed-point warpAffine
// (face_golden.warp_affine_cv4; it matches Debian's 4.6 to 0-1 samples of a crop), so photos
// detected at full size agree to 1e-4 (measured <= 7.3e-5). Photos over 640 px are detected on a
// shrunk copy whose resize differs between cv2 5.1 and 4.6: landmarks move by ~1e-4 px, a dozen
// samples by a level, and these tiny seeded networks amplify it (measured <= 7.7e-4). The pip
// cv2 5.1 warp itself would differ by up to 9.3e-3 (rawOpencv5Warp in the golden).
const tolerance = (shrunk: boolean) => (shrunk ? 1e-3 : 1e-4);
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'fiqa.json'), 'utf8')) as {
  cases: { image: string; shrunk: boolean; faces: ({ box: number[] } & Record<Method, { raw: number; quality: number; rawOpencv5Warp: number }>)[] }[];
  aligned: ({ crop: string } & Record<Method, number>)[];
};

describe('CR-FIQA, SDD-FIQA, EQFace: network and readout on identical pixels', () => {
  for (const m of METHODS)
    it(`${m}: raw within 1e-5 of PyTorch on ${golden.aligned.length} aligned crops`, async () => {
      const rs = await faceQuality.batch(golden.aligned.map((g) => join(ROOT, 'test', 'golden', 'face', g.crop)), { method: manifest(m), aligned: true });
      const worst = Math.max(...rs.map((r, i) => Math.abs(r.faces[0].raw! - golden.aligned[i][m])));
      expect(worst).toBeLessThan(1e-5);
    });
});

describe.skipIf(!HAS_SHARED)('CR-FIQA, SDD-FIQA, EQFace: detect -> align -> ONNX -> readout -> mapping against the reference path', () => {
  for (const m of METHODS)
    it(`${m}: raw and 0-100 against cv2 + skimage + PyTorch on ${golden.cases.length} photos`, async () => {
      const rs = await faceQuality.batch(golden.cases.map((c) => sharedPath(c.image)), { method: manifest(m) });
      rs.forEach((r, k) => {
        const want = golden.cases[k].faces;
        expect(r.faces).toHaveLength(want.length);
        want.forEach((g, i) => {
          const tol = tolerance(golden.cases[k].shrunk);
          expect(Math.abs(r.faces[i].raw! - g[m].raw)).toBeLessThan(tol);
          expect(Math.abs(r.faces[i].quality! - g[m].quality)).toBeLessThan(tol * (m === 'eqface' ? 100 : 1));
          expect(r.faces[i].method).toBe(`${m}-tiny`);
        });
      });
    });

  it('the tolerance tells a wrong colour order apart (BGR instead of the authors\' RGB)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-fiqa-bgr-'));
    for (const m of METHODS) {
      const d = JSON.parse(readFileSync(manifest(m), 'utf8')) as FaceManifest;
      writeFileSync(join(dir, `${m}.json`), JSON.stringify({ ...d, model: { file: join(dirname(manifest(m)), d.model.file) }, input: { ...d.input, colorOrder: 'bgr' } }));
      const rs = await faceQuality.batch(golden.cases.map((c) => sharedPath(c.image)), { method: join(dir, `${m}.json`) });
      const worst = Math.max(...rs.flatMap((r, k) => r.faces.map((f, i) => Math.abs(f.raw! - golden.cases[k].faces[i][m].raw))));
      expect(worst, m).toBeGreaterThan(3 * tolerance(true));
    }
  });
});

describe('CR-FIQA, SDD-FIQA, EQFace descriptors', () => {
  it('mappings: CR-FIQA and SDD-FIQA clamp the raw score (no published 0-100), EQFace scales its probability', async () => {
    const crop = join(ROOT, 'test', 'golden', 'face', golden.aligned[0].crop);
    const eq = (await faceQuality(crop, { method: manifest('eqface'), aligned: true })).faces[0];
    expect(eq.raw).toBeGreaterThan(0);
    expect(eq.raw).toBeLessThan(1);
    expect(eq.quality).toBeCloseTo(eq.raw! * 100, 6);
    for (const m of ['crfiqa', 'sddfiqa'] as const) {
      const f = (await faceQuality(crop, { method: manifest(m), aligned: true })).faces[0];
      expect(f.quality).toBeCloseTo(Math.min(100, Math.max(0, f.raw!)), 9);
    }
    for (const m of METHODS) expect((JSON.parse(readFileSync(manifest(m), 'utf8')) as FaceManifest).source.commercialUse).toBe(false);
  });
  it('embeddings come from the `embedding` output where the graph has one', async () => {
    const crop = join(ROOT, 'test', 'golden', 'face', golden.aligned[0].crop);
    const cr = (await faceQuality(crop, { method: manifest('crfiqa'), aligned: true, embeddings: true })).faces[0];
    expect(cr.embedding?.length).toBeGreaterThan(0);
  });
  it('a softmax readout on a 1-wide output, or an index past the row, is an error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-fiqa-'));
    const crop = { data: new Uint8Array(112 * 112 * 3).fill(90), width: 112, height: 112, channels: 3 as const };
    const base = JSON.parse(readFileSync(manifest('eqface'), 'utf8')) as FaceManifest;
    const file = join(ROOT, 'test', 'fixtures', 'face', 'eqface-tiny', 'model.onnx');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...base, model: { file }, readout: { type: 'softmax', output: 'quality_logits', index: 2 } }));
    expect((await rejection(faceQuality(crop, { method: join(dir, 'a.json'), aligned: true }))).message).toMatch(/index 2/);
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...base, model: { file }, readout: { type: 'scalar', output: 'no_such_output', index: 0 } }));
    expect((await rejection(faceQuality(crop, { method: join(dir, 'b.json'), aligned: true }))).message).toMatch(/no output 'no_such_output'/);
    expect(() => validateFaceManifest({ ...base, input: { ...base.input, normalize: { mean: [0.5], std: [0] } } })).toThrow(/std/);
  });
});
