export { IqaError, ERROR_CODES, type ErrorCode } from './errors';
export type { ImageInput, RawImage, MatLike, PixelOrder } from './input';
export { limitInputPixels, concurrency, DEFAULT_LIMIT_INPUT_PIXELS, type DecodeOptions } from './config';
export type { CallOptions, SettledBatch, NrMetricFunction, FrMetricFunction } from './run';
export { preprocess, type PreprocessOptions, type DecodedImage } from './preprocess';
export { versions, listMetrics, type Versions } from './versions';
export { sharpness, type SharpnessOptions } from './sharpness';
export { psnr, type PsnrOptions } from './psnr';
export { brisque, type BrisqueOptions, type BrisqueFunction } from './brisque';
