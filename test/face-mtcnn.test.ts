// MTCNN as the face runner's second detector (detector: 'mtcnn'; native/core/face/mtcnn.cpp on
// models/face/mtcnn/*.onnx, exported by tools/export/mtcnn.py from facenet-pytorch's weights)
// against facenet-pytorch's own MTCNN.detect (goldens: scripts/golden/face_mtcnn_golden.py).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faceQuality } from '../lib/face/quality';
import { HAS_SHARED, rejection, ROOT, sharedPath } from './helpers';

type Face = { box: number[]; landmarks: number[]; score: number };
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'mtcnn.json'), 'utf8')) as {
  mosaic: string[];
  cases: { image: string; maxSide: number; faces: Face[] }[];
};

async function mosaic() {
  // The golden's 3 x 2 mosaic of LFW crops, from iqa-node's own decodes (BGR raw pixels).
  const { preprocess } = await import('../lib/core/preprocess');
  const tiles = await Promise.all(golden.mosaic.map((n) => preprocess(sharedPath('data/faces/lfw-aligned', n))));
  const tw = tiles[0].width, th = tiles[0].height, W = tw * 3, H = th * 2;
  const data = Buffer.alloc(W * H * 3);
  tiles.forEach((t, k) => {
    const src = Buffer.from((t.data as Uint8Array).buffer, (t.data as Uint8Array).byteOffset, tw * th * 3);
    for (let y = 0; y < th; y++) src.copy(data, ((Math.floor(k / 3) * th + y) * W + (k % 3) * tw) * 3, y * tw * 3, (y + 1) * tw * 3);
  });
  return { data, width: W, height: H, channels: 3 as const, order: 'bgr' as const };
}

describe.skipIf(!HAS_SHARED)('MTCNN detector against facenet-pytorch', () => {
  for (const c of golden.cases)
    it(`${c.image} (maxSide ${c.maxSide}): ${c.faces.length} face(s), boxes and landmarks within 0.01 px, scores within 1e-5`, async () => {
      const input = c.image === 'mosaic' ? await mosaic() : sharedPath(c.image);
      const r = await faceQuality(input, { detector: 'mtcnn', maxSide: c.maxSide });
      const want = [...c.faces].sort((a, b) => b.score - a.score);
      expect(r.faces.map((f) => f.detectorScore.toFixed(3))).toEqual(want.map((f) => f.score.toFixed(3)));
      want.forEach((g, i) => {
        const f = r.faces[i];
        const box = [f.box.x, f.box.y, f.box.width, f.box.height];
        for (let k = 0; k < 4; k++) expect(Math.abs(box[k] - g.box[k])).toBeLessThan(0.01);
        f.landmarks.flat().forEach((v, k) => expect(Math.abs(v - g.landmarks[k])).toBeLessThan(0.01));
        expect(Math.abs(f.detectorScore - g.score)).toBeLessThan(1e-5);
      });
    });

  it('MTCNN landmarks feed a method like YuNet\'s (ArcFace alignment, a finite raw score)', async () => {
    const method = join(ROOT, 'test', 'fixtures', 'face', 'magface-tiny', 'manifest.json');
    const r = await faceQuality(sharedPath(golden.cases[0].image), { detector: 'mtcnn', method });
    expect(r.faces).toHaveLength(1);
    expect(r.faces[0].failure).toBeNull();
    expect(Number.isFinite(r.faces[0].raw)).toBe(true);
    // scoreThreshold filters O-Net's scores further: a threshold just above the face's score drops it.
    const s = golden.cases[0].faces[0].score;
    expect((await faceQuality(sharedPath(golden.cases[0].image), { detector: 'mtcnn', scoreThreshold: s + 1e-6 })).faces).toHaveLength(0);
    expect((await faceQuality(sharedPath(golden.cases[0].image), { detector: 'mtcnn', scoreThreshold: s - 1e-4 })).faces).toHaveLength(1);
  });
});

describe('MTCNN files and options', () => {
  it('the three ONNX files ship in models/face/mtcnn with the licence', () => {
    for (const f of ['pnet.onnx', 'rnet.onnx', 'onet.onnx', 'LICENSE-facenet-pytorch.txt']) expect(existsSync(join(ROOT, 'models', 'face', 'mtcnn', f)), f).toBe(true);
  });
  it("blank, 1x1, thin and below-minimum-size images have no faces; detector: '' is ERR_INPUT", async () => {
    const img = { data: new Uint8Array(200 * 160 * 3).fill(128), width: 200, height: 160, channels: 3 as const };
    expect((await faceQuality(img, { detector: 'mtcnn' })).faces).toHaveLength(0);
    for (const [w, h] of [[1, 1], [19, 40], [20, 20], [3000, 2]]) {
      const tiny = { data: new Uint8Array(w * h * 3).fill(200), width: w, height: h, channels: 3 as const };
      const r = await faceQuality(tiny, { detector: 'mtcnn', maxSide: 0 });
      expect(r.faces, `${w}x${h}`).toHaveLength(0);
      expect(r.failure?.code).toBe('NO_FACE');
    }
    expect((await rejection(faceQuality(img, { detector: '' }))).code).toBe('ERR_INPUT');
  });
});
