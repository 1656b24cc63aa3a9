// JPEG shrink-on-load: libjpeg-turbo's DCT scaling to the smallest size still at least the
// resize target, against Pillow's Image.draft (an independent decoder doing the same scaling;
// golden from scripts/golden/shrink_on_load_golden.py), the EXIF-orientation rule, and the
// manifest / call options that turn it on.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IqaError, Model, encode, preprocess } from '../lib';
import { ROOT, manifestVariant } from './helpers';

const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/shrink_on_load.json'), 'utf8')) as {
  files: Record<string, { denominator: number; width: number; height: number; sha256: string }[]>;
};
const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/shrink', name));
const sha = (d: ArrayBufferView) => createHash('sha256').update(Buffer.from(d.buffer, d.byteOffset, d.byteLength)).digest('hex');

describe('JPEG shrink-on-load', () => {
  for (const [name, rows] of Object.entries(golden.files)) {
    for (const row of rows) {
      it(`${name} at 1/${row.denominator}: the pixels Pillow's draft decodes (${row.width}x${row.height})`, async () => {
        // A resize to exactly the scaled size is the identity, so the output is the scaled decode.
        const resize = { width: row.width, height: row.height, interp: 'pil-bilinear' as const };
        const shrunk = await preprocess(fixture(name), { resize, shrinkOnLoad: true });
        expect([shrunk.width, shrunk.height]).toEqual([row.width, row.height]);
        expect(sha(shrunk.data)).toBe(row.sha256);
        // Without it the same call decodes the whole image first: different pixels.
        const full = await preprocess(fixture(name), { resize });
        expect(sha(full.data)).not.toBe(row.sha256);
      });
    }
  }

  it('picks the largest scale that still covers the target on both sides', async () => {
    // 800x600 to 201x150: 1/4 gives 200x150, one column short, so 1/2 (400x300) is decoded and resized.
    const resize = { width: 201, height: 150, interp: 'pil-bilinear' as const };
    const half = golden.files['photo-800x600.jpg'].find((r) => r.denominator === 2)!;
    const viaHalf = await preprocess(
      { data: (await preprocess(fixture('photo-800x600.jpg'), { resize: { width: half.width, height: half.height, interp: 'pil-bilinear' }, shrinkOnLoad: true })).data as Uint8Array, width: half.width, height: half.height, channels: 3, order: 'bgr' },
      { resize },
    );
    const shrunk = await preprocess(fixture('photo-800x600.jpg'), { resize, shrinkOnLoad: true });
    expect(sha(shrunk.data)).toBe(sha(viaHalf.data));
  });

  it('leaves non-JPEG inputs and raw pixels as they are', async () => {
    const png = await encode(fixture('photo-800x600.jpg'), { format: 'png' });
    const resize = { width: 100, height: 75, interp: 'pil-bilinear' as const };
    expect(sha((await preprocess(png, { resize, shrinkOnLoad: true })).data)).toBe(sha((await preprocess(png, { resize })).data));
  });

  it('rejects shrinkOnLoad without a resize size, or with a crop', async () => {
    await expect(preprocess(fixture('photo-800x600.jpg'), { shrinkOnLoad: true })).rejects.toMatchObject({ code: 'ERR_INPUT' });
    await expect(preprocess(fixture('photo-800x600.jpg'), { resize: { width: 100, height: 75 }, shrinkOnLoad: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INPUT' });
    await expect(
      preprocess(fixture('photo-800x600.jpg'), { shrinkOnLoad: true, resize: { width: 100, height: 75 }, crop: { x: 0, y: 0, width: 400, height: 300 } }),
    ).rejects.toBeInstanceOf(IqaError);
  });

  it('a model opts in by manifest or by load option, and a model without a resize refuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-shrink-'));
    const base = join(ROOT, 'test/fixtures/koniqplusplus-tiny/koniqplusplus-tiny.json');
    // KonIQ++'s 640x480 input from a 1280x960 JPEG: 1/2 is exactly the input size.
    const big = await preprocess(fixture('photo-800x600.jpg'), { resize: { width: 1280, height: 960, interp: 'pil-bicubic' } });
    const photo = await encode({ data: big.data as Uint8Array, width: 1280, height: 960, channels: 3, order: 'bgr' }, { format: 'jpeg', quality: 90 });
    const half = await preprocess(photo, { resize: { width: 640, height: 480, interp: 'pil-bilinear' }, shrinkOnLoad: true });
    const halfPixels = { data: half.data as Uint8Array, width: 640, height: 480, channels: 3 as const, order: 'bgr' as const };

    const viaManifest = await Model.load(manifestVariant(base, dir, 'shrink', (m) => { m.preprocess.shrinkOnLoad = true; }));
    const viaOption = await Model.load(base, { shrinkOnLoad: true });
    const plain = await Model.load(base);
    try {
      const expected = await plain.score(halfPixels);
      expect(await viaManifest.score(photo)).toBe(expected);
      expect(await viaOption.score(photo)).toBe(expected);
      expect(await plain.score(photo)).not.toBe(expected);
    } finally {
      await Promise.all([viaManifest.close(), viaOption.close(), plain.close()]);
    }
    // DBCNN scores the whole image at its own size: there is no resize target to shrink to.
    await expect(Model.load(join(ROOT, 'test/fixtures/dbcnn-tiny/dbcnn-tiny.json'), { shrinkOnLoad: true })).rejects.toMatchObject({ code: 'ERR_MODEL' });
  });
});
