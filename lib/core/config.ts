// Process-wide settings, like sharp's limitInputPixels and concurrency.
import { IqaError } from './errors';
import { native } from './native';

/** sharp's default: 0x3FFF * 0x3FFF pixels. */
export const DEFAULT_LIMIT_INPUT_PIXELS = 0x3fff * 0x3fff;

let limitPixels = DEFAULT_LIMIT_INPUT_PIXELS;

/**
 * Largest image (width * height) any call will decode; larger inputs reject with ERR_TOO_LARGE
 * before their pixels are decoded (guards against decompression bombs). 0 or false: no limit.
 * Returns the current value; per-call `limitInputPixels` options override it.
 */
export function limitInputPixels(pixels?: number | boolean): number {
  if (pixels !== undefined) {
    if (pixels === false) limitPixels = 0;
    else if (pixels === true) limitPixels = DEFAULT_LIMIT_INPUT_PIXELS;
    else if (typeof pixels === 'number' && Number.isFinite(pixels) && pixels >= 0) limitPixels = Math.floor(pixels);
    else throw new IqaError('ERR_INPUT', 'limitInputPixels must be a non-negative number or a boolean');
  }
  return limitPixels;
}

export interface DecodeOptions {
  /** Overrides the process-wide pixel limit for this call. */
  limitInputPixels?: number | boolean;
  /**
   * Turn encoded images to their EXIF orientation (JPEG, PNG, WebP, TIFF), as cv::imread,
   * browsers and sharp's rotate() do. Default true; false scores the stored pixel order.
   * Raw pixels and Mats are never turned.
   */
  autoOrient?: boolean;
  /**
   * 'error' (default): a decode that succeeds is scored even if the codec warned (libjpeg
   * "Corrupt JPEG data: ...", libpng CRC warnings). 'warning': such a file is ERR_DECODE with the
   * codec's warnings in the message, as sharp's failOn: 'warning'.
   */
  failOn?: 'error' | 'warning';
}

export function decodeOptions(opts?: DecodeOptions): { limitInputPixels: number; autoOrient: boolean; failOnWarning: boolean } {
  const orient = opts?.autoOrient;
  if (orient !== undefined && typeof orient !== 'boolean') throw new IqaError('ERR_INPUT', 'autoOrient must be a boolean');
  const autoOrient = orient ?? true;
  const failOn = opts?.failOn ?? 'error';
  if (failOn !== 'error' && failOn !== 'warning') throw new IqaError('ERR_INPUT', `failOn must be 'error' or 'warning', got '${String(failOn)}'`);
  const failOnWarning = failOn === 'warning';
  const v = opts?.limitInputPixels;
  let limitInputPixels: number;
  if (v === undefined) limitInputPixels = limitPixels;
  else if (v === false) limitInputPixels = 0;
  else if (v === true) limitInputPixels = DEFAULT_LIMIT_INPUT_PIXELS;
  else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new IqaError('ERR_INPUT', 'limitInputPixels must be a non-negative number or a boolean');
  else limitInputPixels = Math.floor(v);
  return { limitInputPixels, autoOrient, failOnWarning };
}

/** Threads used inside one batch call (OpenCV's pool). Returns the current count. */
export function concurrency(threads?: number): number {
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 0) throw new IqaError('ERR_INPUT', 'concurrency must be a non-negative integer');
    return native().setThreads(threads === 0 ? -1 : threads);
  }
  return native().versions().threads;
}
