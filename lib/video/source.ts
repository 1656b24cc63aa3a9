// What a video call reads: a container file (MP4, MKV, WebM, AVI, Y4M, ... through libavformat)
// or a raw yuv420p file of known geometry, and which of its frames.
import { decodeOptions, type DecodeOptions } from '../core/config';
import { IqaError } from '../core/errors';

/** A raw planar YUV 4:2:0 file: frames of width x height back to back. */
export interface RawVideo {
  path: string;
  width: number;
  height: number;
  /** Frames per second, for timestamps and time ranges (default 25). */
  fps?: number;
  pixelFormat?: 'yuv420p';
}
export type VideoInput = string | RawVideo;

export interface FrameSelection extends DecodeOptions {
  /** Seconds: the first frame kept is the first at or after this time (frame-accurate). */
  start?: number;
  /** Seconds, exclusive. */
  end?: number;
  /** Keep every step-th frame of the range (default 1). `everyNth` is the same. */
  step?: number;
  everyNth?: number;
  /** Stop after this many kept frames. */
  maxFrames?: number;
  /** Longest one frame's read and decode may take, in ms (default 10000): a stalled read fails with ERR_DECODE. */
  timeoutMs?: number;
  /** libavcodec decoding threads per video (default 1; 0: one per core). */
  decodeThreads?: number;
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  /** From the container header; -1 when it does not say. */
  frameCount: number;
  /** Seconds; -1 when unknown. */
  duration: number;
  codec: string;
  pixelFormat: string;
}

export interface NativeVideoSpec {
  path: string;
  raw?: { width: number; height: number; fps: number };
}

function positiveInteger(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new IqaError('ERR_INPUT', `${name} must be a positive integer`);
  return v;
}

function nonNegative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new IqaError('ERR_INPUT', `${name} must be a non-negative number`);
  return v;
}

export function toNativeSpec(input: VideoInput): NativeVideoSpec {
  if (typeof input === 'string') {
    if (!input) throw new IqaError('ERR_INPUT', 'video path is empty');
    return { path: input };
  }
  if (!input || typeof input !== 'object' || typeof input.path !== 'string') throw new IqaError('ERR_INPUT', 'a video is a path or {path, width, height} for raw yuv420p');
  if (input.pixelFormat !== undefined && input.pixelFormat !== 'yuv420p') throw new IqaError('ERR_INPUT', `raw pixel format '${String(input.pixelFormat)}' is not supported (yuv420p)`);
  const fps = input.fps === undefined ? 25 : input.fps;
  if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps)) throw new IqaError('ERR_INPUT', 'raw video fps must be a positive number');
  return { path: input.path, raw: { width: positiveInteger(input.width, 'raw video width'), height: positiveInteger(input.height, 'raw video height'), fps } };
}

export function toNativeRead(o: FrameSelection | undefined): Record<string, number> {
  const r: Record<string, number> = { maxPixels: decodeOptions(o).limitInputPixels };
  if (!o) return r;
  if (o.step !== undefined && o.everyNth !== undefined && o.step !== o.everyNth) throw new IqaError('ERR_INPUT', 'step and everyNth differ');
  const step = o.step ?? o.everyNth;
  if (step !== undefined) r.step = positiveInteger(step, 'step');
  if (o.start !== undefined) r.start = nonNegative(o.start, 'start');
  if (o.end !== undefined) r.end = nonNegative(o.end, 'end');
  if (r.end !== undefined && r.end <= (r.start ?? 0)) throw new IqaError('ERR_INPUT', 'end must be after start');
  if (o.maxFrames !== undefined) r.maxFrames = positiveInteger(o.maxFrames, 'maxFrames');
  if (o.timeoutMs !== undefined) r.timeoutMs = positiveInteger(o.timeoutMs, 'timeoutMs');
  if (o.decodeThreads !== undefined) {
    if (!Number.isInteger(o.decodeThreads) || o.decodeThreads < 0 || o.decodeThreads > 64) throw new IqaError('ERR_INPUT', 'decodeThreads must be an integer in [0, 64]');
    r.threads = o.decodeThreads;
  }
  return r;
}

/** Frames per native call: bounds memory (each chunk holds this many decoded frames per video). */
export function chunkSize(v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1 || v > 4096) throw new IqaError('ERR_INPUT', 'chunk must be an integer in [1, 4096]');
  return v;
}
