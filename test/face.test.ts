// Face detection and alignment against OpenCV's cv::FaceDetectorYN and skimage + cv2.warpAffine
// (goldens: scripts/golden/face_golden.py), and the typed failures of hostile inputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess } from '../lib/core/preprocess';
import { alignFace, faceQuality } from '../lib/face/quality';
import { HAS_SHARED, rejection, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const GOLDEN = join(ROOT, 'test', 'golden', 'face');
interface DetCase {
  image: string;
  maxSide: number;
  scoreThreshold: number;
  nmsThreshold: number;
  faces: { box: number[]; landmarks: number[]; score: number }[];
}
const detect = JSON.parse(readFileSync(join(GOLDEN, 'detect.json'), 'utf8')) as { cases: DetCase[] };
const align = JSON.parse(readFileSync(join(GOLDEN, 'align.json'), 'utf8')) as {
  cases: { image: string; template: 'arcface112' | 'ofiq616'; landmarks: number[]; matrix: number[][]; crop: string }[];
};

describe.skipIf(!HAS_SHARED)('face detection: YuNet against cv::FaceDetectorYN', () => {
  if (!HAS_SHARED) console.warn(SHARED_SKIP_REASON);
  for (const c of detect.cases) {
    it(`${c.image} (maxSide ${c.maxSide}): ${c.faces.length} face(s), boxes and landmarks within 1 px`, async () => {
      const r = await faceQuality(sharedPath(c.image), { maxSide: c.maxSide, scoreThreshold: c.scoreThreshold, nmsThreshold: c.nmsThreshold });
      expect(r.faces.length).toBe(c.faces.length);
      expect(r.failure?.code ?? null).toBe(c.faces.length === 0 ? 'NO_FACE' : null);
      r.faces.forEach((f, i) => {
        const g = c.faces[i];
        const box = [f.box.x, f.box.y, f.box.width, f.box.height];
        for (let k = 0; k < 4; ++k) expect(Math.abs(box[k] - g.box[k])).toBeLessThan(1);
        for (let k = 0; k < 10; ++k) expect(Math.abs(f.landmarks[k >> 1][k & 1] - g.landmarks[k])).toBeLessThan(1);
        expect(Math.abs(f.detectorScore - g.score)).toBeLessThan(1e-3);
        expect(f.quality).toBeNull();
        expect(f.failure).toBeNull();
      });
    });
  }
});

describe('face alignment: Umeyama + warpAffine against skimage + OpenCV (generated pattern)', () => {
  for (const c of align.cases) {
    it(`${c.crop}: matrix to 1e-9, pixels within 4 levels, 90% exact, mean < 0.1`, async () => {
      const pts = [0, 1, 2, 3, 4].map((k) => [c.landmarks[2 * k], c.landmarks[2 * k + 1]] as [number, number]);
      const a = await alignFace(join(GOLDEN, c.image), pts, { template: c.template });
      for (let k = 0; k < 6; ++k) expect(Math.abs(a.matrix[k] - c.matrix[Math.floor(k / 3)][k % 3])).toBeLessThan(1e-9);
      const g = await preprocess(join(GOLDEN, c.crop));
      expect([a.width, a.height]).toEqual([g.width, g.height]);
      // The matrix is the strict check. The golden's OpenCV (opencv-python 5.x) and Debian's 4.6
      // round warpAffine's sub-pixel positions (1/32 px) and bilinear weights differently: on the
      // pattern's 90-level checker edges a 1/32-px step is up to 3 levels; ~6% of samples differ.
      let worst = 0, sum = 0, exact = 0;
      for (let i = 0; i < g.data.length; ++i) {
        const d = Math.abs(a.data[i] - (g.data[i] as number));
        worst = Math.max(worst, d);
        sum += d;
        if (d === 0) exact++;
      }
      expect(worst).toBeLessThanOrEqual(4);
      expect(exact / g.data.length).toBeGreaterThan(0.9);
      expect(sum / g.data.length).toBeLessThan(0.1);
    });
  }
});

describe('face: hostile inputs', () => {
  const grey = (w: number, h: number, v = 128) => ({ data: new Uint8Array(w * h).fill(v), width: w, height: h, channels: 1 as const });
  it('a grey image and a 1x1 image have no face (NO_FACE, not a number)', async () => {
    for (const img of [grey(200, 150), grey(1, 1)]) {
      const r = await faceQuality(img);
      expect(r.faces).toEqual([]);
      expect(r.failure?.code).toBe('NO_FACE');
    }
  });
  it('bad options and bad landmarks are ERR_INPUT', async () => {
    expect((await rejection(faceQuality(grey(8, 8), { maxFaces: -1 }))).code).toBe('ERR_INPUT');
    expect((await rejection(faceQuality(grey(8, 8), { scoreThreshold: 2 }))).code).toBe('ERR_INPUT');
    expect((await rejection(faceQuality(grey(8, 8), { maxSide: 1.5 }))).code).toBe('ERR_INPUT');
    expect((await rejection(alignFace(grey(8, 8), [[0, 0]]))).code).toBe('ERR_INPUT');
    expect((await rejection(alignFace(grey(8, 8), [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1]]))).code).toBe('ERR_INPUT');
    expect((await rejection(alignFace(grey(8, 8), [[NaN, 1], [2, 1], [1, 3], [1, 4], [2, 4]]))).code).toBe('ERR_INPUT');
  });
  it('an undecodable input is a per-image error in batchSettled', async () => {
    const r = await faceQuality.batchSettled([Buffer.from('not an image'), grey(16, 16)]);
    expect(r.errors[0]?.code).toBe('ERR_DECODE');
    expect(r.results[0]).toBeNull();
    expect(r.results[1]?.failure?.code).toBe('NO_FACE');
  });
  it('.batch rejects with the first failed image; an aborted signal is ERR_ABORTED; non-arrays are ERR_INPUT', async () => {
    const e = await rejection(faceQuality.batch([grey(16, 16), Buffer.from('garbage')]));
    expect(e.code).toBe('ERR_DECODE');
    expect(e.input).toBe(1);
    expect((await rejection(faceQuality(grey(16, 16), { signal: AbortSignal.abort() }))).code).toBe('ERR_ABORTED');
    expect((await rejection(faceQuality.batch('x.jpg' as never))).code).toBe('ERR_INPUT');
    expect((await rejection(faceQuality(grey(16, 16), { aligned: true }))).code).toBe('ERR_INPUT');
    expect((await rejection(faceQuality(grey(16, 16), null as never))).code).toBe('ERR_INPUT');
  });
  it('a detector ONNX without the YuNet outputs is ERR_MODEL', async () => {
    const e = await rejection(faceQuality(grey(8, 8), { detector: join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny', 'model.onnx') }));
    expect(e.code).toBe('ERR_MODEL');
  });
  it('a missing detector file is ERR_MODEL', async () => {
    expect((await rejection(faceQuality(grey(8, 8), { detector: '/nonexistent/yunet.onnx' }))).code).toBe('ERR_MODEL');
  });
});
