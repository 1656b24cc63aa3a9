// Deep quality models on ONNX Runtime: Model.load(manifest) -> score / scoreMany / info / close.
// One native session per Model, shared by every call; concurrent calls are merged into batches
// by the native dynamic batcher (maxBatch rows or maxDelayMs, whichever first).
import { decodeOptions } from '../core/config';
import { IqaError, toIqaError } from '../core/errors';
import type { ImageInput, NativeInput } from '../core/input';
import { nativeSpec, readManifest, resolveModelFile, sha256File, type CropOverride, type LoadedManifest, type ModelManifest } from './manifest';
import { loadOrt, native, ortLibraryPath, type NativeBatchResult } from '../core/native';
import { Limiter, limiterFrom, type LimiterStats } from '../core/admission';
import { admitted, normalize, settle, type CallOptions, type SettledBatch } from '../core/run';

export type Device = 'cpu' | 'cuda' | 'auto';

export interface ModelLoadOptions extends CropOverride {
  /** 'cpu' (default), 'cuda', or 'auto' (CUDA when its provider loads, else CPU). */
  device?: Device;
  /**
   * With device 'cuda': reject with ERR_DEVICE when CUDA cannot be used. Without it (default)
   * the model falls back to CPU and info().fallbackReason says why.
   */
  strictDevice?: boolean;
  /** Use the manifest's fp16 variant: true, false, or 'auto' (default: on CUDA when present). */
  fp16?: boolean | 'auto';
  /** ONNX Runtime threads inside one run (0: ORT's default, the physical cores). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Let ORT's intra-op threads spin between runs (default true: lowest latency for back-to-back
   * runs). false makes idle threads sleep at once, leaving the cores to other work: the event loop
   * of a server, or the next stage of a pipeline (the face detectors always run this way).
   */
  allowSpinning?: boolean;
  graphOptimization?: 'disable' | 'basic' | 'extended' | 'all';
  cudaDeviceId?: number;
  /**
   * CUDA EP prefer_nhwc (default true) and use_tf32 (default false). TF32 speeds fp32 models up
   * 2.3x on an H100 (5,385 vs 2,318 crops/s, full-size HyperIQA) but moves scores by up to 1.4%
   * (0.59 on 42.8) against the CPU; with it off CUDA matches the CPU to 8.6e-4.
   * (bench/results/hyperiqa_h100_tf32_2026-11-26.jsonl). fp16 models are faster still.
   */
  preferNhwc?: boolean;
  useTf32?: boolean;
  /** CUDA EP do_copy_in_default_stream (default true; false copies inputs on their own stream). */
  cudaCopyInDefaultStream?: boolean;
  /** Most crops per ONNX Runtime run (default 16 on CPU, 128 on CUDA). */
  maxBatch?: number;
  /** Longest a crop waits for a batch to fill, in ms (default 2). */
  maxDelayMs?: number;
  /** Batches run concurrently (default 1 on CPU, 2 on CUDA). */
  runners?: number;
  /**
   * Always run maxBatch rows (padding ignored) so the input shape never changes: cuDNN then
   * tunes once instead of for every partial batch size. Default: true on CUDA, false on CPU.
   */
  padBatches?: boolean;
  /** Check the ONNX file against the manifest's sha256 (default true when it has one). */
  verify?: boolean;
  /** ONNX Runtime library (default: IQA_ORT_LIBRARY, then onnxruntime-node's). */
  ortLibrary?: string;
  /** Folder a manifest object's relative file names resolve against (default: cwd). */
  baseDir?: string;
  /**
   * Admission limits of this model's calls (score, scoreCrops, each scoreMany chunk): at most
   * maxInFlight running (default maxBatch x runners, enough single-image calls to fill every
   * batch), maxQueued waiting; a call beyond both rejects at once with ERR_BUSY, before decoding.
   * Or `limiter`: a Limiter shared with other scorers. A call's own `limiter` option wins.
   */
  maxInFlight?: number;
  maxQueued?: number;
  limiter?: Limiter;
}

export interface ModelDetail {
  score: number;
  /** The manifest's head.extras by name. */
  extras: Record<string, number>;
}

export interface TensorDescription {
  name: string;
  type: string;
  shape: number[];
}

export interface ModelInfo {
  name: string;
  manifestPath?: string;
  modelPath: string;
  variant: 'fp32' | 'fp16';
  device: 'cpu' | 'cuda';
  requestedDevice: Device;
  /** Why CUDA was not used although asked for (null otherwise). */
  fallbackReason: string | null;
  providers: string[];
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  maxBatch: number;
  maxDelayMs: number;
  /** Crops per image. */
  crops: number;
  /** Batches run and crops scored so far. */
  batches: number;
  rows: number;
  closed: boolean;
  /** Input batches are staged in CUDA pinned memory (CUDA only). */
  pinnedInput: boolean;
  score: ModelManifest['score'];
  head: ModelManifest['head']['type'];
  ortVersion: string;
  /** The model's admission Limiter's counters (null without limits). */
  admission: LimiterStats | null;
  /** Whether ORT's intra-op threads spin between runs (the load option; true unless set false). */
  allowSpinning: boolean;
}

interface NativeModelInfo extends Omit<ModelInfo, 'manifestPath' | 'variant' | 'score' | 'head' | 'ortVersion' | 'requestedDevice' | 'admission' | 'allowSpinning'> {
  requestedDevice: string;
}

interface ModelAddon {
  createModel(spec: object, engine: object): Promise<unknown>;
  modelScore(handle: unknown, inputs: NativeInput[], decode: object, values: boolean | 'extras', abort?: unknown, refs?: NativeInput[]): Promise<NativeBatchResult>;
  modelInfo(handle: unknown): NativeModelInfo;
  modelClose(handle: unknown): Promise<void>;
}

const addon = () => native() as unknown as ModelAddon;

function checkOptions(o: ModelLoadOptions): void {
  if (o.device !== undefined && !['cpu', 'cuda', 'auto'].includes(o.device)) throw new IqaError('ERR_INPUT', `device must be 'cpu', 'cuda' or 'auto', got '${String(o.device)}'`);
  for (const k of ['intraOpThreads', 'interOpThreads', 'cudaDeviceId', 'runners'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new IqaError('ERR_INPUT', `${k} must be a non-negative integer`);
  }
  if (o.allowSpinning !== undefined && typeof o.allowSpinning !== 'boolean') throw new IqaError('ERR_INPUT', 'allowSpinning must be a boolean');
  if (o.maxBatch !== undefined && (!Number.isInteger(o.maxBatch) || o.maxBatch < 1 || o.maxBatch > 65536)) throw new IqaError('ERR_INPUT', 'maxBatch must be an integer in 1..65536');
  if (o.maxDelayMs !== undefined && (typeof o.maxDelayMs !== 'number' || !(o.maxDelayMs >= 0) || o.maxDelayMs > 60_000)) throw new IqaError('ERR_INPUT', 'maxDelayMs must be a number in 0..60000');
}

export class Model {
  private closed = false;
  private closing?: Promise<void>;

  private constructor(
    private readonly handle: unknown,
    private readonly loaded: LoadedManifest,
    private readonly variant: 'fp32' | 'fp16',
    private readonly ortVersion: string,
    private readonly limiter: Limiter | undefined,
    private readonly allowSpinning: boolean,
  ) {}

  /**
   * Loads a model from a manifest path (models/*.json), a model name shipped in this package's
   * models/ folder, or a manifest object. Rejects with ERR_MODEL when the manifest is invalid, the
   * ONNX file is missing/corrupt or does not match the declared inputs/outputs; ERR_DEVICE when
   * ONNX Runtime cannot load or a strict CUDA device is unavailable.
   */
  static async load(manifestOrPath: string | ModelManifest, opts: ModelLoadOptions = {}): Promise<Model> {
    checkOptions(opts);
    const lm = readManifest(manifestOrPath, opts.baseDir);
    const ort = loadOrt(opts.ortLibrary);
    const device = opts.device ?? 'cpu';
    const maxBatch = opts.maxBatch ?? (device === 'cpu' ? 16 : 128);
    const limiter = limiterFrom({
      limiter: opts.limiter,
      maxQueued: opts.maxQueued,
      maxInFlight: opts.maxInFlight ?? (opts.maxQueued !== undefined ? maxBatch * (opts.runners || (device === 'cpu' ? 1 : 2)) : undefined),
    });
    const fp16Variant = lm.manifest.model.variants?.fp16;
    const wantFp16 = opts.fp16 === true || ((opts.fp16 ?? 'auto') === 'auto' && device !== 'cpu' && !!fp16Variant);
    if (opts.fp16 === true && !fp16Variant) throw new IqaError('ERR_MODEL', `manifest '${lm.manifest.name}' has no fp16 variant`);
    const tryLoad = async (fp16: boolean) => {
      const entry = fp16 ? fp16Variant! : lm.manifest.model;
      const file = resolveModelFile(lm, entry.file);
      if ((opts.verify ?? true) && entry.sha256) {
        let digest: string;
        try {
          digest = await sha256File(file);
        } catch {
          throw new IqaError('ERR_MODEL', `model file not found: ${file}`);
        }
        if (digest !== entry.sha256) throw new IqaError('ERR_MODEL', `model file ${file} has sha256 ${digest}, the manifest says ${entry.sha256}`);
      }
      const spec = nativeSpec(lm, file, opts);
      const engine = {
        device,
        strictDevice: opts.strictDevice ?? false,
        intraOpThreads: opts.intraOpThreads,
        interOpThreads: opts.interOpThreads,
        allowSpinning: opts.allowSpinning,
        graphOptimization: opts.graphOptimization,
        cudaDeviceId: opts.cudaDeviceId,
        preferNhwc: opts.preferNhwc,
        useTf32: opts.useTf32,
        cudaCopyInDefaultStream: opts.cudaCopyInDefaultStream,
        libraryPath: ortLibraryPath(opts.ortLibrary),
        maxBatch,
        maxDelayMs: opts.maxDelayMs ?? 2,
        runners: opts.runners,
        padBatches: opts.padBatches,
      };
      try {
        return await addon().createModel(spec, engine);
      } catch (e) {
        throw toIqaError(e);
      }
    };
    let handle = await tryLoad(wantFp16);
    let variant: 'fp32' | 'fp16' = wantFp16 ? 'fp16' : 'fp32';
    if (wantFp16 && opts.fp16 !== true && addon().modelInfo(handle).device === 'cpu') {
      // CUDA fell back to CPU: the fp32 graph is the right one there.
      await addon().modelClose(handle);
      handle = await tryLoad(false);
      variant = 'fp32';
    }
    return new Model(handle, lm, variant, ort.version, limiter, opts.allowSpinning ?? true);
  }

  get manifest(): ModelManifest {
    return this.loaded.manifest;
  }

  private ensureOpen(): void {
    if (this.closed) throw new IqaError('ERR_MODEL', `model '${this.loaded.manifest.name}' is closed`);
  }

  /** `refs`: the reference of each input (full-reference models; patches of the same place). */
  private run(inputs: readonly ImageInput[], withCrops: boolean | 'extras', call?: CallOptions, refs?: readonly ImageInput[]) {
    return admitted({ ...call, limiter: call?.limiter ?? this.limiter }, async (flag) => {
      this.ensureOpen();
      const { natives, bad } = normalize(inputs);
      let refNatives: NativeInput[] | undefined;
      if (refs) {
        if (refs.length !== inputs.length) throw new IqaError('ERR_INPUT', 'references and distorted images differ in count');
        const r = normalize(refs);
        for (const [i, e] of r.bad) bad.set(i, e); // a bad reference fails its pair first
        refNatives = r.natives;
      }
      const r = await addon().modelScore(this.handle, natives, decodeOptions(call), withCrops, flag, refNatives);
      return { ...settle(r, inputs, bad), values: r.values };
    });
  }

  /** Full-reference models (manifest task 'fr-iqa'): quality of `dist` against `ref` (same size). */
  async scorePair(ref: ImageInput, dist: ImageInput, call?: CallOptions): Promise<number> {
    const r = await this.run([dist], false, call, [ref]);
    if (r.errors[0]) throw r.errors[0];
    return r.scores[0];
  }

  /** The per-patch-pair scores of one (reference, distorted) pair (scorePair aggregates them). */
  async scorePairCrops(ref: ImageInput, dist: ImageInput, call?: CallOptions): Promise<Float64Array> {
    const r = await this.run([dist], true, call, [ref]);
    if (r.errors[0]) throw r.errors[0];
    return r.values[0] as Float64Array;
  }

  /** Scores many (reference, distorted) pairs in one native call, in order, with per-pair errors. */
  async scorePairsSettled(pairs: readonly (readonly [ImageInput, ImageInput])[], call?: CallOptions): Promise<SettledBatch> {
    if (!Array.isArray(pairs)) throw new IqaError('ERR_INPUT', 'scorePairsSettled takes an array of [reference, distorted] pairs');
    const r = await this.run(pairs.map((p) => p[1]), false, call, pairs.map((p) => p[0]));
    return { scores: r.scores, errors: r.errors };
  }

  /** Quality of one image: the mean (or the manifest's score.aggregate) of the head's score over its crops. */
  async score(img: ImageInput, call?: CallOptions): Promise<number> {
    const r = await this.run([img], false, call);
    if (r.errors[0]) throw r.errors[0];
    return r.scores[0];
  }

  /** The per-crop scores of one image (score() aggregates them). */
  async scoreCrops(img: ImageInput, call?: CallOptions): Promise<Float64Array> {
    const r = await this.run([img], true, call);
    if (r.errors[0]) throw r.errors[0];
    return r.values[0] as Float64Array;
  }

  /**
   * The score of one image with the manifest's named extra outputs (head.extras, pooled over the
   * crops like the score; {} for a model without extras), e.g. KonIQ++'s four defect predictions.
   */
  async detail(img: ImageInput, call?: CallOptions): Promise<ModelDetail> {
    const names = (this.loaded.manifest.head.extras ?? []).map((e) => e.name);
    const r = await this.run([img], names.length ? 'extras' : false, call);
    if (r.errors[0]) throw r.errors[0];
    const v = r.values[0];
    const extras: Record<string, number> = {};
    names.forEach((n, i) => {
      extras[n] = v ? v[i] : NaN;
    });
    return { score: r.scores[0], extras };
  }

  /**
   * Scores every image of an iterable or async iterable (paths, buffers, raw images), in order,
   * with per-item errors. Images go to native code in chunks of `chunkSize` (default 64), at most
   * `concurrency` chunks at once (default 2), so decoding overlaps inference.
   */
  async scoreManySettled(
    inputs: Iterable<ImageInput> | AsyncIterable<ImageInput>,
    opts: CallOptions & { chunkSize?: number; concurrency?: number } = {},
  ): Promise<SettledBatch> {
    this.ensureOpen();
    const chunkSize = opts.chunkSize ?? 64;
    const concurrency = opts.concurrency ?? 2;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new IqaError('ERR_INPUT', 'chunkSize must be a positive integer');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new IqaError('ERR_INPUT', 'concurrency must be a positive integer');
    const scores: number[] = [];
    const errors: (IqaError | null)[] = [];
    const running = new Set<Promise<void>>();
    // The first chunk that rejects (ERR_BUSY, ERR_ABORTED, closed) fails the whole call; chunks
    // still running are awaited, never left as unhandled rejections.
    let failure: { error: unknown } | undefined;
    const launch = (chunk: ImageInput[], offset: number) => {
      const p: Promise<void> = this.run(chunk, false, opts).then(
        (r) => {
          r.scores.forEach((s, i) => {
            scores[offset + i] = s;
            const e = r.errors[i];
            if (e && typeof e.input === 'number') e.input += offset;
            errors[offset + i] = e;
          });
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
      const tracked = p.finally(() => running.delete(tracked));
      running.add(tracked);
    };
    let chunk: ImageInput[] = [];
    let offset = 0;
    for await (const img of inputs as AsyncIterable<ImageInput>) {
      chunk.push(img);
      if (chunk.length === chunkSize) {
        launch(chunk, offset);
        offset += chunk.length;
        chunk = [];
        while (running.size >= concurrency) await Promise.race(running);
        if (failure) break;
      }
    }
    if (chunk.length && !failure) launch(chunk, offset);
    await Promise.all(running);
    if (failure) throw failure.error;
    return { scores: Float64Array.from(scores), errors };
  }

  /** Like scoreManySettled, scores only (NaN where an image failed). */
  async scoreMany(inputs: Iterable<ImageInput> | AsyncIterable<ImageInput>, opts?: CallOptions & { chunkSize?: number; concurrency?: number }): Promise<Float64Array> {
    return (await this.scoreManySettled(inputs, opts)).scores;
  }

  info(): ModelInfo {
    const n = addon().modelInfo(this.handle);
    return {
      ...n,
      requestedDevice: n.requestedDevice as Device,
      manifestPath: this.loaded.path,
      variant: this.variant,
      closed: this.closed || n.closed,
      score: this.loaded.manifest.score,
      head: this.loaded.manifest.head.type,
      ortVersion: this.ortVersion,
      admission: this.limiter?.stats() ?? null,
      allowSpinning: this.allowSpinning,
    };
  }

  /**
   * Stops accepting work. Calls already running finish (their batches run to the end); calls
   * made after close(), and queued calls that had not reached the batcher, reject with ERR_MODEL
   * ("closed"). Resolves once no batch is pending. Idempotent.
   */
  close(): Promise<void> {
    this.closed = true;
    if (!this.closing) this.closing = addon().modelClose(this.handle).catch((e: unknown) => {
      throw toIqaError(e);
    });
    return this.closing;
  }
}
