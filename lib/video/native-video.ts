// The addon's video functions (native/binding/video.cpp).
import { native } from '../core/native';
import type { NativeVideoSpec, VideoInfo } from './source';

export interface NativeCompareChunk {
  index: Float64Array;
  time: Float64Array;
  values: Record<string, Float64Array>;
  done: boolean;
  refExtra: number;
  distExtra: number;
}
export interface NativeFrameChunk {
  index: Float64Array;
  time: Float64Array;
  frames: Buffer[];
  width: number;
  height: number;
  done: boolean;
}
export interface VideoAddon {
  videoProbe(spec: NativeVideoSpec, read: object): Promise<VideoInfo>;
  videoCompareOpen(ref: NativeVideoSpec, dist: NativeVideoSpec, read: object, metrics: object): Promise<{ handle: unknown; ref: VideoInfo; dist: VideoInfo; columns: string[] }>;
  videoCompareNext(handle: unknown, n: number, abort?: unknown): Promise<NativeCompareChunk>;
  videoReaderOpen(spec: NativeVideoSpec, read: object): Promise<{ handle: unknown; info: VideoInfo }>;
  videoReaderNext(handle: unknown, n: number, abort?: unknown): Promise<NativeFrameChunk>;
  videoReaderClose(handle: unknown): void;
  videoCompareClose(handle: unknown): void;
  videoModelOpen(spec: object): Promise<{ handle: unknown; device: string }>;
  videoModelClose(handle: unknown): void;
  videoScorerOpen(model: unknown, spec: NativeVideoSpec, read: object): Promise<{ handle: unknown; info: VideoInfo }>;
  videoScorerNext(handle: unknown, n: number, abort?: unknown): Promise<{ index: Float64Array; time: Float64Array; quality: Float64Array; done: boolean }>;
  videoScorerClose(handle: unknown): void;
}

export function videoNative(): VideoAddon {
  return native() as unknown as VideoAddon;
}
