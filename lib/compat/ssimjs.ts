// iqa-node/ssim.js: a drop-in for ssim.js 3.5 (`import { ssim } from 'ssim.js'`), same
// signature, options, validation messages and numbers, computed natively and synchronously.
// The option handling below mirrors ssim.js's own (src/index.ts, defaults.ts) so that the same
// calls throw the same errors; the pixel work is native/core/fr/ssimjs.cpp.
import { IqaError, toIqaError } from '../core/errors';
import { native } from '../core/native';

export type SsimMode = 'fast' | 'original' | 'bezkrovny' | 'weber';

export type Options = {
  rgb2grayVersion: 'original' | 'integer';
  k1: number;
  k2: number;
  ssim: SsimMode;
  windowSize: number;
  bitDepth: number;
  downsample: 'original' | 'fast' | false;
  maxSize?: number;
};

/** ssim.js's Matrix: row-major values in a plain array. */
export type Matrix = { width: number; height: number; data: number[] };
export type MSSIMMatrix = Matrix & { mssim: number };

/** An ImageData-like object: 4 samples (RGBA) per pixel, row-major. */
export type ImageData = {
  readonly data: Uint8ClampedArray | Uint8Array | ArrayLike<number>;
  readonly width: number;
  readonly height: number;
};

export const defaults: Options = {
  windowSize: 11,
  k1: 0.01,
  k2: 0.03,
  bitDepth: 8,
  downsample: 'original',
  ssim: 'weber',
  maxSize: 256,
  rgb2grayVersion: 'integer',
};

const MODES: readonly SsimMode[] = ['fast', 'original', 'bezkrovny', 'weber'];

function validateOptions(options: Options): void {
  Object.keys(options).forEach((option) => {
    if (!(option in defaults)) throw new Error(`"${option}" is not a valid option`);
  });
  if ('k1' in options && (typeof options.k1 !== 'number' || options.k1 < 0)) throw new Error(`Invalid k1 value. Default is ${defaults.k1}`);
  if ('k2' in options && (typeof options.k2 !== 'number' || options.k2 < 0)) throw new Error(`Invalid k2 value. Default is ${defaults.k2}`);
  if (!(MODES as readonly string[]).includes(options.ssim as string)) throw new Error(`Invalid ssim option (use: ${MODES.join(', ')})`);
}

export function getOptions(userOptions?: Partial<Options>): Options {
  const options = { ...defaults, ...userOptions } as Options;
  validateOptions(options);
  return options;
}

type NativePixels = Uint8Array | Uint8ClampedArray | Float64Array;
type NativeMap = { data: Float64Array; width: number; height: number; mssim: number };
interface NativeSsimJs {
  ssimJs(a: NativePixels, b: NativePixels, width: number, height: number, params: object): NativeMap;
  ssimJsAsync(a: NativePixels, b: NativePixels, width: number, height: number, params: object): Promise<NativeMap>;
}

// ssim.js's rgb2grayInteger / rgb2gray for data the native path does not take (plain arrays,
// other typed arrays, short buffers): the same loop, so undefined samples give the same NaN/0.
function grayInJs(d: ArrayLike<number>, width: number, height: number, original: boolean): Float64Array {
  if (original) {
    const u8 = new Uint8Array(width * height);
    for (let i = 0; i < d.length; i += 4) u8[i / 4] = 0.29894 * d[i] + 0.58704 * d[i + 1] + 0.11402 * d[i + 2] + 0.5;
    return Float64Array.from(u8);
  }
  const out = new Float64Array(width * height).fill(NaN);
  for (let i = 0; i < d.length && i / 4 < out.length; i += 4) out[i / 4] = (77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2] + 128) >> 8;
  return out;
}

function pixelsOf(img: ImageData, original: boolean): Uint8Array | Uint8ClampedArray | Float64Array {
  const { data, width, height } = img;
  if ((data instanceof Uint8Array || data instanceof Uint8ClampedArray) && data.length >= 4 * width * height) return data;
  return grayInJs(data, width, height, original);
}

function toPlainArray(f: Float64Array): number[] {
  const out = new Array<number>(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i];
  return out;
}

type Prepared = { args: [NativePixels, NativePixels, number, number, object]; weber: boolean };

// ssim.js's option handling and checks, in its order; returns the native call's arguments.
function prepare(image1: ImageData, image2: ImageData, userOptions?: Partial<Options>): Prepared {
  const options = getOptions(userOptions);
  if (image1.width !== image2.width || image1.height !== image2.height) throw new Error('Image dimensions do not match');
  const { width, height } = image1;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0)
    throw new IqaError('ERR_INPUT', `image width and height must be non-negative integers, got ${width}x${height}`);
  if (!Number.isInteger(options.windowSize) || options.windowSize < 1)
    throw new IqaError('ERR_INPUT', `windowSize must be a positive integer, got ${options.windowSize}`);
  const original = options.rgb2grayVersion === 'original';
  const L = 2 ** options.bitDepth - 1;
  // Each ssim.js mode computes its constants with its own expression; keep them.
  const weber = options.ssim === 'weber';
  const c1 = weber ? options.k1 * L * (options.k1 * L) : (options.k1 * L) ** 2;
  const c2 = weber ? options.k2 * L * (options.k2 * L) : (options.k2 * L) ** 2;
  const params = {
    mode: options.ssim,
    windowSize: options.windowSize,
    c1,
    c2,
    downsample: options.downsample === 'original',
    maxSize: options.maxSize === undefined ? 256 : Number(options.maxSize),
    grayOriginal: original,
  };
  return { args: [pixelsOf(image1, original), pixelsOf(image2, original), width, height, params], weber };
}

function finish(r: NativeMap, weber: boolean, start: number): { ssim_map: Matrix | MSSIMMatrix; mssim: number; performance: number } {
  const data = toPlainArray(r.data);
  const ssim_map: Matrix | MSSIMMatrix = weber ? { data, width: r.width, height: r.height, mssim: r.mssim } : { data, width: r.width, height: r.height };
  return { mssim: r.mssim, ssim_map, performance: new Date().getTime() - start };
}

/**
 * ssim.js's `ssim(image1, image2, options)`: `{ mssim, ssim_map, performance }`, synchronous.
 * Differences from ssim.js: width, height and windowSize must be non-negative integers (ssim.js
 * fails in various ways otherwise); such inputs throw an IqaError (ERR_INPUT).
 */
export function ssim(
  image1: ImageData,
  image2: ImageData,
  userOptions?: Partial<Options>,
): { ssim_map: Matrix | MSSIMMatrix; mssim: number; performance: number } {
  const start = new Date().getTime();
  const { args, weber } = prepare(image1, image2, userOptions);
  let r: NativeMap;
  try {
    r = (native() as unknown as NativeSsimJs).ssimJs(...args);
  } catch (e) {
    throw toIqaError(e);
  }
  return finish(r, weber, start);
}

/**
 * The same computation off the main thread (not part of ssim.js): resolves with what `ssim`
 * returns; option and size errors reject. Keep the pixel buffers unchanged until it settles.
 */
export async function ssimAsync(
  image1: ImageData,
  image2: ImageData,
  userOptions?: Partial<Options>,
): Promise<{ ssim_map: Matrix | MSSIMMatrix; mssim: number; performance: number }> {
  const start = new Date().getTime();
  const { args, weber } = prepare(image1, image2, userOptions);
  let r: NativeMap;
  try {
    r = await (native() as unknown as NativeSsimJs).ssimJsAsync(...args);
  } catch (e) {
    throw toIqaError(e);
  }
  return finish(r, weber, start);
}

export default ssim;
