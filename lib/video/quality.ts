// No-reference video quality: any no-reference metric of the registry (classical or deep)
// applied to the selected frames, then pooled over time.
import { IqaError, toIqaError } from '../core/errors';
import type { RawImage } from '../core/input';
import { withAbort } from '../core/run';
import { zooCards } from '../deep/zoo';
import { resolveMetric, type MetricCliOptions } from '../registry';
import { videoNative } from './native-video';
import { pool, vsfaPool, type Pooled } from './pooling';
import { chunkSize, toNativeRead, toNativeSpec, type FrameSelection, type VideoInfo, type VideoInput } from './source';
import { VideoModel, type VideoModelLoadOptions, type VideoModelManifest } from './video-model';

export interface VideoQualityOptions extends FrameSelection {
  /** A no-reference metric of the registry, or a video model (kind 'video', e.g. 'vsfa'); default 'brisque'. */
  metric?: string;
  /** A video model's manifest (path, model name or object) instead of the metric's own. */
  model?: string | VideoModelManifest;
  /** How a video model's graphs are opened (device, threads, ...). */
  load?: VideoModelLoadOptions;
  /** The metric's options, checked against its card (as `--option key=value`). */
  options?: MetricCliOptions['option'];
  /** Frames decoded and scored per call (default 16). */
  chunk?: number;
  /** VSFA's temporal pooling parameters (Li et al. 2019: τ = 12, β = 0.5). */
  vsfa?: { tau?: number; beta?: number };
  signal?: AbortSignal;
  onProgress?: (framesDone: number) => void;
}

export interface FrameScore {
  index: number;
  time: number;
  score: number;
  error?: IqaError;
}

export interface VideoScore {
  metric: string;
  info: VideoInfo;
  frames: number;
  perFrame: { index: Float64Array; time: Float64Array; scores: Float64Array };
  pooled: Pooled & {
    /** VSFA's pooling of scores oriented "higher is better" (lower-is-better metrics are negated first, then the result negated back). */
    vsfa: number;
  };
  /** The video's score: a video model's own temporal pooling (VSFA: TP then the mean), else the mean. */
  score: number;
  direction: 'higher' | 'lower';
}

const videoModels = new Map<string, Promise<VideoModel>>();

/** The video model a call names (loaded once per manifest and load options), or undefined for an image metric. */
function videoModelFor(o: VideoQualityOptions | undefined): Promise<VideoModel> | undefined {
  const card = zooCards().get(o?.metric ?? 'brisque');
  if (o?.model === undefined && card?.kind !== 'video') return undefined;
  const manifest: string | VideoModelManifest = o?.model ?? card?.manifest ?? '';
  const key = JSON.stringify([manifest, o?.load ?? {}]);
  let m = videoModels.get(key);
  if (!m) {
    // A failed load is not cached: the files may appear (iqa models import) while the process runs.
    m = VideoModel.load(manifest, o?.load).catch((e: unknown) => {
      videoModels.delete(key);
      throw e;
    });
    videoModels.set(key, m);
  }
  return m;
}

type Meta = { info?: VideoInfo; direction?: 'higher' | 'lower'; model?: VideoModel };

async function* frameScores(input: VideoInput, o: VideoQualityOptions | undefined, meta: Meta): AsyncGenerator<FrameScore> {
  const videoModel = videoModelFor(o);
  if (videoModel) {
    const model = (meta.model = await videoModel);
    meta.direction = model.manifest.score.higherIsBetter ? 'higher' : 'lower';
    let done = 0;
    for await (const f of model.frames(input, { ...o, chunk: o?.chunk, onInfo: (i) => (meta.info = i) })) {
      yield f;
      o?.onProgress?.(++done);
    }
    return;
  }
  const name = o?.metric ?? 'brisque';
  const entry = resolveMetric(name);
  if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${name}' is a full-reference metric: use compareVideos`);
  const metricOptions = entry.options({ option: o?.options });
  meta.direction = entry.card.direction === 'lower' ? 'lower' : 'higher';
  const n = videoNative();
  const chunk = chunkSize(o?.chunk, 16);
  const opened = await n.videoReaderOpen(toNativeSpec(input), toNativeRead(o)).catch((e: unknown) => {
    throw toIqaError(e);
  });
  meta.info = opened.info;
  let done = 0;
  try {
    for (;;) {
      const c = await withAbort(o?.signal, (flag) => n.videoReaderNext(opened.handle, chunk, flag));
      if (c.frames.length) {
        const images: RawImage[] = c.frames.map((data) => ({ data, width: c.width, height: c.height, channels: 3, order: 'bgr' }));
        const settled = await entry.fn.batchSettled(images, { ...metricOptions, signal: o?.signal });
        for (let i = 0; i < images.length; i++) {
          const err = settled.errors[i];
          yield { index: c.index[i], time: c.time[i], score: settled.scores[i], ...(err ? { error: err } : {}) };
        }
        done += c.frames.length;
        o?.onProgress?.(done);
      }
      if (c.done) return;
    }
  } finally {
    // Also runs when the consumer stops early (break, throw): the file and decoder go now, not at GC.
    n.videoReaderClose(opened.handle);
  }
}

/** Scores every selected frame with a no-reference metric and pools the scores over time. */
export async function videoQuality(input: VideoInput, options?: VideoQualityOptions): Promise<VideoScore> {
  const meta: Meta = {};
  const index: number[] = [], time: number[] = [], scores: number[] = [];
  for await (const f of frameScores(input, options, meta)) {
    if (f.error) throw f.error;
    index.push(f.index), time.push(f.time), scores.push(f.score);
  }
  if (scores.length === 0) throw new IqaError('ERR_INPUT', 'no frames in the selected range');
  const sign = meta.direction === 'lower' ? -1 : 1;
  const vsfa = sign * vsfaPool(scores.map((s) => sign * s), options?.vsfa?.tau ?? 12, options?.vsfa?.beta ?? 0.5);
  return {
    metric: options?.metric ?? 'brisque',
    info: meta.info as VideoInfo,
    frames: scores.length,
    perFrame: { index: Float64Array.from(index), time: Float64Array.from(time), scores: Float64Array.from(scores) },
    pooled: { ...pool(scores), vsfa },
    score: meta.model ? meta.model.pool(scores) : pool(scores).mean,
    direction: meta.direction ?? 'higher',
  };
}

/** Per-frame records as they are scored; a frame the metric rejects carries its error. */
videoQuality.stream = (input: VideoInput, options?: VideoQualityOptions): AsyncGenerator<FrameScore> => frameScores(input, options, {});
