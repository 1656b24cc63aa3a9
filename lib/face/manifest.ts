// Face-quality descriptors (`kind: "face"`, models/face-manifest.schema.json): one JSON per
// method says the alignment, input tensor, readout and 0-100 mapping; lib/face/quality.ts runs
// any of them through the one native runner (native/core/face/pipeline.h).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IqaError } from '../core/errors';
import { packageRoot } from '../core/native';
import { validateSchema, type Schema } from '../core/schema';
import { findManifest, isModelName, modelDirs } from '../deep/model-dir';

export type FaceTemplate = 'arcface112' | 'ofiq616' | 'box' | { points: number[]; width: number; height: number };

export interface FaceMapping {
  type: 'identity' | 'linear' | 'sigmoid';
  from?: [number, number];
  h?: number;
  a?: number;
  s?: number;
  x0?: number;
  w?: number;
  round?: boolean;
}

export interface FaceManifest {
  schemaVersion: 1;
  kind: 'face';
  name: string;
  description?: string;
  measures?: string;
  model: { file: string; sha256?: string };
  align: { template: FaceTemplate; resize?: [number, number]; crop?: [number, number, number, number] };
  input: { colorOrder: 'rgb' | 'bgr'; layout: 'NCHW' | 'NHWC'; normalize: { mean: number[]; std: number[] } };
  readout: {
    type: 'norm' | 'scalar' | 'softmax' | 'stochastic';
    output?: string;
    index?: number;
    head?: { file: string; sha256?: string; features: string; mask: string; output?: string };
    passes?: number;
    dropout?: number;
    mask?: 'channel' | 'element';
    seed?: number;
  };
  mapping: FaceMapping;
  source: { paper?: string; code?: string; checkpoint?: string; license: string; commercialUse: boolean; weights?: 'official' | 'seeded-random' };
}

export interface LoadedFaceManifest {
  manifest: FaceManifest;
  baseDir: string;
  path?: string;
}

let schemaCache: Schema | undefined;
function faceSchema(): Schema {
  if (!schemaCache) schemaCache = JSON.parse(readFileSync(join(packageRoot(), 'models', 'face-manifest.schema.json'), 'utf8')) as Schema;
  return schemaCache;
}

/** Schema + semantic checks; throws ERR_MODEL listing every problem. */
export function validateFaceManifest(m: unknown, where = 'face descriptor'): FaceManifest {
  const errs = validateSchema(m, faceSchema(), faceSchema(), 'descriptor');
  if (errs.length === 0) {
    const fm = m as FaceManifest;
    const map = fm.mapping;
    if (map.type === 'linear' && (!map.from || !(map.from[0] < map.from[1]))) errs.push(`descriptor.mapping.from: linear needs [low, high] with low < high`);
    if (map.type === 'sigmoid' && (map.x0 === undefined || map.w === undefined)) errs.push(`descriptor.mapping: sigmoid needs x0 and w`);
    if (map.type !== 'linear' && map.from) errs.push(`descriptor.mapping.from: only for 'linear'`);
    if (fm.readout.type === 'norm' && fm.readout.index !== undefined) errs.push(`descriptor.readout.index: not used by 'norm'`);
    const r = fm.readout;
    if ((r.type === 'stochastic') !== (r.head !== undefined)) errs.push(`descriptor.readout.head: required by 'stochastic' and only by it`);
    if (r.type === 'stochastic' && r.dropout === undefined) errs.push(`descriptor.readout.dropout: required by 'stochastic'`);
    const t = fm.align.template;
    if (t === 'box' && !fm.align.resize) errs.push(`descriptor.align.resize: the 'box' template needs [width, height]`);
    if (typeof t === 'object' && t.points.some((v) => !Number.isFinite(v))) errs.push(`descriptor.align.template.points: must be finite`);
  }
  if (errs.length) throw new IqaError('ERR_MODEL', `invalid face descriptor ${where}:\n  ${errs.join('\n  ')}`);
  return m as FaceManifest;
}

/** A descriptor by path, by name (searched in the model directories) or as an object. */
export function readFaceManifest(manifestOrPath: string | FaceManifest, baseDir?: string): LoadedFaceManifest {
  if (typeof manifestOrPath === 'object' && manifestOrPath !== null)
    return { manifest: validateFaceManifest(manifestOrPath), baseDir: resolve(baseDir ?? process.cwd()) };
  if (typeof manifestOrPath !== 'string' || manifestOrPath.length === 0) throw new IqaError('ERR_INPUT', 'method must be a face descriptor name, path or object');
  let path = manifestOrPath;
  if (isModelName(path)) {
    const found = findManifest(path);
    if (!found) throw new IqaError('ERR_MODEL', `face method '${path}' is in none of the model directories (${modelDirs().join(', ')}); run its export tool (tools/export/) and put the folder there`);
    path = found;
  }
  path = resolve(path);
  if (!existsSync(path)) throw new IqaError('ERR_MODEL', `face descriptor not found: ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new IqaError('ERR_MODEL', `face descriptor ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return { manifest: validateFaceManifest(parsed, path), baseDir: dirname(path), path };
}

export function faceModelFile(lm: LoadedFaceManifest): string {
  return isAbsolute(lm.manifest.model.file) ? lm.manifest.model.file : join(lm.baseDir, lm.manifest.model.file);
}

/**
 * Raw quality -> 0-100. sigmoid is OFIQ's Measure mapping (Measure.h):
 * h * (a + s / (1 + exp((x0 - raw) / w))), defaults h 100, a 0, s 1; rounded when `round`.
 * Every mapping is clamped to [0, 100].
 */
export function mapQuality(raw: number, m: FaceMapping): number {
  let q: number;
  if (m.type === 'sigmoid') {
    const h = m.h ?? 100, a = m.a ?? 0, s = m.s ?? 1;
    q = h * (a + s / (1 + Math.exp((m.x0! - raw) / m.w!)));
    if (m.round) q = Math.round(q);
  } else if (m.type === 'linear') {
    const [lo, hi] = m.from!;
    q = ((raw - lo) / (hi - lo)) * 100;
  } else {
    q = raw;
  }
  return Math.min(100, Math.max(0, q));
}

/** The native spec of a descriptor (what native/binding/face.cpp reads). */
export function nativeFaceSpec(lm: LoadedFaceManifest) {
  const m = lm.manifest;
  return {
    modelPath: faceModelFile(lm),
    align: { template: m.align.template, resize: m.align.resize, crop: m.align.crop },
    color: m.input.colorOrder,
    layout: m.input.layout,
    mean: m.input.normalize.mean,
    std: m.input.normalize.std,
    readout: m.readout.type,
    output: m.readout.output,
    index: m.readout.index,
    ...(m.readout.head
      ? {
          headPath: isAbsolute(m.readout.head.file) ? m.readout.head.file : join(lm.baseDir, m.readout.head.file),
          headFeatures: m.readout.head.features,
          headMask: m.readout.head.mask,
          headOutput: m.readout.head.output ?? '',
          passes: m.readout.passes ?? 100,
          dropout: m.readout.dropout,
          maskKind: m.readout.mask ?? 'channel',
          maskSeed: m.readout.seed ?? 0,
        }
      : {}),
  };
}
