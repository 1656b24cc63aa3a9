// The formats people upload, each decoded against an independent decoder (Pillow; OpenCV-Python
// for 16-bit RGB PNG, which Pillow cannot hold) from scripts/golden/decode_formats.py, and each
// fed hostile bytes (truncated, wrong magic, zero-size, huge dimensions) that must give a typed error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocess, sharpness } from '../lib/index';
import { ROOT, rejection } from './helpers';

interface Expected {
  reference: string;
  width: number;
  height: number;
  channels: number;
  bits: number;
  data: number[];
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/decode_formats.json'), 'utf8')) as { files: Record<string, Expected> };
const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/formats', name));

// Lossy codecs may round their transforms differently (Pillow bundles its own libjpeg/libwebp;
// its CMYK->RGB rounds where OpenCV truncates; pillow-heif bundles libheif 1.23, Pillow libavif):
// measured 0 except jpeg-cmyk, avif-rgb and avif-alpha (1 each).
const TOLERANCE: Record<string, number> = {
  'jpeg-cmyk.jpg': 1, 'jpeg-420.jpg': 1, 'jpeg-444-progressive.jpg': 1, 'jpeg-grey.jpg': 1, 'webp-lossy.webp': 1,
  'heic-rgb.heic': 1, 'avif-rgb.avif': 1, 'avif-alpha.avif': 1,
};

describe('decoding against Pillow', () => {
  const names = Object.keys(golden.files);

  it('covers PNG palette/grey 1-16 bit/grey+alpha/tRNS/16-bit, JPEG grey/4:2:0/progressive/CMYK, WebP lossy/lossless/alpha/animated, GIF, TIFF 8/16-bit/LZW/multipage, BMP', () => {
    expect(names.length).toBeGreaterThanOrEqual(29);
    for (const prefix of ['heic-', 'avif-alpha', 'png-palette', 'png-grey1', 'png-grey16', 'png-grey-alpha', 'png-rgba16', 'jpeg-cmyk', 'webp-animated', 'webp-lossless-alpha', 'gif-animated', 'tiff-grey16', 'tiff-grey16-tiled', 'tiff-multipage', 'bmp-'])
      expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
  });

  it.each(names.filter((n) => n !== 'tiff-rgba8.tif' && n !== 'tiff-rgb8-tiled.tif'))('%s: same size, channels, depth and pixels (first frame / page)', async (name) => {
    const want = golden.files[name];
    const got = await preprocess(fixture(name), { autoOrient: false });
    expect([got.width, got.height, got.channels, got.data.BYTES_PER_ELEMENT * 8]).toEqual([want.width, want.height, want.channels, want.bits]);
    let max = 0;
    for (let i = 0; i < want.data.length; i++) max = Math.max(max, Math.abs(got.data[i] - want.data[i]));
    expect(max, `${name} vs ${want.reference}`).toBeLessThanOrEqual(TOLERANCE[name] ?? 0);
  });

  it('tiled 8-bit RGB TIFF: OpenCV 4.6 fails in TIFFReadRGBATile, a typed ERR_DECODE (README known limitation); tiled 16-bit grey decodes', async () => {
    const err = await rejection(preprocess(fixture('tiff-rgb8-tiled.tif')));
    expect(err.code).toBe('ERR_DECODE');
    expect(err.message).toContain('tiff');
    expect(golden.files['tiff-grey16-tiled.tif'].bits).toBe(16);
  });

  it('TIFF with unassociated alpha: alpha exact, colour premultiplied by alpha (OpenCV/libtiff RGBA reader; README known limitation)', async () => {
    const want = golden.files['tiff-rgba8.tif'];
    const got = await preprocess(fixture('tiff-rgba8.tif'));
    expect(got.channels).toBe(4);
    let maxAlpha = 0;
    let maxPremultiplied = 0;
    let maxStored = 0;
    for (let i = 0; i < want.data.length; i += 4) {
      const a = want.data[i + 3];
      maxAlpha = Math.max(maxAlpha, Math.abs(got.data[i + 3] - a));
      for (let c = 0; c < 3; c++) {
        maxPremultiplied = Math.max(maxPremultiplied, Math.abs(got.data[i + c] - Math.floor((want.data[i + c] * a + 127) / 255)));
        maxStored = Math.max(maxStored, Math.abs(got.data[i + c] - want.data[i + c]));
      }
    }
    expect(maxAlpha).toBe(0);
    expect(maxPremultiplied).toBe(0);
    expect(maxStored).toBeGreaterThan(100);
  });

  it('one alpha rule: alpha is ignored and the stored colour scored (as OpenCV drops it), PNG and WebP alike', async () => {
    const [rgb, rgbaPng] = await sharpness.batch([rgbaColour(), fixture('png-rgba8.png')]);
    expect(Math.abs(rgbaPng - rgb)).toBe(0);
    const [webp, webpAlpha] = await sharpness.batch([fixture('webp-lossless.webp'), fixture('webp-lossless-alpha.webp')]);
    expect(Math.abs(webpAlpha - webp)).toBe(0);
  });
});

/** The RGBA fixture's colour as raw RGB pixels (what scoring with alpha ignored must equal). */
function rgbaColour(): { data: Uint8Array; width: number; height: number; channels: 3; order: 'bgr' } {
  const want = golden.files['png-rgba8.png'];
  const data = new Uint8Array(want.width * want.height * 3);
  for (let i = 0, j = 0; i < want.data.length; i += 4, j += 3) data.set(want.data.slice(i, i + 3), j);
  return { data, width: want.width, height: want.height, channels: 3, order: 'bgr' };
}

/** Sets the image dimensions in a file's header (what the pixel limit reads before decoding). */
function withDimensions(name: string, w: number, h: number): Buffer {
  const b = Buffer.from(fixture(name));
  if (name.endsWith('.png')) {
    b.writeUInt32BE(w, 16);
    b.writeUInt32BE(h, 20);
  } else if (name.endsWith('.jpg')) {
    for (let i = 2; i + 9 < b.length; ) {
      const m = b[i + 1];
      if (m >= 0xc0 && m <= 0xc2) {
        b.writeUInt16BE(h, i + 5);
        b.writeUInt16BE(w, i + 7);
        break;
      }
      i += 2 + b.readUInt16BE(i + 2);
    }
  } else if (name.endsWith('.gif')) {
    b.writeUInt16LE(w, 6);
    b.writeUInt16LE(h, 8);
  } else if (name.endsWith('.bmp')) {
    b.writeInt32LE(w, 18);
    b.writeInt32LE(h, 22);
  } else if (name.endsWith('.webp') && b.toString('latin1', 12, 16) === 'VP8L') {
    // 14-bit width-1 and height-1 after the signature byte: 16384 at most
    const bits = b.readUInt32LE(21) & ~0x0fffffff;
    b.writeUInt32LE((bits | (Math.min(w, 16384) - 1) | ((Math.min(h, 16384) - 1) << 14)) >>> 0, 21);
  } else if (name.endsWith('.webp')) {
    // VP8X canvas (the animated fixture): 24-bit width-1, height-1
    b.writeUIntLE(w - 1, 24, 3);
    b.writeUIntLE(h - 1, 27, 3);
  } else if (name.endsWith('.heic') || name.endsWith('.avif')) {
    const ispe = b.indexOf('ispe'); // FullBox: version/flags, then 32-bit width and height
    b.writeUInt32BE(w, ispe + 8);
    b.writeUInt32BE(h, ispe + 12);
    const clap = b.indexOf('clap'); // x265's HEIC crops its padded frame: the clean aperture is the size
    if (clap > 0) [w, 1, h, 1].forEach((v, k) => b.writeUInt32BE(v, clap + 4 + 4 * k));
  } else if (name.endsWith('.tif')) {
    const ifd = b.readUInt32LE(4);
    for (let k = 0; k < b.readUInt16LE(ifd); k++) {
      const e = ifd + 2 + 12 * k;
      const tag = b.readUInt16LE(e);
      if (tag !== 256 && tag !== 257) continue;
      const v = tag === 256 ? w : h;
      if (b.readUInt16LE(e + 2) === 3) b.writeUInt16LE(v, e + 8);
      else b.writeUInt32LE(v, e + 8);
    }
  }
  return b;
}

describe('hostile input per format', () => {
  const families = ['png-rgba8.png', 'png-palette.png', 'jpeg-420.jpg', 'jpeg-cmyk.jpg', 'webp-lossless.webp', 'webp-animated.webp', 'gif-palette.gif', 'tiff-rgb8.tif', 'tiff-grey16.tif', 'bmp-rgb24.bmp', 'heic-rgb.heic', 'avif-alpha.avif'];

  it.each(families)('%s: truncated, wrong magic, zero-size and huge dimensions give typed errors', async (name) => {
    const bytes = fixture(name);
    for (const keep of [0.5, 0.9]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
      expect((await rejection(preprocess(cut))).code, `${name} cut to ${keep}`).toBe('ERR_DECODE');
    }
    const magic = Buffer.from(bytes);
    magic[0] ^= 0x55;
    expect((await rejection(preprocess(magic))).code, `${name} wrong magic`).toBe('ERR_DECODE');
    expect((await rejection(preprocess(Buffer.alloc(0)))).code).toBe('ERR_INPUT');
    const huge = withDimensions(name, 20000, 20000);
    const err = await rejection(preprocess(huge));
    expect(err.code, `${name} 60000x60000: ${err.message}`).toBe('ERR_TOO_LARGE');
  });

  it('an animated GIF cut after its first frame still gives that frame: later frames are never read', async () => {
    const gif = fixture('gif-animated.gif');
    const whole = await preprocess(gif);
    const cut = await preprocess(gif.subarray(0, Math.floor(gif.length * 0.6)));
    expect(Buffer.from(cut.data.buffer).equals(Buffer.from(whole.data.buffer))).toBe(true);
    expect((await rejection(preprocess(gif.subarray(0, 40)))).code).toBe('ERR_DECODE');
  });

  it('recognised but unsupported formats are ERR_DECODE "unsupported format X"; a bare HEIC/AVIF header is libheif\'s ERR_DECODE', async () => {
    const box = (brand: string) => Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from(`ftyp${brand}\0\0\0\0mif1${brand}`, 'latin1')]);
    for (const [format, bytes] of [['HEIC', box('heic')], ['AVIF', box('avif')]] as const) {
      const err = await rejection(preprocess(bytes));
      expect(err.code, format).toBe('ERR_DECODE');
      expect(err.message, format).toMatch(new RegExp(`^${format}: `));
    }
    const cases: [string, Buffer][] = [
      ['JPEG XL', Buffer.from([0xff, 0x0a, 0xfa, 0x7f, 0x01, 0x90, 0x08])],
      ['PSD', Buffer.from('8BPS\0\x01\0\0\0\0\0\0\0\x03', 'latin1')],
    ];
    for (const [format, bytes] of cases) {
      const err = await rejection(preprocess(bytes));
      expect(err.code, format).toBe('ERR_DECODE');
      expect(err.message, format).toContain(`unsupported format ${format}`);
    }
  });

  it("a codec's own message is in the error: libpng and libjpeg say what is wrong", async () => {
    const png = Buffer.from(fixture('png-rgba8.png'));
    png[png.indexOf('IDAT') + 10] ^= 0xff; // inside the compressed data
    const pngErr = await rejection(preprocess(png));
    expect(pngErr.code).toBe('ERR_DECODE');
    expect(pngErr.message).toMatch(/^PNG: /);
    const jpeg = Buffer.from(fixture('jpeg-420.jpg'));
    jpeg.writeUInt16BE(0x0001, jpeg.indexOf(Buffer.from([0xff, 0xc0])) + 5); // 1-row SOF, then a bogus precision
    jpeg[jpeg.indexOf(Buffer.from([0xff, 0xc0])) + 4] = 12;
    const jpegErr = await rejection(preprocess(jpeg));
    expect(jpegErr.code).toBe('ERR_DECODE');
    expect(jpegErr.message).toMatch(/^JPEG: Unsupported JPEG data precision 12/);
  });
});
