// The face-quality runner with the MagFace and OFIQ-UQS descriptors on the seeded tiny iResNet
// fixture (tools/export/magface.py --weights random; scores mean nothing), against PyTorch and
// skimage + OpenCV (goldens: scripts/golden/face_magface_golden.py).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapQuality, validateFaceManifest, type FaceManifest } from '../lib/face/manifest';
import { faceQuality } from '../lib/face/quality';
import { HAS_SHARED, rejection, ROOT, sharedPath } from './helpers';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'face', 'magface-tiny');
const MAGFACE = join(FIXTURE, 'manifest.json');
const OFIQ = join(FIXTURE, 'ofiq-uqs.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'magface.json'), 'utf8')) as {
  cases: { image: string; faces: { box: number[]; arcface112: number; ofiq616: number; magfaceQuality: number; ofiqQuality: number }[] }[];
  aligned: { crop: string; norm: number }[];
};

describe('face runner: the network and readout on identical pixels', () => {
  for (const g of golden.aligned) {
    it(`${g.crop}: norm within 1e-5 relative of PyTorch`, async () => {
      const r = await faceQuality(join(ROOT, 'test', 'golden', 'face', g.crop), { method: MAGFACE, aligned: true });
      expect(r.faces).toHaveLength(1);
      expect(Math.abs(r.faces[0].raw! - g.norm) / g.norm).toBeLessThan(1e-5);
    });
  }
});

describe.skipIf(!HAS_SHARED)('face runner: detect -> align -> ONNX -> norm -> mapping against the reference path', () => {
  for (const c of golden.cases) {
    it(`${c.image}: MagFace and OFIQ-UQS norms within 1e-3 relative, 0-100 within 1`, async () => {
      const m = await faceQuality(sharedPath(c.image), { method: MAGFACE });
      const o = await faceQuality(sharedPath(c.image), { method: OFIQ });
      expect(m.faces).toHaveLength(c.faces.length);
      c.faces.forEach((g, i) => {
        // Relative: the golden's OpenCV 5.x warp differs from Debian's 4.6 by a level on ~5% of the
        // crop's samples (test/face.test.ts), which moves these norms by up to 9e-4 of their value.
        expect(Math.abs(m.faces[i].raw! - g.arcface112) / g.arcface112).toBeLessThan(1e-3);
        expect(Math.abs(o.faces[i].raw! - g.ofiq616) / g.ofiq616).toBeLessThan(1e-3);
        expect(Math.abs(m.faces[i].quality! - g.magfaceQuality)).toBeLessThan(0.1);
        expect(Math.abs(o.faces[i].quality! - g.ofiqQuality)).toBeLessThanOrEqual(1);
        expect(Number.isInteger(o.faces[i].quality)).toBe(true);
        expect(m.faces[i].method).toBe('magface-tiny');
        expect(o.faces[i].method).toBe('magface-tiny-ofiq-uqs');
      });
    });
  }

  it('batch, maxFaces, minFaceSize and crops', async () => {
    const imgs = golden.cases.map((c) => sharedPath(c.image));
    const all = await faceQuality.batch(imgs, { method: MAGFACE });
    expect(all.map((r) => r.faces.length)).toEqual(golden.cases.map((c) => c.faces.length));
    const small = await faceQuality(imgs[0], { method: MAGFACE, minFaceSize: 10_000 });
    expect(small.faces[0].failure?.code).toBe('FACE_TOO_SMALL');
    expect(small.faces[0].quality).toBeNull();
    expect(small.faces[0].raw).toBeNull();
    const withCrop = await faceQuality(imgs[0], { method: MAGFACE, maxFaces: 1, crops: true });
    expect(withCrop.faces).toHaveLength(1);
    expect(withCrop.faces[0].crop?.subarray(1, 4).toString()).toBe('PNG');
  });

  it('given landmarks skip detection; embeddings are the output rows whose norm is raw', async () => {
    const img = sharedPath(golden.cases[0].image);
    const det = (await faceQuality(img)).faces[0];
    const r = await faceQuality(img, { method: MAGFACE, landmarks: det.landmarks, embeddings: true });
    expect(r.faces).toHaveLength(1);
    expect(r.faces[0].detectorScore).toBe(1);
    const e = r.faces[0].embedding!;
    expect(e.length).toBe(32);
    expect(Math.hypot(...e)).toBeCloseTo(r.faces[0].raw!, 4);
    expect(Math.abs(r.faces[0].raw! - golden.cases[0].faces[0].arcface112) / golden.cases[0].faces[0].arcface112).toBeLessThan(1e-3);
    expect((await rejection(faceQuality(img, { method: MAGFACE, landmarks: [[1, 2]] as never }))).code).toBe('ERR_INPUT');
  });

  it('100 faces in one image (a 10x10 tiling): each gets a record; maxFaces keeps the best', async () => {
    const { preprocess } = await import('../lib/core/preprocess');
    const tile = await preprocess(sharedPath(golden.cases[1].image), { resize: { width: 146, height: 260, interp: 'area' } });
    const W = tile.width * 10, H = tile.height * 10;
    const big = Buffer.alloc(W * H * 3);
    for (let ty = 0; ty < 10; ty++)
      for (let y = 0; y < tile.height; y++)
        for (let tx = 0; tx < 10; tx++)
          Buffer.from((tile.data as Uint8Array).buffer, (tile.data as Uint8Array).byteOffset + y * tile.width * 3, tile.width * 3).copy(big, ((ty * tile.height + y) * W + tx * tile.width) * 3);
    const img = { data: big, width: W, height: H, channels: 3 as const, order: 'bgr' as const };
    const all = await faceQuality(img, { method: MAGFACE, maxSide: 0 });
    expect(all.faces.length).toBeGreaterThanOrEqual(90);
    expect(all.faces.length).toBeLessThanOrEqual(100);
    for (const f of all.faces) expect(f.failure === null ? Number.isFinite(f.raw!) : true).toBe(true);
    const top = await faceQuality(img, { method: MAGFACE, maxSide: 0, maxFaces: 5 });
    expect(top.faces.map((f) => f.detectorScore)).toEqual(all.faces.slice(0, 5).map((f) => f.detectorScore));
  });

  it('a face whose landmarks fall outside the frame is LANDMARKS_OUTSIDE, not a number', async () => {
    // The SER-FIQ photo cropped through the eyes: the detector still finds the face, with eye
    // landmarks above the top edge. The crop is made here as raw pixels.
    const { preprocess } = await import('../lib/core/preprocess');
    const full = await preprocess(sharedPath(golden.cases[0].image));
    const ref = (await faceQuality(sharedPath(golden.cases[0].image))).faces[0];
    const top = Math.round(ref.landmarks[0][1] + 8);
    const w = full.width, h = full.height - top;
    const data = (full.data as Uint8Array).subarray(top * w * 3);
    const r = await faceQuality({ data: Buffer.from(data), width: w, height: h, channels: 3, order: 'bgr' }, { method: MAGFACE, scoreThreshold: 0.3 });
    const outside = r.faces.find((f) => f.failure?.code === 'LANDMARKS_OUTSIDE');
    expect(outside, JSON.stringify(r.faces.map((f) => [f.detectorScore, f.landmarks]))).toBeDefined();
    expect(outside!.quality).toBeNull();
  });
});

describe('face descriptors: validation and mapping', () => {
  it("OFIQ's sigmoid reproduces its conformance rows (raw 24.329985 -> 63, 24.698753 -> 66)", () => {
    const m = (JSON.parse(readFileSync(OFIQ, 'utf8')) as FaceManifest).mapping;
    expect(mapQuality(24.329985, m)).toBe(63);
    expect(mapQuality(24.698753, m)).toBe(66);
    expect(mapQuality(1e9, m)).toBe(100);
    expect(mapQuality(-1e9, m)).toBe(0);
  });
  it('a descriptor that breaks the schema is ERR_MODEL listing the problem', () => {
    const good = JSON.parse(readFileSync(MAGFACE, 'utf8')) as FaceManifest;
    const bad = (patch: object) => () => validateFaceManifest({ ...good, ...patch });
    expect(bad({ kind: 'nr' })).toThrow(/kind/);
    expect(bad({ readout: { type: 'mean' } })).toThrow(/readout/);
    expect(bad({ mapping: { type: 'sigmoid' } })).toThrow(/x0 and w/);
    expect(bad({ mapping: { type: 'linear', from: [5, 1] } })).toThrow(/low < high/);
    expect(bad({ align: { template: 'arcface96' } })).toThrow(/template/);
  });
  it('a non-face ONNX in a face descriptor is ERR_MODEL (input shape), and so is a missing output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-face-'));
    copyFileSync(join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny', 'model.onnx'), join(dir, 'other.onnx'));
    const good = JSON.parse(readFileSync(MAGFACE, 'utf8')) as FaceManifest;
    const img = { data: new Uint8Array(64 * 64 * 3).fill(90), width: 64, height: 64, channels: 3 as const };
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...good, model: { file: 'other.onnx' } }));
    const e1 = await rejection(faceQuality(img, { method: join(dir, 'a.json') }));
    expect(e1.code).toBe('ERR_MODEL');
    expect(e1.message).toMatch(/shape/);
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...good, model: { file: join(FIXTURE, 'model.onnx') }, readout: { type: 'norm', output: 'logits' } }));
    expect((await rejection(faceQuality(img, { method: join(dir, 'b.json') }))).message).toMatch(/no output 'logits'/);
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ ...good, model: { file: join(FIXTURE, 'model.onnx'), sha256: '0'.repeat(64) } }));
    expect((await rejection(faceQuality(img, { method: join(dir, 'c.json') }))).message).toMatch(/sha256/);
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ ...good, model: { file: join(FIXTURE, 'model.onnx') }, readout: { type: 'scalar', index: 99 } }));
    expect((await rejection(faceQuality(img, { method: join(dir, 'd.json'), aligned: true }))).code).toBe('ERR_INPUT'); // 64x64 is not 112x112
    const crop = { data: new Uint8Array(112 * 112 * 3).fill(90), width: 112, height: 112, channels: 3 as const };
    expect((await rejection(faceQuality(crop, { method: join(dir, 'd.json'), aligned: true }))).message).toMatch(/index 99/);
    expect((await rejection(faceQuality(img, { method: 'no-such-face-method' }))).code).toBe('ERR_MODEL');
  });
});

describe.skipIf(!HAS_SHARED)('iqa face score', () => {
  const CLI = join(ROOT, 'dist/cjs/cli/index.js');
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'face', 'score', ...args], { encoding: 'utf8' });
  it('JSONL with faces, NO_FACE and errors; --crop-dir writes PNGs; exit 1 when an input failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-face-cli-'));
    const withFace = sharedPath(golden.cases[0].image);
    const r = run([withFace, sharedPath('data/calibration/ref_dir/I03.bmp'), join(dir, 'missing.jpg'), '--method', OFIQ, '--crop-dir', join(dir, 'crops')]);
    expect(r.status).toBe(1);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(3);
    expect(Math.abs((recs[0].quality as number) - golden.cases[0].faces[0].ofiqQuality)).toBeLessThanOrEqual(1);
    expect((recs[1].failure as { code: string }).code).toBe('NO_FACE');
    expect((recs[2].error as { code: string }).code).toBe('ERR_INPUT');
    expect(readdirSync(join(dir, 'crops'))).toEqual(['serfiq_test_img.0.png']);
  });
  it('CSV and table', () => {
    const csv = run([sharedPath(golden.cases[0].image), '--method', MAGFACE, '--format', 'csv']);
    expect(csv.status).toBe(0);
    const [head, row] = csv.stdout.trim().split('\n');
    expect(head.split(',')).toContain('quality');
    expect(Number(row.split(',')[8])).toBeCloseTo(golden.cases[0].faces[0].magfaceQuality, 1);
    const table = run([sharedPath(golden.cases[0].image), '--format', 'table']);
    expect(table.stdout).toMatch(/det 0\.9\d+ {2}.*serfiq_test_img\.jpeg#0/);
  });
  it('descriptors resolve by name from IQA_MODEL_DIR; iqa models lists them apart; --metric refuses them clearly', () => {
    const env = { ...process.env, IQA_MODEL_DIR: join(ROOT, 'test', 'fixtures', 'face') };
    const byName = spawnSync(process.execPath, [CLI, 'face', 'score', sharedPath(golden.cases[0].image), '--method', 'magface-tiny'], { encoding: 'utf8', env });
    expect(byName.status).toBe(0);
    expect(Math.abs((JSON.parse(byName.stdout) as { raw: number }).raw - golden.cases[0].faces[0].arcface112) / golden.cases[0].faces[0].arcface112).toBeLessThan(1e-3);
    const list = spawnSync(process.execPath, [CLI, 'models'], { encoding: 'utf8', env });
    expect(list.stdout).toMatch(/face descriptors \(iqa face score --method NAME\):\n(?: {2}\S+ .*\n)* {2}magface-tiny /);
    const wrong = spawnSync(process.execPath, [CLI, 'score', '--metric', 'magface-tiny', sharedPath(golden.cases[0].image)], { encoding: 'utf8', env });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/face-quality descriptor/);
  });
  it('a bad flag is a usage error (exit 2)', () => {
    expect(run([sharedPath(golden.cases[0].image), '--max-faces', '-3']).status).not.toBe(0);
  });
});
