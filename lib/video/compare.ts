// Full-reference video comparison: per-frame PSNR (ffmpeg's psnr filter: per plane and the
// area-weighted average), SSIM (ffmpeg's ssim filter: per plane and "All"), MS-SSIM and GMSD on
// the luma plane, frame-aligned from the first frame of each video, read in bounded chunks.
import { IqaError, toIqaError } from '../core/errors';
import { withAbort } from '../core/run';
import { videoNative } from './native-video';
import { pool, type Pooled } from './pooling';
import { chunkSize, toNativeRead, toNativeSpec, type FrameSelection, type VideoInfo, type VideoInput } from './source';

export const VIDEO_FR_METRICS = ['psnr', 'ssim', 'ms-ssim', 'gmsd'] as const;
export type VideoFrMetric = (typeof VIDEO_FR_METRICS)[number];

export interface CompareVideosOptions extends FrameSelection {
  /** Default ['psnr', 'ssim']. */
  metrics?: readonly VideoFrMetric[];
  /** Frame pairs decoded and scored per native call (default 32). */
  chunk?: number;
  signal?: AbortSignal;
  /** Called after each chunk with the frames compared so far. */
  onProgress?: (framesDone: number) => void;
}

/** One frame pair's scores: mse_y ... psnr_avg, ssim_y ... ssim_all, ms_ssim, gmsd as selected. */
export interface FrameScores {
  index: number;
  time: number;
  values: Record<string, number>;
}

export interface VideoComparison {
  ref: VideoInfo;
  dist: VideoInfo;
  frames: number;
  /** Frames the longer video had past the shorter's end (not compared). */
  unmatchedFrames: { ref: number; dist: number };
  perFrame: { index: Float64Array; time: Float64Array; values: Record<string, Float64Array> };
  pooled: Record<string, Pooled>;
  /** The totals ffmpeg's filters log: PSNR from the mean MSE per plane, SSIM the mean per plane. */
  ffmpeg: { psnr?: { y: number; u: number; v: number; average: number }; ssim?: { y: number; u: number; v: number; all: number } };
}

function metricFlags(metrics: readonly string[] | undefined): Record<string, boolean> {
  const list = metrics ?? ['psnr', 'ssim'];
  if (!Array.isArray(list) || list.length === 0) throw new IqaError('ERR_INPUT', 'metrics must be a non-empty array');
  const flags: Record<string, boolean> = { psnr: false, ssim: false, msssim: false, gmsd: false };
  for (const m of list) {
    if (!(VIDEO_FR_METRICS as readonly string[]).includes(m)) throw new IqaError('ERR_INPUT', `unknown video metric '${String(m)}' (known: ${VIDEO_FR_METRICS.join(', ')})`);
    flags[m === 'ms-ssim' ? 'msssim' : m] = true;
  }
  return flags;
}

interface Session {
  ref: VideoInfo;
  dist: VideoInfo;
  columns: string[];
  chunks: AsyncGenerator<{ index: Float64Array; time: Float64Array; values: Record<string, Float64Array>; refExtra: number; distExtra: number }>;
}

async function openSession(ref: VideoInput, dist: VideoInput, o: CompareVideosOptions | undefined): Promise<Session> {
  const n = videoNative();
  const flags = metricFlags(o?.metrics);
  const read = toNativeRead(o);
  const chunk = chunkSize(o?.chunk, 32);
  const opened = await n.videoCompareOpen(toNativeSpec(ref), toNativeSpec(dist), read, flags).catch((e: unknown) => {
    throw toIqaError(e);
  });
  async function* chunks() {
    try {
      for (;;) {
        const c = await withAbort(o?.signal, (flag) => n.videoCompareNext(opened.handle, chunk, flag));
        yield c;
        if (c.done) return;
      }
    } finally {
      // Also when the consumer stops early: both files and decoders go now, not at GC.
      n.videoCompareClose(opened.handle);
    }
  }
  return { ref: opened.ref, dist: opened.dist, columns: opened.columns, chunks: chunks() };
}

function psnrOf(mse: number): number {
  return mse > 0 ? 10 * Math.log10((255 * 255) / mse) : Infinity;
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** Compares a distorted video with its reference frame by frame; resolves when both are read. */
export async function compareVideos(ref: VideoInput, dist: VideoInput, options?: CompareVideosOptions): Promise<VideoComparison> {
  const s = await openSession(ref, dist, options);
  const parts: { index: Float64Array; time: Float64Array; values: Record<string, Float64Array> }[] = [];
  let frames = 0, refExtra = 0, distExtra = 0;
  for await (const c of s.chunks) {
    parts.push(c);
    frames += c.index.length;
    refExtra = c.refExtra;
    distExtra = c.distExtra;
    options?.onProgress?.(frames);
  }
  if (frames === 0) throw new IqaError('ERR_INPUT', 'no frames in the selected range');
  const join = (get: (p: (typeof parts)[number]) => Float64Array) => {
    const out = new Float64Array(frames);
    let at = 0;
    for (const p of parts) {
      out.set(get(p), at);
      at += get(p).length;
    }
    return out;
  };
  const values: Record<string, Float64Array> = {};
  for (const col of s.columns) values[col] = join((p) => p.values[col]);
  const pooled: Record<string, Pooled> = {};
  for (const col of s.columns) pooled[col] = pool(values[col]);
  const ffmpeg: VideoComparison['ffmpeg'] = {};
  if (values.mse_y) ffmpeg.psnr = { y: psnrOf(mean(values.mse_y)), u: psnrOf(mean(values.mse_u)), v: psnrOf(mean(values.mse_v)), average: psnrOf(mean(values.mse_avg)) };
  if (values.ssim_y) ffmpeg.ssim = { y: mean(values.ssim_y), u: mean(values.ssim_u), v: mean(values.ssim_v), all: mean(values.ssim_all) };
  return {
    ref: s.ref,
    dist: s.dist,
    frames,
    unmatchedFrames: { ref: refExtra, dist: distExtra },
    perFrame: { index: join((p) => p.index), time: join((p) => p.time), values },
    pooled,
    ffmpeg,
  };
}

/** The same comparison as a stream of per-frame records (memory bounded by `chunk`). */
async function* compareVideosStream(ref: VideoInput, dist: VideoInput, options?: CompareVideosOptions): AsyncGenerator<FrameScores> {
  const s = await openSession(ref, dist, options);
  let done = 0;
  for await (const c of s.chunks) {
    for (let i = 0; i < c.index.length; i++) {
      const values: Record<string, number> = {};
      for (const col of s.columns) values[col] = c.values[col][i];
      yield { index: c.index[i], time: c.time[i], values };
    }
    done += c.index.length;
    options?.onProgress?.(done);
  }
}
compareVideos.stream = compareVideosStream;

/** Stream facts without decoding: size, fps, frame count, duration, codec. */
export async function probeVideo(input: VideoInput, options?: FrameSelection): Promise<VideoInfo> {
  return videoNative()
    .videoProbe(toNativeSpec(input), toNativeRead(options))
    .catch((e: unknown) => {
      throw toIqaError(e);
    });
}
