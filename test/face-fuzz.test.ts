// Fuzz over the face entry point: mutated image bytes and random options through
// faceQuality.batchSettled with the seeded MagFace fixture. Every item must come back as a result
// with finite numbers or typed failures, or as an IqaError with a known code; nothing may crash.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, IqaError } from '../lib/core/errors';
import { faceQuality, type FaceOptions } from '../lib/face/quality';
import { HAS_SHARED, rng, ROOT, sharedPath } from './helpers';

const METHOD = join(ROOT, 'test', 'fixtures', 'face', 'magface-tiny', 'manifest.json');

function mutate(src: Buffer, r: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(r() * 3);
  if (kind === 0) {
    for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length));
  const start = Math.floor(r() * b.length);
  for (let i = start; i < Math.min(b.length, start + 64); i++) b[i] = Math.floor(r() * 256);
  return b;
}

function seedImages(): Buffer[] {
  const seeds = [readFileSync(join(ROOT, 'test', 'golden', 'face', 'pattern.png')), readFileSync(join(ROOT, 'test', 'fixtures', 'images', 'rgb8.jpg'))];
  if (HAS_SHARED) seeds.push(readFileSync(sharedPath('data/faces/lfw-aligned/1-Harry_Belafonte_1.jpg')), readFileSync(sharedPath('data/faces/serfiq_test_img2.jpeg')));
  return seeds;
}

/** Every item a typed error with a known code, or a result with finite numbers / typed failures; tallies `codes`. */
function checkSettled(res: Awaited<ReturnType<typeof faceQuality.batchSettled>>, codes: Record<string, number>): void {
  res.errors.forEach((e, i) => {
    if (e) {
      expect(e).toBeInstanceOf(IqaError);
      expect(ERROR_CODES).toContain(e.code);
      codes[e.code] = (codes[e.code] ?? 0) + 1;
      return;
    }
    const out = res.results[i]!;
    expect(out.failure === null || out.failure.code === 'NO_FACE').toBe(true);
    for (const f of out.faces) {
      expect(Number.isFinite(f.detectorScore) && f.landmarks.flat().every(Number.isFinite)).toBe(true);
      if (f.failure) expect(['FACE_TOO_SMALL', 'LANDMARKS_OUTSIDE']).toContain(f.failure.code);
      else expect(Number.isFinite(f.raw!) && f.quality! >= 0 && f.quality! <= 100).toBe(true);
    }
    codes.ok = (codes.ok ?? 0) + 1;
  });
}

describe('face fuzz', () => {
  it('300 mutated images with random options: typed results or typed errors only', async () => {
    const seeds = seedImages();
    const r = rng(14);
    const codes: Record<string, number> = {};
    for (let round = 0; round < 6; round++) {
      const batch = Array.from({ length: 50 }, () => mutate(seeds[Math.floor(r() * seeds.length)], r));
      const opts: FaceOptions = { method: METHOD, maxSide: [0, 1, 33, 640][Math.floor(r() * 4)], maxFaces: Math.floor(r() * 3), scoreThreshold: r(), minFaceSize: r() * 50, limitInputPixels: 4096 * 4096 };
      if (r() < 0.3) opts.landmarks = Array.from({ length: 5 }, () => [(r() - 0.2) * 3000, (r() - 0.2) * 3000] as [number, number]);
      checkSettled(await faceQuality.batchSettled(batch, opts), codes);
    }
    expect(Object.values(codes).reduce((a, b) => a + b, 0)).toBe(300);
    console.log(`face fuzz: ${JSON.stringify(codes)}`);
  }, 60_000);

  it('100 mutated images through MTCNN with the box, scalar and softmax descriptors: typed results or typed errors only', async () => {
    const fixtures = ['faceqnet-tiny', 'crfiqa-tiny', 'eqface-tiny'].map((m) => join(ROOT, 'test', 'fixtures', 'face', m, 'manifest.json'));
    const seeds = seedImages();
    const r = rng(15);
    const codes: Record<string, number> = {};
    for (let round = 0; round < 4; round++) {
      const batch = Array.from({ length: 25 }, () => mutate(seeds[Math.floor(r() * seeds.length)], r));
      const method = fixtures[round % fixtures.length];
      const opts: FaceOptions = { method, detector: r() < 0.75 ? 'mtcnn' : 'yunet', maxSide: [1, 33, 200, 640][Math.floor(r() * 4)], maxFaces: Math.floor(r() * 3), scoreThreshold: r(), minFaceSize: r() * 50 };
      checkSettled(await faceQuality.batchSettled(batch, opts), codes);
    }
    expect(Object.values(codes).reduce((a, b) => a + b, 0)).toBe(100);
    console.log(`face fuzz (mtcnn, box/scalar/softmax): ${JSON.stringify(codes)}`);
  }, 60_000);
});
