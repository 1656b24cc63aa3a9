// FaceQnet through the face runner's 'box' template (the detector's box resized to 224, no
// alignment), NHWC BGR 0-255, scalar readout, on the seeded tiny fixture converted from a Keras
// .h5 by its own model_config (tools/export/faceqnet.py --weights random; scores mean nothing),
// against Keras 3 on that .h5 with the authors' crop procedure (scripts/golden/face_faceqnet_golden.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFaceManifest, type FaceManifest } from '../lib/face/manifest';
import { alignFace, faceQuality } from '../lib/face/quality';
import { HAS_SHARED, rejection, ROOT, sharedPath } from './helpers';

const METHOD = join(ROOT, 'test', 'fixtures', 'face', 'faceqnet-tiny', 'manifest.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'golden', 'face', 'faceqnet.json'), 'utf8')) as {
  cases: { image: string; faces: { box: number[]; raw: number; quality: number }[] }[];
  aligned: { crop: string; raw: number }[];
};

describe('FaceQnet: network and readout on identical pixels', () => {
  it('the 224 x 224 pattern crop: raw within 1e-5 of Keras', async () => {
    const r = await faceQuality(join(ROOT, 'test', 'golden', 'face', golden.aligned[0].crop), { method: METHOD, aligned: true });
    expect(Math.abs(r.faces[0].raw! - golden.aligned[0].raw)).toBeLessThan(1e-5);
  });
});

describe.skipIf(!HAS_SHARED)('FaceQnet: detect -> box -> resize 224 -> ONNX -> readout -> mapping against Keras', () => {
  it(`raw within 1e-4 and 0-100 within 1e-2 on ${golden.cases.length} photos`, async () => {
    const rs = await faceQuality.batch(golden.cases.map((c) => sharedPath(c.image)), { method: METHOD });
    rs.forEach((r, k) => {
      expect(r.faces).toHaveLength(golden.cases[k].faces.length);
      golden.cases[k].faces.forEach((g, i) => {
        expect(Math.abs(r.faces[i].raw! - g.raw)).toBeLessThan(1e-4);
        expect(Math.abs(r.faces[i].quality! - g.quality)).toBeLessThan(1e-2);
      });
    });
  });
  it('crops are the resized box; given landmarks are refused (a box method needs the detector)', async () => {
    const img = sharedPath(golden.cases[0].image);
    const r = await faceQuality(img, { method: METHOD, crops: true });
    expect(r.faces[0].crop?.subarray(1, 4).toString()).toBe('PNG');
    const e = await rejection(faceQuality(img, { method: METHOD, landmarks: r.faces[0].landmarks }));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/box/);
    expect((await rejection(alignFace(img, r.faces[0].landmarks, { template: 'box' as never, resize: [224, 224] }))).code).toBe('ERR_INPUT');
  });
});

describe('FaceQnet descriptor', () => {
  it("the 'box' template needs a resize; a wrong-size aligned crop is ERR_INPUT", async () => {
    const good = JSON.parse(readFileSync(METHOD, 'utf8')) as FaceManifest;
    expect(() => validateFaceManifest({ ...good, align: { template: 'box' } })).toThrow(/resize/);
    expect(good.source.commercialUse).toBe(false);
    const crop = { data: new Uint8Array(112 * 112 * 3).fill(90), width: 112, height: 112, channels: 3 as const };
    expect((await rejection(faceQuality(crop, { method: METHOD, aligned: true }))).message).toMatch(/224x224/);
  });
  it.skipIf(!HAS_SHARED)('a box partly outside the frame is clipped to it and scored (the crop is still 224 x 224)', async () => {
    const { preprocess } = await import('../lib/core/preprocess');
    const full = await preprocess(sharedPath(golden.cases[0].image));
    const box = golden.cases[0].faces[0].box;
    const w = Math.round(box[0] + box[2] * 0.8); // cut through the face: the box runs past the right edge
    const data = Buffer.alloc(w * full.height * 3);
    for (let y = 0; y < full.height; y++) Buffer.from((full.data as Uint8Array).buffer, (full.data as Uint8Array).byteOffset + y * full.width * 3, w * 3).copy(data, y * w * 3);
    const r = await faceQuality({ data, width: w, height: full.height, channels: 3, order: 'bgr' }, { method: METHOD, crops: true, scoreThreshold: 0.3 });
    const f = r.faces.find((x) => x.box.x + x.box.width > w);
    expect(f, JSON.stringify(r.faces.map((x) => x.box))).toBeDefined();
    expect(Number.isFinite(f!.raw)).toBe(true);
    expect(f!.crop!.readUInt32BE(16)).toBe(224); // PNG IHDR width
  });
});
