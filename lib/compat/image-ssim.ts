// iqa-node/image-ssim: a drop-in for image-ssim 0.2 (`compare(image1, image2, windowSize?, K1?,
// K2?, luminance?, bitsPerComponent?)` -> `{ ssim, mcs }`), same numbers, computed natively.
// Argument defaults and constants mirror image-ssim's index.ts; the pixel work is
// native/core/fr/ssimjs.cpp (image_ssim_compare).
import { IqaError, toIqaError } from '../core/errors';
import { native } from '../core/native';

/** Grey = 1, GreyAlpha = 2, RGB = 3, RGBAlpha = 4 */
export enum Channels {
  Grey = 1,
  GreyAlpha = 2,
  RGB = 3,
  RGBAlpha = 4,
}

export type Data = number[] | ArrayLike<number> | Uint8Array;

export interface IImage {
  data: Data;
  width: number;
  height: number;
  channels: Channels;
}

export interface IResult {
  ssim: number;
  mcs: number;
}

interface NativeImageSsim {
  imageSsim(
    a: Uint8Array | Uint8ClampedArray | Float64Array,
    ca: number,
    b: Uint8Array | Uint8ClampedArray | Float64Array,
    cb: number,
    width: number,
    height: number,
    windowSize: number,
    c1: number,
    c2: number,
    luminance: boolean,
  ): IResult;
}

function samples(data: Data): Uint8Array | Uint8ClampedArray | Float64Array {
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Float64Array) return data;
  return Float64Array.from(data as ArrayLike<number>);
}

function channelsOf(c: unknown): number {
  // image-ssim switches on the value with ===: anything but 1..4 leaves the luma at zero.
  return c === 1 || c === 2 || c === 3 || c === 4 ? c : 0;
}

/**
 * image-ssim's `compare`. Differences: width, height and windowSize must be non-negative
 * (windowSize positive) integers, else an IqaError (ERR_INPUT) is thrown where image-ssim would
 * loop forever or fail.
 * @throws new Error('Images have different sizes!')
 */
export function compare(
  image1: IImage,
  image2: IImage,
  windowSize: number = 8,
  K1: number = 0.01,
  K2: number = 0.03,
  luminance: boolean = true,
  bitsPerComponent: number = 8,
): IResult {
  if (image1.width !== image2.width || image1.height !== image2.height) throw new Error('Images have different sizes!');
  const { width, height } = image1;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0)
    throw new IqaError('ERR_INPUT', `image width and height must be non-negative integers, got ${width}x${height}`);
  if (!Number.isInteger(windowSize) || windowSize < 1) throw new IqaError('ERR_INPUT', `windowSize must be a positive integer, got ${windowSize}`);
  const L = (1 << bitsPerComponent) - 1;
  const c1 = Math.pow(K1 * L, 2);
  const c2 = Math.pow(K2 * L, 2);
  try {
    return (native() as unknown as NativeImageSsim).imageSsim(
      samples(image1.data),
      channelsOf(image1.channels),
      samples(image2.data),
      channelsOf(image2.channels),
      width,
      height,
      windowSize,
      c1,
      c2,
      Boolean(luminance),
    );
  } catch (e) {
    throw toIqaError(e);
  }
}
