export { IqaError, ERROR_CODES, type ErrorCode } from './errors';
export type { ImageInput, RawImage, MatLike, PixelOrder } from './input';
export { limitInputPixels, concurrency, DEFAULT_LIMIT_INPUT_PIXELS, type DecodeOptions } from './config';
export type { CallOptions, SettledBatch, NrMetricFunction, FrMetricFunction } from './run';
export { preprocess, encode, type PreprocessOptions, type DecodedImage, type Tensor, type TensorOptions, type EncodeOptions } from './preprocess';
export { versions, listMetrics, type Versions } from './versions';
export { sharpness, type SharpnessOptions } from './sharpness';
export { psnr, type PsnrOptions } from './psnr';
export { scoreStream, scoreFiles, type ScoreResult, type ScoreStreamOptions, type ScoreFilesOptions, type BatchScorer } from './stream';
