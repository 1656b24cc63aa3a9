// Hostile inputs: every one rejects with the right IqaError code and the process stays alive.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IqaError, limitInputPixels, preprocess, psnr, sharpness, type ImageInput } from '../lib';
import { ROOT } from './helpers';

const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/images', name));

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid PNG signature + IHDR claiming width x height, with a tiny IDAT. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', new Uint8Array())]);
}

const png = fixture('rgb8.png');
const jpg = fixture('rgb8.jpg');
const raw = (o: Partial<{ data: Uint8Array | Float32Array; width: number; height: number; channels: number; order: string }>) => o as unknown as ImageInput;

const cases: [string, () => ImageInput, string][] = [
  ['empty buffer', () => Buffer.alloc(0), 'ERR_INPUT'],
  ['random bytes', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255)), 'ERR_DECODE'],
  ['truncated JPEG', () => jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'ERR_DECODE'],
  ['truncated PNG', () => png.subarray(0, Math.floor(png.length * 0.6)), 'ERR_DECODE'],
  ['PNG header only', () => png.subarray(0, 33), 'ERR_DECODE'],
  ['PNG claiming 100000x100000', () => pngClaiming(100000, 100000), 'ERR_TOO_LARGE'],
  ['0x0 raw image', () => raw({ data: new Uint8Array(0), width: 0, height: 0, channels: 3 }), 'ERR_INPUT'],
  ['wrong channel count', () => raw({ data: new Uint8Array(8 * 8 * 2), width: 8, height: 8, channels: 2 }), 'ERR_INPUT'],
  ['order contradicting channels', () => raw({ data: new Uint8Array(8 * 8 * 3), width: 8, height: 8, channels: 3, order: 'rgba' }), 'ERR_INPUT'],
  ['data shorter than width*height*channels', () => raw({ data: new Uint8Array(8 * 8 * 3 - 1), width: 8, height: 8, channels: 3 }), 'ERR_INPUT'],
  ['NaN floats', () => raw({ data: new Float32Array(8 * 8).fill(NaN), width: 8, height: 8, channels: 1 }), 'ERR_INPUT'],
  ['Infinity floats', () => raw({ data: new Float32Array(8 * 8).fill(Infinity), width: 8, height: 8, channels: 1 }), 'ERR_INPUT'],
  ['non-integer width', () => raw({ data: new Uint8Array(64), width: 7.5, height: 8, channels: 1 }), 'ERR_INPUT'],
  ['non-existent path', () => '/definitely/not/here.png', 'ERR_INPUT'],
  ['a directory as path', () => ROOT, 'ERR_INPUT'],
  ['an empty file', () => join(mkdtempSync(join(tmpdir(), 'iqa-')), 'empty.png'), 'ERR_INPUT'],
  ['a number', () => 42 as unknown as ImageInput, 'ERR_INPUT'],
  ['null', () => null as unknown as ImageInput, 'ERR_INPUT'],
  ['a Mat of unsupported depth', () => ({ rows: 4, cols: 4, type: 2 /* CV_16U */, getData: () => Buffer.alloc(32) }), 'ERR_INPUT'],
];

describe('hostile inputs reject with typed errors', () => {
  for (const [name, make, code] of cases) {
    it(`${name} -> ${code}`, async () => {
      if (name === 'an empty file') require('node:fs').writeFileSync(make() as string, '');
      const input = make();
      for (const call of [() => sharpness(input), () => preprocess(input), () => psnr(input, input)]) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(IqaError);
        expect((err as IqaError).code).toBe(code);
      }
    });
  }

  it('a batch records each bad item and scores the good ones', async () => {
    const inputs = [png, Buffer.alloc(0), jpg.subarray(0, 100), '/nope.png', png];
    const { scores, errors } = await sharpness.batchSettled(inputs);
    expect(Number.isFinite(scores[0]) && Number.isFinite(scores[4])).toBe(true);
    expect(errors.map((e) => e?.code ?? null)).toEqual([null, 'ERR_INPUT', 'ERR_DECODE', 'ERR_INPUT', null]);
    expect(errors[3]?.input).toBe('/nope.png');
    expect(Number.isNaN(scores[1]) && Number.isNaN(scores[2]) && Number.isNaN(scores[3])).toBe(true);
  });
});

describe('pixel limit (decompression bombs)', () => {
  it('per-call limitInputPixels rejects before decoding', async () => {
    await expect(sharpness(png, { limitInputPixels: 100 })).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    await expect(sharpness(png, { limitInputPixels: 37 * 29 })).resolves.toBeGreaterThan(0);
  });
  it('the process-wide limit applies to every call and can be lifted', async () => {
    const before = limitInputPixels();
    try {
      limitInputPixels(1000);
      await expect(sharpness(png)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
      await expect(sharpness(raw({ data: new Uint8Array(40 * 40), width: 40, height: 40, channels: 1 }))).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
      limitInputPixels(false);
      await expect(sharpness(png)).resolves.toBeGreaterThan(0);
    } finally {
      limitInputPixels(before);
    }
  });
  it('the default limit is sharp\'s 0x3FFF * 0x3FFF', () => {
    expect(limitInputPixels()).toBe(0x3fff * 0x3fff);
  });
  it('rejects a bad limit value with ERR_INPUT', () => {
    expect(() => limitInputPixels(-1)).toThrow(IqaError);
  });
});
