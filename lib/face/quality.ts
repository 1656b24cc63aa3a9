// faceQuality(img, {method, ...}): detect (YuNet) -> five landmarks -> align -> the method's
// network -> readout -> 0-100 mapping, one record per face; typed per-face failures instead of
// numbers. Pipelines (detector + method + engine options) load once and are reused.
import { join } from 'node:path';
import { decodeOptions } from '../core/config';
import { IqaError, toIqaError } from '../core/errors';
import type { ImageInput, NativeInput } from '../core/input';
import { loadOrt, native, ortLibraryPath, packageRoot } from '../core/native';
import { admitted, normalize, settleErrors, type CallOptions } from '../core/run';
import { sha256File } from '../deep/manifest';
import { mapQuality, nativeFaceSpec, readFaceManifest, type FaceManifest, type FaceTemplate, type LoadedFaceManifest } from './manifest';

/** Why a detected face has no quality. */
export type FaceFailureCode = 'FACE_TOO_SMALL' | 'LANDMARKS_OUTSIDE';

export interface FaceRecord {
  /** Rank of the face in its image (detector score, highest first). */
  index: number;
  box: { x: number; y: number; width: number; height: number };
  /** Right eye, left eye, nose tip, right and left mouth corner (the subject's sides), image pixels. */
  landmarks: [number, number][];
  detectorScore: number;
  /** The method's raw quality (e.g. MagFace's feature norm); null without a method or on failure. */
  raw: number | null;
  /** raw mapped to 0-100 by the descriptor's mapping; null without a method or on failure. */
  quality: number | null;
  method: string | null;
  failure: { code: FaceFailureCode; message: string } | null;
  /** The aligned crop as PNG, when `crops: true`. */
  crop?: Buffer;
  /** The model's whole output row (e.g. a recogniser's embedding), when `embeddings: true`. */
  embedding?: Float32Array;
}

export interface FaceResult {
  faces: FaceRecord[];
  /** NO_FACE when the detector found nothing at the score threshold. */
  failure: { code: 'NO_FACE'; message: string } | null;
}

export interface FaceOptions extends CallOptions {
  /** Face descriptor (name in the model directories, path, or object); omitted: detection and alignment only. */
  method?: string | FaceManifest;
  /**
   * 'yunet' (default, shipped in models/face/), 'mtcnn' (MTCNN's cascade as facenet-pytorch runs
   * it, shipped in models/face/mtcnn/; its own thresholds 0.6/0.7/0.7, scoreThreshold filters its
   * last stage further, nmsThreshold is not used) or the path of a YuNet-layout ONNX file.
   */
  detector?: string;
  /** Keep at most this many faces, highest detector score first (default: all). */
  maxFaces?: number;
  /** Faces whose box's shorter side is below this many pixels get FACE_TOO_SMALL (default 0). */
  minFaceSize?: number;
  /** Detector score threshold (default 0.6, as cv::FaceDetectorYN's samples). */
  scoreThreshold?: number;
  /** NMS IoU threshold (default 0.3). */
  nmsThreshold?: number;
  /** Detection runs on the image resized so its longer side is at most this (default 640; 0: full size). */
  maxSide?: number;
  /**
   * The inputs are already aligned crops of the method's input size (e.g. LFW's 112x112 aligned
   * release): no detection, one record per image with the whole image as its box.
   */
  aligned?: boolean;
  /**
   * The five landmarks are known (e.g. [[x, y] x 5] of an aligned data set's template): no
   * detection, one face per image aligned from these points.
   */
  landmarks?: readonly (readonly [number, number])[];
  /** Return the model's output row per face (record.embedding), e.g. for verification or ERC. */
  embeddings?: boolean;
  /** Return each aligned crop as PNG (record.crop). */
  crops?: boolean;
  device?: 'cpu' | 'cuda' | 'auto';
  intraOpThreads?: number;
  interOpThreads?: number;
  ortLibrary?: string;
  /** Check the method's ONNX against its sha256 (default true when the descriptor has one). */
  verify?: boolean;
}

interface NativeFace {
  box: [number, number, number, number];
  landmarks: number[];
  score: number;
  status: 'ok' | FaceFailureCode;
  raw: number | null;
  crop?: Buffer;
  embedding?: Float32Array;
}

interface FaceAddon {
  createFace(spec: object, engine: object): Promise<unknown>;
  faceScore(handle: unknown, inputs: NativeInput[], decode: object, opts: object, abort?: unknown): Promise<{ results: (NativeFace[] | null)[]; errors: ({ code: string; message: string } | null)[] }>;
  faceAlign(input: NativeInput, decode: object, landmarks: number[], align: object): Promise<{ data: Buffer; width: number; height: number; matrix: number[] }>;
}
const addon = () => native() as unknown as FaceAddon;

/** MTCNN's three ONNX networks shipped with the package (facenet-pytorch's weights, MIT; models/face/README.md). */
export function mtcnnDir(): string {
  return join(packageRoot(), 'models', 'face', 'mtcnn');
}

/** The detector shipped with the package (YuNet-n, Apache-2.0; models/face/README.md). */
export function defaultDetectorPath(): string {
  return join(packageRoot(), 'models', 'face', 'yunet_n_dynamic.onnx');
}

const FAILURE_TEXT: Record<FaceFailureCode, string> = {
  FACE_TOO_SMALL: 'the face box is smaller than minFaceSize',
  LANDMARKS_OUTSIDE: 'a landmark lies outside the image, the face cannot be aligned',
};

function checkNumber(o: FaceOptions, k: keyof FaceOptions, lo: number, hi: number, integer: boolean): void {
  const v = o[k];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v)))
    throw new IqaError('ERR_INPUT', `${k} must be ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}`);
}

function checkOptions(o: FaceOptions): void {
  if (o === null || typeof o !== 'object') throw new IqaError('ERR_INPUT', 'face options must be an object');
  checkNumber(o, 'maxFaces', 0, 100000, true);
  checkNumber(o, 'minFaceSize', 0, 1e6, false);
  checkNumber(o, 'scoreThreshold', 0, 1, false);
  checkNumber(o, 'nmsThreshold', 0, 1, false);
  checkNumber(o, 'maxSide', 0, 16384, true);
  checkNumber(o, 'intraOpThreads', 0, 1024, true);
  checkNumber(o, 'interOpThreads', 0, 1024, true);
  if (o.device !== undefined && !['cpu', 'cuda', 'auto'].includes(o.device)) throw new IqaError('ERR_INPUT', `device must be 'cpu', 'cuda' or 'auto'`);
  if (o.landmarks !== undefined && (!Array.isArray(o.landmarks) || o.landmarks.length !== 5 || o.landmarks.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => typeof v !== 'number' || !Number.isFinite(v)))))
    throw new IqaError('ERR_INPUT', 'landmarks must be five [x, y] points of finite numbers');
  if (o.aligned === true && o.method === undefined) throw new IqaError('ERR_INPUT', 'aligned: true needs a method (it only skips detection)');
  if (o.detector !== undefined && (typeof o.detector !== 'string' || o.detector.length === 0)) throw new IqaError('ERR_INPUT', "detector must be 'yunet', 'mtcnn' or an ONNX path");
}

interface Pipeline {
  handle: unknown;
  method: LoadedFaceManifest | undefined;
}
const pipelines = new Map<string, Promise<Pipeline>>();

async function pipelineFor(o: FaceOptions): Promise<Pipeline> {
  const method = o.method === undefined ? undefined : readFaceManifest(o.method);
  const detectorKind = o.detector === 'mtcnn' ? 'mtcnn' : 'yunet';
  const detectorPath = o.detector === 'mtcnn' ? mtcnnDir() : o.detector === undefined || o.detector === 'yunet' ? defaultDetectorPath() : o.detector;
  const engine = { device: o.device ?? 'cpu', intraOpThreads: o.intraOpThreads, interOpThreads: o.interOpThreads, libraryPath: ortLibraryPath(o.ortLibrary) };
  const key = JSON.stringify([method?.path ?? method?.manifest ?? null, method?.baseDir, detectorPath, engine]);
  let p = pipelines.get(key);
  if (!p) {
    p = (async () => {
      loadOrt(o.ortLibrary);
      const spec: Record<string, unknown> = { detectorPath, detectorKind };
      if (method) {
        const sha = method.manifest.model.sha256;
        const file = nativeFaceSpec(method).modelPath;
        if ((o.verify ?? true) && sha) {
          const digest = await sha256File(file).catch(() => {
            throw new IqaError('ERR_MODEL', `face model file not found: ${file}`);
          });
          if (digest !== sha) throw new IqaError('ERR_MODEL', `face model file ${file} has sha256 ${digest}, the descriptor says ${sha}`);
        }
        const head = method.manifest.readout.head;
        const headPath = nativeFaceSpec(method).headPath;
        if ((o.verify ?? true) && head?.sha256 && headPath) {
          const digest = await sha256File(headPath).catch(() => {
            throw new IqaError('ERR_MODEL', `face model file not found: ${headPath}`);
          });
          if (digest !== head.sha256) throw new IqaError('ERR_MODEL', `face model file ${headPath} has sha256 ${digest}, the descriptor says ${head.sha256}`);
        }
        spec.model = nativeFaceSpec(method);
      }
      try {
        return { handle: await addon().createFace(spec, engine), method };
      } catch (e) {
        throw toIqaError(e);
      }
    })().catch((e: unknown) => {
      pipelines.delete(key); // the files may appear later
      throw e;
    });
    pipelines.set(key, p);
  }
  return p;
}

function toRecord(f: NativeFace, index: number, method: LoadedFaceManifest | undefined): FaceRecord {
  const lm: [number, number][] = [];
  for (let k = 0; k < 5; ++k) lm.push([f.landmarks[2 * k], f.landmarks[2 * k + 1]]);
  const failed = f.status !== 'ok';
  const raw = !failed && method ? f.raw : null;
  const rec: FaceRecord = {
    index,
    box: { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] },
    landmarks: lm,
    detectorScore: f.score,
    raw,
    quality: raw === null || !method ? null : mapQuality(raw, method.manifest.mapping),
    method: method?.manifest.name ?? null,
    failure: failed ? { code: f.status as FaceFailureCode, message: FAILURE_TEXT[f.status as FaceFailureCode] } : null,
  };
  if (f.crop) rec.crop = f.crop;
  if (f.embedding && !failed) rec.embedding = f.embedding;
  return rec;
}

function toResult(faces: NativeFace[], method: LoadedFaceManifest | undefined): FaceResult {
  return {
    faces: faces.map((f, i) => toRecord(f, i, method)),
    failure: faces.length === 0 ? { code: 'NO_FACE', message: 'no face found at the detector score threshold' } : null,
  };
}

/** Per-image outcome of faceQuality.batchSettled: result or error. */
export interface SettledFaces {
  results: (FaceResult | null)[];
  errors: (IqaError | null)[];
}

async function runFaces(imgs: readonly ImageInput[], o: FaceOptions = {}): Promise<SettledFaces> {
  checkOptions(o);
  const pipeline = await pipelineFor(o);
  return admitted(o, async (flag) => {
    const { natives, bad } = normalize(imgs);
    const native = {
      scoreThreshold: o.scoreThreshold,
      nmsThreshold: o.nmsThreshold,
      maxSide: o.maxSide,
      maxFaces: o.maxFaces,
      minFaceSize: o.minFaceSize,
      crops: o.crops === true,
      aligned: o.aligned === true,
      landmarks: o.landmarks?.flat(),
      embeddings: o.embeddings === true,
    };
    const r = await addon().faceScore(pipeline.handle, natives, decodeOptions(o), native, flag);
    const errors = settleErrors(r.errors, imgs, bad);
    return { results: r.results.map((f, i) => (f && !errors[i] ? toResult(f, pipeline.method) : null)), errors };
  });
}

export interface FaceQualityFunction {
  (img: ImageInput, opts?: FaceOptions): Promise<FaceResult>;
  /** Many images in one native call; rejects on the first failed image (see batchSettled). */
  batch(imgs: readonly ImageInput[], opts?: FaceOptions): Promise<FaceResult[]>;
  /** Many images, each with its result or its IqaError. */
  batchSettled(imgs: readonly ImageInput[], opts?: FaceOptions): Promise<SettledFaces>;
}

export const faceQuality: FaceQualityFunction = Object.assign(
  async (img: ImageInput, opts?: FaceOptions) => {
    const r = await runFaces([img], opts);
    if (r.errors[0]) throw r.errors[0];
    return r.results[0]!;
  },
  {
    batch: async (imgs: readonly ImageInput[], opts?: FaceOptions) => {
      if (!Array.isArray(imgs)) throw new IqaError('ERR_INPUT', 'faceQuality.batch takes an array of images');
      const r = await runFaces(imgs, opts);
      const e = r.errors.find((x) => x);
      if (e) throw e;
      return r.results as FaceResult[];
    },
    batchSettled: async (imgs: readonly ImageInput[], opts?: FaceOptions) => {
      if (!Array.isArray(imgs)) throw new IqaError('ERR_INPUT', 'faceQuality.batchSettled takes an array of images');
      return runFaces(imgs, opts);
    },
  },
);

export interface AlignedFace {
  /** 8-bit BGR pixels, width x height x 3. */
  data: Buffer;
  width: number;
  height: number;
  /** The similarity transform image -> canvas, row-major 2x3. */
  matrix: number[];
}

/**
 * Aligns a face from its five landmarks (the detector's order) onto a template: Umeyama
 * similarity transform, bilinear warp, zero border; OFIQ's template also resizes to 192 and
 * crops 112 at (40, 33).
 */
export async function alignFace(
  img: ImageInput,
  landmarks: readonly (readonly [number, number])[],
  opts: CallOptions & { template?: FaceTemplate; resize?: [number, number]; crop?: [number, number, number, number] } = {},
): Promise<AlignedFace> {
  if (!Array.isArray(landmarks) || landmarks.length !== 5 || landmarks.some((p) => !Array.isArray(p) || p.length !== 2))
    throw new IqaError('ERR_INPUT', 'landmarks must be five [x, y] points');
  const flat = landmarks.flat();
  if (flat.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new IqaError('ERR_INPUT', 'landmarks must be finite numbers');
  return admitted(opts, async () => {
    const { natives, bad } = normalize([img]);
    if (bad.get(0)) throw bad.get(0)!;
    return addon().faceAlign(natives[0], decodeOptions(opts), flat, { template: opts.template ?? 'arcface112', resize: opts.resize, crop: opts.crop });
  });
}
