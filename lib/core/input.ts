// Normalises every accepted image form into the descriptor the addon reads. Decoding and
// colour conversion happen in native code; this only checks shapes and picks views.
import { IqaError } from './errors';

export type PixelOrder = 'gray' | 'rgb' | 'bgr' | 'rgba' | 'bgra';

/** Raw pixels. 8-bit data is 0..255; Float32Array data is 0..1. */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  width: number;
  height: number;
  /** Defaults to data.length / (width * height). */
  channels?: 1 | 3 | 4;
  /** Defaults to gray, rgb or rgba by channel count. */
  order?: PixelOrder;
}

/** An opencv4nodejs-style Mat (duck-typed): BGR(A) or gray, CV_8U or CV_32F (0..1). */
export interface MatLike {
  rows: number;
  cols: number;
  type: number;
  getData(): Buffer | Uint8Array;
}

/** A file path, encoded bytes (JPEG, PNG, WebP, BMP, TIFF, ...), raw pixels or a Mat. */
export type ImageInput = string | Buffer | Uint8Array | RawImage | MatLike;

export type NativeInput =
  | { path: string }
  | { data: Uint8Array }
  | { data: Uint8Array | Uint8ClampedArray | Float32Array; width: number; height: number; channels: number; order: PixelOrder };

const ORDERS: readonly PixelOrder[] = ['gray', 'rgb', 'bgr', 'rgba', 'bgra'];
const DEFAULT_ORDER: Record<number, PixelOrder> = { 1: 'gray', 3: 'rgb', 4: 'rgba' };

function isMatLike(x: object): x is MatLike {
  const m = x as Partial<MatLike>;
  return typeof m.rows === 'number' && typeof m.cols === 'number' && typeof m.type === 'number' && typeof m.getData === 'function';
}

function fromMat(m: MatLike): NativeInput {
  // OpenCV type codes: depth = type & 7 (0 = CV_8U, 5 = CV_32F), channels = (type >> 3) + 1.
  const depth = m.type & 7;
  const channels = (m.type >> 3) + 1;
  if (depth !== 0 && depth !== 5) throw new IqaError('ERR_INPUT', `unsupported Mat depth ${depth} (CV_8U or CV_32F only)`);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new IqaError('ERR_INPUT', `unsupported Mat channel count ${channels}`);
  const bytes = m.getData();
  if (!(bytes instanceof Uint8Array)) throw new IqaError('ERR_INPUT', 'Mat.getData() must return a Buffer');
  let data: Uint8Array | Float32Array = bytes;
  if (depth === 5) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
    data = new Float32Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / 4));
  }
  return { data, width: m.cols, height: m.rows, channels, order: channels === 1 ? 'gray' : channels === 3 ? 'bgr' : 'bgra' };
}

function fromRaw(r: RawImage): NativeInput {
  const { data, width, height } = r;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Float32Array))
    throw new IqaError('ERR_INPUT', 'raw image data must be a Uint8Array, Uint8ClampedArray or Float32Array');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
    throw new IqaError('ERR_INPUT', `raw image width and height must be positive integers, got ${width}x${height}`);
  let channels: number | undefined = r.channels;
  if (channels === undefined) {
    const inferred = data.length / (width * height);
    if (inferred === 1 || inferred === 3 || inferred === 4) channels = inferred;
    else throw new IqaError('ERR_INPUT', `cannot infer channels: ${data.length} samples for ${width}x${height} pixels`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new IqaError('ERR_INPUT', `raw image channels must be 1, 3 or 4, got ${channels}`);
  const order = r.order ?? DEFAULT_ORDER[channels];
  if (!ORDERS.includes(order)) throw new IqaError('ERR_INPUT', `unknown pixel order '${String(order)}'`);
  if (data.length !== width * height * channels)
    throw new IqaError('ERR_INPUT', `raw image data has ${data.length} samples, ${width}x${height}x${channels} needs ${width * height * channels}`);
  return { data, width, height, channels, order };
}

export function toNativeInput(input: ImageInput): NativeInput {
  if (typeof input === 'string') {
    if (input.length === 0) throw new IqaError('ERR_INPUT', 'empty path');
    return { path: input };
  }
  if (input instanceof Uint8Array) {
    if (input.byteLength === 0) throw new IqaError('ERR_INPUT', 'empty image buffer');
    return { data: input };
  }
  if (input !== null && typeof input === 'object') {
    if (isMatLike(input)) return fromMat(input);
    if ('data' in input) return fromRaw(input as RawImage);
  }
  throw new IqaError('ERR_INPUT', 'image input must be a path, a Buffer/Uint8Array of encoded bytes, raw pixels {data,width,height} or a Mat');
}

/** A short label for an input, used in batch error reports. */
export function describeInput(input: ImageInput, index: number): string | number {
  return typeof input === 'string' ? input : index;
}
