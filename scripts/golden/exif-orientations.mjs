#!/usr/bin/env node
// Images in all 8 EXIF orientations, for test/orientation.test.ts and its golden
// (scripts/golden/brisque_orientation.mjs): the 5 calibration images and 3 BIQ2021 JPEGs,
// each written as JPEG (its bytes with an APP1 Exif segment; the BMPs encoded at quality 95)
// and as PNG (with an eXIf chunk) in orientations 1..8. The pixels stored are the same in all
// eight; only the tag differs. Also the container writers the decode tests use (WebP EXIF).
//
//   node scripts/golden/exif-orientations.mjs OUTDIR     (needs ../shared and a built addon)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORIENTATION_SOURCES = [
  'calibration/dist_dir/I03.bmp',
  'calibration/dist_dir/I04.bmp',
  'calibration/dist_dir/I06.bmp',
  'calibration/dist_dir/I08.bmp',
  'calibration/dist_dir/I19.bmp',
  'biq2021/images/ss01 (1005).jpg',
  'biq2021/images/ss03 (455).jpg',
  'biq2021/images/ss01 (130).jpg', // stored with orientation 6: that tag is replaced
];

/** A little-endian TIFF structure whose IFD0 holds only Orientation (tag 274, SHORT). */
export function exifPayload(orientation) {
  const b = Buffer.alloc(26);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(1, 8);
  b.writeUInt16LE(274, 10);
  b.writeUInt16LE(3, 12);
  b.writeUInt32LE(1, 14);
  b.writeUInt16LE(orientation, 18);
  b.writeUInt32LE(0, 22);
  return b;
}

/** JPEG bytes with every APP1 Exif segment removed and one carrying `orientation` added. */
export function jpegWithOrientation(jpeg, orientation) {
  const out = [jpeg.subarray(0, 2)];
  let i = 2;
  let inserted = false;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 34]), Buffer.from('Exif\0\0', 'latin1'), exifPayload(orientation)]);
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1];
    if (marker === 0xda) break;
    const len = jpeg.readUInt16BE(i + 2);
    const seg = jpeg.subarray(i, i + 2 + len);
    if (!inserted && marker !== 0xe0) {
      out.push(app1); // after JFIF's APP0, which must come first
      inserted = true;
    }
    const isExif = marker === 0xe1 && seg.subarray(4, 10).toString('latin1') === 'Exif\0\0';
    if (!isExif) out.push(seg);
    i += 2 + len;
  }
  if (!inserted) out.push(app1);
  out.push(jpeg.subarray(i));
  return Buffer.concat(out);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PNG bytes with an eXIf chunk right after IHDR (before IDAT, where readers look for it). */
export function pngWithOrientation(png, orientation) {
  const data = exifPayload(orientation);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('eXIf', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/** A simple-format WebP (one VP8 or VP8L chunk) made extended (VP8X) with an EXIF chunk. */
export function webpWithOrientation(webp, width, height, orientation) {
  const image = webp.subarray(12);
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUInt8(0x08, 8); // EXIF present
  vp8x.writeUIntLE(width - 1, 12, 3);
  vp8x.writeUIntLE(height - 1, 15, 3);
  const payload = exifPayload(orientation);
  const exif = Buffer.alloc(8 + payload.length);
  exif.write('EXIF', 0, 'latin1');
  exif.writeUInt32LE(payload.length, 4);
  payload.copy(exif, 8);
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), vp8x, image, exif]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * An uncompressed little-endian TIFF (one strip, interleaved) of `samples` (Uint8Array for 8-bit,
 * Uint16Array for 16-bit; grey or RGB) whose Orientation tag (274) is `orientation`.
 */
export function tiffWithOrientation(samples, width, height, channels, orientation) {
  const bits = samples.BYTES_PER_ELEMENT * 8;
  const pixels = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const entries = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, channels, channels === 1 ? bits : 146], // 3 values do not fit: stored at 146
    [259, 3, 1, 1],
    [262, 3, 1, channels === 1 ? 1 : 2],
    [273, 4, 1, 152],
    [274, 3, 1, orientation],
    [277, 3, 1, channels],
    [278, 4, 1, height],
    [279, 4, 1, pixels.length],
    [284, 3, 1, 1],
  ];
  const head = Buffer.alloc(152);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], k) => {
    const e = 10 + 12 * k;
    head.writeUInt16LE(tag, e);
    head.writeUInt16LE(type, e + 2);
    head.writeUInt32LE(count, e + 4);
    if (type === 3 && count === 1) head.writeUInt16LE(value, e + 8);
    else head.writeUInt32LE(value, e + 8);
  });
  head.writeUInt32LE(0, 10 + 12 * entries.length);
  for (let c = 0; c < 3; c++) head.writeUInt16LE(bits, 146 + 2 * c);
  return Buffer.concat([head, pixels]);
}

/**
 * Writes `<source>_o<k>.jpg` and `.png` for k = 1..8 into `outDir`; returns their file names.
 * `encode(input, opts)` is iqa-node's encode(); the stored pixels are read with autoOrient false.
 */
export async function writeOrientationSet(encode, sharedData, outDir) {
  mkdirSync(outDir, { recursive: true });
  const names = [];
  for (const src of ORIENTATION_SOURCES) {
    const path = join(sharedData, src);
    const stem = basename(src).replace(/\.[a-z]+$/, '').replace(/[^A-Za-z0-9]+/g, '_');
    const jpeg = src.endsWith('.jpg') ? readFileSync(path) : await encode(path, { format: 'jpeg', quality: 95 });
    const png = await encode(path, { format: 'png', autoOrient: false });
    for (let k = 1; k <= 8; k++) {
      for (const [ext, bytes] of [['jpg', jpegWithOrientation(jpeg, k)], ['png', pngWithOrientation(png, k)]]) {
        const name = `${stem}_o${k}.${ext}`;
        writeFileSync(join(outDir, name), bytes);
        names.push(name);
      }
    }
  }
  return names;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/golden/exif-orientations.mjs OUTDIR');
    process.exit(2);
  }
  const { encode } = await import(join(root, 'dist', 'cjs', 'index.js'));
  const names = await writeOrientationSet(encode, join(root, '..', 'shared', 'data'), out);
  console.log(`wrote ${names.length} images to ${out}`);
}
