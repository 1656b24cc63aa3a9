export { compareVideos, probeVideo, VIDEO_FR_METRICS, type CompareVideosOptions, type VideoComparison, type FrameScores, type VideoFrMetric } from './compare';
export { videoQuality, type VideoQualityOptions, type VideoScore, type FrameScore } from './quality';
export { pool, percentile, vsfaPool, type Pooled } from './pooling';
export type { VideoInput, RawVideo, FrameSelection, VideoInfo } from './source';
export { VideoModel, validateVideoManifest, type VideoModelManifest, type VideoModelLoadOptions } from './video-model';
