// Video quality models (VSFA and the like): a per-frame feature graph and a recurrent temporal
// graph named by a video manifest (models/video-manifest.schema.json), run natively over the
// frames of one video in chunks (the recurrent state carries over), then pooled over time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IqaError, toIqaError } from '../core/errors';
import { loadOrt, ortLibraryPath, packageRoot } from '../core/native';
import { withAbort } from '../core/run';
import { validateSchema, type Schema } from '../core/schema';
import { readManifest, resolveModelFile, sha256File, type LoadedManifest } from '../deep/manifest';
import { videoNative } from './native-video';
import { pool, vsfaPool } from './pooling';
import { chunkSize, toNativeRead, toNativeSpec, type FrameSelection, type VideoInfo, type VideoInput } from './source';

export interface VideoModelManifest {
  $schema?: string;
  schemaVersion: 1;
  name: string;
  task: 'video-quality';
  description?: string;
  frames: { colorOrder: 'rgb' | 'bgr'; normalize: { scale: 'unit' | 'byte'; mean: number[]; std: number[] }; resize?: null; batch?: number };
  features: { file: string; sha256?: string; input: string; output: string; size: number };
  temporal: { file: string; sha256?: string; inputs: [string, string]; outputs: [string, string]; stateSize: number };
  pooling: { type: 'vsfa' | 'mean'; tau?: number; beta?: number };
  score: { range: [number, number]; higherIsBetter: boolean };
  source: { url?: string; license: string; citation?: string; note?: string };
}

export interface VideoModelLoadOptions {
  /** 'cpu' (default), 'cuda', or 'auto' (CUDA when it loads). */
  device?: 'cpu' | 'cuda' | 'auto';
  strictDevice?: boolean;
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimization?: 'disable' | 'basic' | 'extended' | 'all';
  cudaDeviceId?: number;
  ortLibrary?: string;
  /**
   * Frames per feature-graph run (default: the manifest's, 32 for VSFA). The numbers do not depend
   * on it; memory does (full-resolution ResNet-50 activations are about 35 MB per 960x540 frame).
   */
  frameBatch?: number;
  /** Check the graphs' sha256 against the manifest (default true). */
  verify?: boolean;
  /** Folder relative file names resolve against, for a manifest given as an object. */
  baseDir?: string;
}

let schemaCache: Schema | undefined;

/** Schema + the checks a schema cannot express; throws ERR_MODEL listing every problem. */
export function validateVideoManifest(m: unknown, where = 'manifest'): VideoModelManifest {
  schemaCache ??= JSON.parse(readFileSync(join(packageRoot(), 'models', 'video-manifest.schema.json'), 'utf8')) as Schema;
  const errs = validateSchema(m, schemaCache);
  if (errs.length === 0) {
    const n = (m as VideoModelManifest).frames.normalize;
    for (const k of ['mean', 'std'] as const) if (n[k].length === 2) errs.push(`manifest.frames.normalize.${k}: needs 1 or 3 values`);
  }
  if (errs.length) throw new IqaError('ERR_MODEL', `invalid video model manifest ${where}:\n  ${errs.join('\n  ')}`);
  return m as VideoModelManifest;
}

/** A loaded video model: both graphs open, reusable for any number of videos (one at a time or several in parallel). */
export class VideoModel {
  private constructor(
    private handle: unknown,
    readonly manifest: VideoModelManifest,
    readonly device: string,
  ) {}

  static async load(manifestOrPath: string | VideoModelManifest, opts: VideoModelLoadOptions = {}): Promise<VideoModel> {
    const lm: LoadedManifest<VideoModelManifest> = readManifest(manifestOrPath, opts.baseDir, validateVideoManifest);
    if (opts.frameBatch !== undefined && !(Number.isInteger(opts.frameBatch) && opts.frameBatch >= 1 && opts.frameBatch <= 1024))
      throw new IqaError('ERR_INPUT', 'frameBatch must be an integer in [1, 1024]');
    const m = lm.manifest;
    loadOrt(opts.ortLibrary);
    const files = [m.features, m.temporal].map((g) => ({ path: resolveModelFile(lm, g.file), sha256: g.sha256 }));
    for (const f of files) {
      if (!(opts.verify ?? true) || !f.sha256) continue;
      const digest = await sha256File(f.path).catch(() => {
        throw new IqaError('ERR_MODEL', `model file not found: ${f.path}`);
      });
      if (digest !== f.sha256) throw new IqaError('ERR_MODEL', `model file ${f.path} has sha256 ${digest}, the manifest says ${f.sha256}`);
    }
    const spec = {
      featuresPath: files[0].path,
      featuresInput: m.features.input,
      featuresOutput: m.features.output,
      temporalPath: files[1].path,
      temporalInputs: m.temporal.inputs,
      temporalOutputs: m.temporal.outputs,
      featureSize: m.features.size,
      stateSize: m.temporal.stateSize,
      rgb: m.frames.colorOrder === 'rgb',
      scale: m.frames.normalize.scale === 'unit' ? 1 / 255 : 1,
      mean: m.frames.normalize.mean,
      std: m.frames.normalize.std,
      batch: opts.frameBatch ?? m.frames.batch ?? 32,
      session: {
        device: opts.device ?? 'cpu',
        strictDevice: opts.strictDevice ?? false,
        intraOpThreads: opts.intraOpThreads,
        interOpThreads: opts.interOpThreads,
        graphOptimization: opts.graphOptimization,
        cudaDeviceId: opts.cudaDeviceId,
        libraryPath: ortLibraryPath(opts.ortLibrary),
      },
    };
    const opened = await videoNative()
      .videoModelOpen(spec)
      .catch((e: unknown) => {
        throw toIqaError(e);
      });
    return new VideoModel(opened.handle, m, opened.device);
  }

  /** Per-frame quality of the selected frames as they are scored (memory bounded by `chunk`). */
  async *frames(input: VideoInput, o?: FrameSelection & { chunk?: number; signal?: AbortSignal; onInfo?: (i: VideoInfo) => void }): AsyncGenerator<{ index: number; time: number; score: number }> {
    const n = videoNative();
    const chunk = chunkSize(o?.chunk, 32);
    const opened = await n.videoScorerOpen(this.handle, toNativeSpec(input), toNativeRead(o)).catch((e: unknown) => {
      throw toIqaError(e);
    });
    o?.onInfo?.(opened.info);
    try {
      for (;;) {
        const c = await withAbort(o?.signal, (flag) => n.videoScorerNext(opened.handle, chunk, flag));
        for (let i = 0; i < c.quality.length; i++) yield { index: c.index[i], time: c.time[i], score: c.quality[i] };
        if (c.done) return;
      }
    } finally {
      n.videoScorerClose(opened.handle);
    }
  }

  /** The manifest's temporal pooling of per-frame quality (VSFA's TP, or the mean). */
  pool(scores: ArrayLike<number>): number {
    const p = this.manifest.pooling;
    if (p.type === 'mean') return pool(scores).mean;
    return vsfaPool(scores, p.tau ?? 12, p.beta ?? 0.5);
  }

  /** Releases both graphs now (a video being scored keeps them until it ends). */
  close(): void {
    videoNative().videoModelClose(this.handle);
  }
}


