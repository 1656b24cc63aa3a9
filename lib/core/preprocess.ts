import { decodeOptions } from './config';
import type { ImageInput } from './input';
import { toNativeInput } from './input';
import { native } from './native';
import { splitCallOptions, withAbort, type CallOptions } from './run';

/**
 * Resize backends: OpenCV's INTER_AREA/LINEAR/CUBIC; MATLAB imresize bicubic with antialiasing;
 * Pillow's Image.resize filters (what torchvision's Resize does on PIL images; antialiased when
 * shrinking, Pillow's pixels bit for bit on 8-bit images).
 */
export type Interp = 'area' | 'bilinear' | 'bicubic' | 'matlab-bicubic' | 'pil-nearest' | 'pil-box' | 'pil-bilinear' | 'pil-hamming' | 'pil-bicubic' | 'pil-lanczos' | 'tf-gaussian' | 'tf-bicubic';

export interface PreprocessOptions extends CallOptions {
  /** Grey conversion: MATLAB rgb2gray (classical metrics), OpenCV's BGR2GRAY, Pillow's convert('L') or TensorFlow's rgb_to_grayscale (float32 out). */
  gray?: 'matlab' | 'opencv' | 'pil' | 'tf';
  /** Crop first (x, y, width, height in pixels). */
  crop?: { x: number; y: number; width: number; height: number };
  /** Then convert to float64 with full scale mapped to this value (e.g. 1 or 255). */
  float?: number;
  /** Finally resize; 'matlab-bicubic' is MATLAB imresize with antialiasing (always float64 out); 'pil-*' keep the depth. */
  resize?: { width?: number; height?: number; /** matlab-bicubic only: imresize(img, scale) */ scale?: number; interp?: Interp };
  /**
   * After the resize, on a grey image: I - up(down(lowpass(I))) (the manifest's
   * preprocess.highpass; float32 out on the unit scale). Defaults: ksize 16, sigma 7/6, factor 4,
   * interp 'tf-bicubic'.
   */
  highpass?: { ksize?: number; sigma?: number; factor?: number; interp?: Interp };
  /**
   * JPEG: decode at 1/2, 1/4 or 1/8 scale (libjpeg-turbo DCT scaling) to the smallest size still
   * at least resize's width and height, then resize; faster on large photos, pixels differ
   * slightly from a full decode. Needs resize {width, height} and no crop.
   */
  shrinkOnLoad?: boolean;
}

export interface TensorOptions {
  /** 3 (default) or 1 output channels. */
  channels?: 1 | 3;
  /** RGB channel order (default true), else BGR. */
  rgb?: boolean;
  /** Per-channel mean and std applied to pixel / full-scale (e.g. ImageNet's). */
  mean?: [number, number, number];
  std?: [number, number, number];
}

export interface Tensor {
  data: Float32Array;
  /** [1, C, H, W] */
  dims: [number, number, number, number];
}

export interface DecodedImage {
  data: Uint8Array | Uint16Array | Float32Array | Float64Array;
  width: number;
  height: number;
  channels: number;
  /** Channel order of `data` (OpenCV order). */
  order: 'gray' | 'bgr' | 'bgra';
}


/** Decodes an image and runs the shared conversion path; returns the pixels. */
export function preprocess(img: ImageInput, opts?: PreprocessOptions): Promise<DecodedImage>;
/** With `tensor`, the last step packs an NCHW float32 tensor: (pixel / full_scale - mean) / std. */
export function preprocess(img: ImageInput, opts: PreprocessOptions & { tensor: TensorOptions }): Promise<Tensor>;
export function preprocess(img: ImageInput, opts: PreprocessOptions & { tensor?: TensorOptions } = {}): Promise<DecodedImage | Tensor> {
  return withAbort(opts.signal, async () => {
    const { rest: ops } = splitCallOptions(opts);
    return (await native().preprocess(toNativeInput(img), decodeOptions(opts), ops)) as DecodedImage | Tensor;
  });
}

export interface EncodeOptions extends CallOptions {
  format?: 'png' | 'jpeg' | 'webp' | 'bmp' | 'tiff';
  /** JPEG/WebP quality 1-100 (default 90); WebP 101 is lossless. */
  quality?: number;
}

/** Encodes any image input (raw pixels from preprocess() included) with OpenCV's codecs. */
export function encode(img: ImageInput, opts: EncodeOptions = {}): Promise<Buffer> {
  return withAbort(opts.signal, async () =>
    native().encode(toNativeInput(img), decodeOptions(opts), { format: opts.format ?? 'png', quality: opts.quality ?? 90 }),
  );
}
