// EXIF orientation: decoded files are turned to their orientation by default (as cv::imread,
// browsers and sharp's rotate()); autoOrient false / --no-auto-orient keeps the stored order.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brisque, encode, preprocess, type DecodedImage } from '../lib/index';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath, syntheticRgb } from './helpers';
import { jpegWithOrientation, pngWithOrientation, tiffWithOrientation, webpWithOrientation, writeOrientationSet } from '../scripts/golden/exif-orientations.mjs';

const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const ORIENTATIONS = [1, 2, 3, 4, 5, 6, 7, 8];

interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/** The display image of stored pixels under EXIF orientation `o`, written from the EXIF spec. */
function oriented(p: Pixels, o: number): Pixels {
  const { width: w, height: h, channels: ch } = p;
  const swap = o >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const data = new Array<number>(w * h * ch);
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const [sr, sc] = [
        [r, c],
        [r, w - 1 - c],
        [h - 1 - r, w - 1 - c],
        [h - 1 - r, c],
        [c, r],
        [h - 1 - c, r],
        [h - 1 - c, w - 1 - r],
        [c, w - 1 - r],
      ][o - 1];
      for (let k = 0; k < ch; k++) data[(r * W + c) * ch + k] = p.data[(sr * w + sc) * ch + k];
    }
  return { data, width: W, height: H, channels: ch };
}

function expectPixels(got: DecodedImage, want: Pixels, label: string): void {
  expect([got.width, got.height, got.channels], label).toEqual([want.width, want.height, want.channels]);
  let mismatches = 0;
  for (let i = 0; i < want.data.length; i++) if (got.data[i] !== want.data[i]) mismatches++;
  expect(mismatches, label).toBe(0);
}

describe('EXIF orientation on decode', () => {
  const rgb = syntheticRgb(7, 5, 3); // non-square, so every orientation is distinguishable

  it('JPEG APP1, PNG eXIf, WebP EXIF and TIFF: all 8 values, exactly the spec transform of the stored pixels', async () => {
    const png = await encode(rgb, { format: 'png' });
    const jpeg = await encode(rgb, { format: 'jpeg', quality: 90 });
    const webp = await encode(rgb, { format: 'webp', quality: 101 }); // > 100: lossless
    const bgr = await preprocess(png); // the BGR samples every lossless container holds
    const jpegStored = await preprocess(jpeg);
    const grey = new Uint8Array(35).map((_, i) => (i * 37) % 251);
    const grey16 = new Uint16Array(35).map((_, i) => (i * 1877) % 65521);
    const rgbTiff = new Uint8Array(rgb.data);
    for (const o of ORIENTATIONS) {
      const files: [string, Buffer, Pixels][] = [
        ['png', pngWithOrientation(png, o), bgr],
        ['jpeg', jpegWithOrientation(jpeg, o), jpegStored],
        ['webp', webpWithOrientation(webp, 7, 5, o), bgr],
        ['tiff rgb8', tiffWithOrientation(rgbTiff, 7, 5, 3, o), bgr],
        ['tiff grey8', tiffWithOrientation(grey, 7, 5, 1, o), { data: grey, width: 7, height: 5, channels: 1 }],
        ['tiff grey16', tiffWithOrientation(grey16, 7, 5, 1, o), { data: grey16, width: 7, height: 5, channels: 1 }],
      ];
      for (const [label, bytes, stored] of files) {
        expectPixels(await preprocess(bytes), oriented(stored, o), `${label} orientation ${o}`);
        expectPixels(await preprocess(bytes, { autoOrient: false }), stored, `${label} orientation ${o}, autoOrient false`);
      }
    }
  });

  it('raw pixels are never turned; a malformed EXIF block means no orientation, not an error', async () => {
    const stored = await preprocess(rgb, { autoOrient: true });
    expect([stored.width, stored.height]).toEqual([7, 5]);
    const png = await encode(rgb, { format: 'png' });
    const good = pngWithOrientation(png, 6);
    const exifAt = good.indexOf('eXIf') + 4;
    for (const [what, patch] of [
      ['IFD offset past the end', (b: Buffer) => b.writeUInt32LE(0xfffffff0, exifAt + 4)],
      ['entry count past the end, no orientation in the entries present', (b: Buffer) => b.writeUInt16LE(0xffff, exifAt + 8) + b.writeUInt16LE(275, exifAt + 10)],
      ['orientation 9', (b: Buffer) => b.writeUInt16LE(9, exifAt + 18)],
      ['orientation 0', (b: Buffer) => b.writeUInt16LE(0, exifAt + 18)],
      ['type LONG instead of SHORT', (b: Buffer) => b.writeUInt16LE(4, exifAt + 12)],
      ['not a TIFF header', (b: Buffer) => b.write('XX', exifAt, 'latin1')],
    ] as const) {
      const bad = Buffer.from(good);
      patch(bad);
      // The chunk CRC is now wrong: libpng only warns about ancillary chunks, so it still decodes.
      const img = await preprocess(bad);
      expect([img.width, img.height], what).toEqual([7, 5]);
    }
    // A JPEG APP1 whose length runs past the end of the file is ERR_DECODE (libjpeg), never a crash.
    const jpeg = jpegWithOrientation(await encode(rgb, { format: 'jpeg' }), 6);
    const cut = jpeg.subarray(0, jpeg.indexOf('Exif') + 12);
    expect((await rejection(preprocess(cut))).code).toBe('ERR_DECODE');
  });

  it('the pixel limit is checked on the header before decoding, whatever the orientation', async () => {
    const png = pngWithOrientation(await encode(rgb, { format: 'png' }), 6);
    expect((await rejection(preprocess(png, { limitInputPixels: 34 }))).code).toBe('ERR_TOO_LARGE');
    expect((await preprocess(png, { limitInputPixels: 35 })).width).toBe(5);
  });

  it('autoOrient must be a boolean', async () => {
    expect((await rejection(preprocess(rgb, { autoOrient: 'yes' as unknown as boolean }))).code).toBe('ERR_INPUT');
  });
});

describe.skipIf(!HAS_SHARED)(`BRISQUE on oriented images vs cv::imread + QualityBRISQUE ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/brisque_orientation.json'), 'utf8')) as { scores: Record<string, number>; sha256: Record<string, string> };
  const dir = mkdtempSync(join(tmpdir(), 'iqa-orient-'));

  it("'opencv' equals the golden within 1e-3 on 8 sources x 8 orientations x JPEG and PNG (scripts/golden/brisque_orientation.mjs)", async () => {
    const names: string[] = await writeOrientationSet(encode, sharedPath('data'), dir);
    expect(names.length).toBe(128);
    const changed = names.filter((n) => createHash('sha256').update(readFileSync(join(dir, n))).digest('hex') !== golden.sha256[n]);
    expect(changed, 'regenerated files differ from the golden inputs (another libjpeg/libpng?)').toEqual([]);
    const { scores, errors } = await brisque.batchSettled(names.map((n) => join(dir, n)));
    let worst = { name: '', diff: 0 };
    names.forEach((n, i) => {
      expect(errors[i], n).toBeNull();
      const diff = Math.abs(scores[i] - golden.scores[n]);
      if (diff > worst.diff) worst = { name: n, diff };
    });
    console.log(`brisque opencv variant vs cv::imread+QualityBRISQUE on ${names.length} oriented files: max |diff| ${worst.diff.toExponential(2)} (${worst.name})`);
    expect(worst.diff, JSON.stringify(worst)).toBeLessThanOrEqual(1e-3);
    // Scored in stored order, the turned ones (5..8: rows become columns) no longer match.
    const turned = names.filter((n) => /_o[5-8]\.(jpg|png)$/.test(n) && golden.scores[n] > 1);
    const stored = await brisque.batch(turned.map((n) => join(dir, n)), { autoOrient: false });
    const far = turned.filter((n, i) => Math.abs(stored[i] - golden.scores[n]) > 1e-2);
    expect(far.length).toBeGreaterThan(turned.length / 2);
  }, 60_000);

  it('iqa score --no-auto-orient scores the stored order', () => {
    const file = join(dir, 'I03_o6.png'); // written by the test above
    const run = (extra: string[]) => {
      const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'brisque', ...extra, file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout.trim()) as { score: number }).score;
    };
    expect(Math.abs(run([]) - golden.scores['I03_o6.png'])).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(run(['--no-auto-orient']) - golden.scores['I03_o1.png'])).toBeLessThanOrEqual(1e-3);
  });
});
