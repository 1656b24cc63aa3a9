// Model manifests (models/*.json): reading, schema validation (models/manifest.schema.json),
// the checks a schema cannot express, and the flat spec the native engine takes.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IqaError } from '../core/errors';
import { packageRoot } from '../core/native';
import { findManifest, isModelName, modelDirs } from './model-dir';
import { importHint } from './zoo';
import { validateSchema, type Schema } from '../core/schema';
import type { Interp } from '../core/preprocess';

export type CropPolicy = 'resize' | 'center' | 'random' | 'uniform' | 'full' | 'grid' | 'tokens';

export interface ModelManifest {
  $schema?: string;
  schemaVersion: 1;
  name: string;
  /** 'fr-iqa': the input is a stacked patch pair [N, 2C, H, W], reference channels first. */
  task: 'nr-iqa' | 'fr-iqa';
  description?: string;
  model: { file: string; sha256?: string; variants?: { fp16?: { file: string; sha256?: string } } };
  input: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    width: number;
    height: number;
    channels: 1 | 3;
    colorOrder: 'rgb' | 'bgr' | 'gray';
    dtype?: 'float32' | 'uint8';
    batch?: 'dynamic' | number;
    normalize?: { scale: 'unit' | 'byte'; mean: number[]; std: number[] };
  };
  preprocess: {
    /**
     * width x height, or `shorter`: the shorter side to N, the longer int(N * long / short)
     * (torchvision's resize(img, N)). precision 'float': resample values in [0, 1] unrounded
     * (torchvision on a to_tensor() image; pil-bilinear/pil-bicubic only), default 'byte'.
     */
    resize?: { width?: number; height?: number; shorter?: number; interp?: Interp; precision?: 'byte' | 'float' } | null;
    /** Colour to grey for 1-channel inputs (default 'opencv'). */
    gray?: 'opencv' | 'pil' | 'matlab' | 'tf';
    /** center: odd margins start at floor(margin / 2) ('floor', default) or int(round(margin / 2)) half to even ('half-even', torchvision's center_crop). */
    crop: { policy: CropPolicy; count?: number; seed?: number; grid?: 'floor' | 'range-exclusive'; center?: 'floor' | 'half-even' };
    /** Per-patch local contrast normalisation after input.normalize. */
    localContrast?: { window: number; constant: number };
    /** Crop policy 'tokens': multi-scale patch tokens (see models/manifest.schema.json). */
    tokens?: {
      scales: number[];
      native?: boolean;
      nativeMax?: number;
      grid?: number;
      interp?: Interp;
      buckets: number[];
      inputs: { position: string; scale: string; mask: string };
    };
    /** Largest image the model takes, in pixels (after any resize): larger is ERR_TOO_LARGE. */
    maxPixels?: number;
    highpass?: { lowpass: { ksize: number; sigma: number }; factor: number; interp: string };
    /** JPEG: decode at 1/2, 1/4 or 1/8 scale to the smallest size still at least the resize target (needs a resize). */
    shrinkOnLoad?: boolean;
  };
  outputs: { name: string; shape: (number | string)[] }[];
  head: {
    type: 'scalar' | 'distribution-mean' | 'hyperiqa-target' | 'svr' | 'gaussian';
    output?: string;
    outputs?: string[];
    sizes?: number[];
    bins?: number[];
    softmax?: boolean;
    /** svr: libsvm text model over the `features`-long output, optionally standardised first ((x - mean) / scale). */
    svr?: { model: string; features: number; mean?: number[]; scale?: number[] };
    /** Named values reported next to the score (Model.detail().extras): value `index` of `output` per sample. */
    extras?: { name: string; output: string; index?: number }[];
    /** gaussian: score each crop by its mean (default) or by mean + z scale with z from splitmix64(seed). */
    sampling?: { mode: 'mean' | 'sample'; seed?: number };
  };
  score: {
    range: [number, number];
    higherIsBetter: boolean;
    /** feature-mean: the head's input averaged over the crops, then the head once (DeepBIQ's multi-crop fc7 averaging before the SVR). */
    aggregate?: 'mean' | 'median' | 'weighted' | 'feature-mean';
    /** aggregate 'weighted': sum(q w) / sum(w) with w = max(output, 0) + epsilon per crop. */
    weight?: { output: string; epsilon: number };
    /** score = head value * scale + offset (LinearityIQA's k, b). */
    affine?: { scale: number; offset: number };
  };
  source: { url?: string; sha256?: string; license: string; citation?: string; note?: string };
  export?: Record<string, unknown>;
}

/** A manifest with the folder its relative file names resolve against. */
export interface LoadedManifest<M = ModelManifest> {
  manifest: M;
  baseDir: string;
  /** Where it was read from (undefined for an object given in code). */
  path?: string;
}

let schemaCache: Schema | undefined;
export function manifestSchema(): Schema {
  if (!schemaCache) schemaCache = JSON.parse(readFileSync(join(packageRoot(), 'models', 'manifest.schema.json'), 'utf8')) as Schema;
  return schemaCache;
}

/** Schema + semantic checks; throws ERR_MODEL listing every problem. */
export function validateManifest(m: unknown, where = 'manifest'): ModelManifest {
  if ((m as { kind?: unknown } | null)?.kind === 'face')
    throw new IqaError('ERR_MODEL', `${where} is a face-quality descriptor: score faces with faceQuality(img, { method }) or iqa face score --method NAME`);
  const errs = validateSchema(m, manifestSchema());
  if (errs.length === 0) {
    const mm = m as ModelManifest;
    const outNames = new Set(mm.outputs.map((o) => o.name));
    const n = mm.input.normalize;
    const u8 = mm.input.dtype === 'uint8';
    if (u8 && mm.input.layout !== 'NHWC') errs.push(`manifest.input.layout: uint8 inputs are NHWC`);
    if (!u8 && mm.input.layout !== 'NCHW') errs.push(`manifest.input.layout: float32 inputs are NCHW`);
    if (u8 && n) errs.push(`manifest.input.normalize: uint8 inputs are normalised inside the graph; remove normalize`);
    if (!u8 && !n) errs.push(`manifest.input: missing required 'normalize' (float32 input)`);
    for (const [k, arr] of [['mean', n?.mean ?? []], ['std', n?.std ?? []]] as const)
      if (n && arr.length !== 1 && arr.length !== mm.input.channels) errs.push(`manifest.input.normalize.${k}: needs 1 or ${mm.input.channels} values`);
    if ((mm.input.channels === 1) !== (mm.input.colorOrder === 'gray')) errs.push(`manifest.input.colorOrder: 'gray' goes with channels 1, 'rgb'/'bgr' with 3`);
    const h = mm.head;
    if (h.type === 'hyperiqa-target') {
      if (!h.sizes) errs.push(`manifest.head.sizes: required for hyperiqa-target`);
      else if (h.sizes[5] !== 1) errs.push(`manifest.head.sizes: must end with 1`);
      if (h.outputs && h.outputs.length !== 11) errs.push(`manifest.head.outputs: hyperiqa-target reads 11 outputs`);
      for (const o of h.outputs ?? []) if (!outNames.has(o)) errs.push(`manifest.head.outputs: '${o}' is not a declared output`);
    } else if (h.type === 'gaussian') {
      if (h.outputs?.length !== 2) errs.push(`manifest.head.outputs: the gaussian head reads two outputs, mean and scale`);
      for (const o of h.outputs ?? []) if (!outNames.has(o)) errs.push(`manifest.head.outputs: '${o}' is not a declared output`);
    } else {
      if (!h.output) errs.push(`manifest.head.output: required for head '${h.type}'`);
      else if (!outNames.has(h.output)) errs.push(`manifest.head.output: '${h.output}' is not a declared output`);
      if (h.type === 'distribution-mean' && !h.bins) errs.push(`manifest.head.bins: required for distribution-mean`);
    }
    if (h.sampling && h.type !== 'gaussian') errs.push(`manifest.head.sampling: only the gaussian head samples`);
    if ((h.type === 'svr') !== (h.svr !== undefined)) errs.push(`manifest.head.svr: required for head 'svr', and only with it`);
    if (h.svr) {
      const { features, mean, scale } = h.svr;
      if ((mean === undefined) !== (scale === undefined)) errs.push(`manifest.head.svr: mean and scale go together`);
      for (const [k, a] of [['mean', mean], ['scale', scale]] as const)
        if (a && a.length !== features) errs.push(`manifest.head.svr.${k}: ${a.length} values for ${features} features`);
      if (scale?.some((v) => v === 0)) errs.push(`manifest.head.svr.scale: a zero scale`);
      const shape = mm.outputs.find((o) => o.name === h.output)?.shape ?? [];
      if (shape.length !== 2 || (typeof shape[1] === 'number' && shape[1] !== features)) errs.push(`manifest.head.svr.features: output '${h.output}' must be [batch, ${features}]`);
    }
    const seen = new Set<string>();
    for (const e of h.extras ?? []) {
      if (!outNames.has(e.output)) errs.push(`manifest.head.extras: '${e.output}' is not a declared output`);
      if (seen.has(e.name)) errs.push(`manifest.head.extras: name '${e.name}' appears twice`);
      seen.add(e.name);
      const shape = mm.outputs.find((o) => o.name === e.output)?.shape ?? [];
      const per = shape.slice(1).reduce<number>((a, d) => (typeof d === 'number' ? a * d : NaN), 1);
      if ((e.index ?? 0) >= per) errs.push(`manifest.head.extras: index ${e.index ?? 0} of '${e.name}' is outside output '${e.output}' (${per} values per sample)`);
    }
    if (mm.score.range[0] >= mm.score.range[1]) errs.push(`manifest.score.range: must be [low, high] with low < high`);
    const wt = mm.score.weight;
    if ((mm.score.aggregate === 'weighted') !== (wt !== undefined)) errs.push(`manifest.score.weight: required with aggregate 'weighted', and only with it`);
    if (wt && !outNames.has(wt.output)) errs.push(`manifest.score.weight.output: '${wt.output}' is not a declared output`);
    if (mm.score.aggregate === 'feature-mean') {
      if (h.type === 'hyperiqa-target') errs.push(`manifest.score.aggregate: 'feature-mean' needs a head that reads one output`);
      if (h.extras?.length) errs.push(`manifest.score.aggregate: 'feature-mean' gives one head value per image, extras are per crop`);
    }
    const c = mm.preprocess.crop;
    if (c.policy !== 'random' && c.policy !== 'uniform' && c.count !== undefined && c.count !== 1) errs.push(`manifest.preprocess.crop.count: only the 'random' and 'uniform' policies take several crops`);
    if (c.policy !== 'grid' && c.grid !== undefined) errs.push(`manifest.preprocess.crop.grid: only the 'grid' policy has a grid rule`);
    if (c.policy !== 'center' && c.center !== undefined) errs.push(`manifest.preprocess.crop.center: only the 'center' policy has a centre rounding`);
    const rs = mm.preprocess.resize;
    if (rs) {
      const wh = rs.width !== undefined || rs.height !== undefined;
      if (rs.shorter !== undefined && wh) errs.push(`manifest.preprocess.resize.shorter: give either shorter or width and height, not both`);
      else if (rs.shorter === undefined && (rs.width === undefined || rs.height === undefined)) errs.push(`manifest.preprocess.resize: needs width and height, or shorter`);
      if (rs.shorter !== undefined && !(Number.isInteger(rs.shorter) && rs.shorter > 0)) errs.push(`manifest.preprocess.resize.shorter: must be a positive integer, got ${rs.shorter}`);
      if (rs.precision === 'float' && rs.interp !== 'pil-bilinear' && rs.interp !== 'pil-bicubic')
        errs.push(`manifest.preprocess.resize.precision: 'float' is implemented for interp 'pil-bilinear' and 'pil-bicubic' only, got '${rs.interp ?? 'area'}'`);
    }
    const lc = mm.preprocess.localContrast;
    if (lc && u8) errs.push(`manifest.preprocess.localContrast: needs a float32 input`);
    if (lc && lc.window % 2 === 0) errs.push(`manifest.preprocess.localContrast.window: must be odd, got ${lc.window}`);
    if (mm.task === 'fr-iqa' && u8) errs.push(`manifest.task: full-reference models take float32 NCHW patch pairs`);
    const tk = mm.preprocess.tokens;
    if ((c.policy === 'tokens') !== (tk !== undefined)) errs.push(`manifest.preprocess.tokens: required with crop policy 'tokens', and only with it`);
    if (tk) {
      if (mm.input.width !== mm.input.height) errs.push(`manifest.input: token patches are square (width = height = patch size)`);
      if (mm.input.channels !== 3 || u8) errs.push(`manifest.input: token models take float32 3-channel patches`);
      if (tk.buckets.some((b, i) => i > 0 && b <= tk.buckets[i - 1])) errs.push(`manifest.preprocess.tokens.buckets: must be ascending`);
      if (tk.scales.length === 0 && tk.native === false) errs.push(`manifest.preprocess.tokens: needs a scale or the native resolution`);
      const fixed = tk.scales.reduce((a, L) => a + Math.ceil(L / mm.input.width) ** 2, 0) + (tk.native !== false && (tk.nativeMax ?? -1) >= 0 ? (tk.nativeMax as number) : 0);
      if (fixed >= tk.buckets[tk.buckets.length - 1]) errs.push(`manifest.preprocess.tokens.buckets: the last bucket (${tk.buckets[tk.buckets.length - 1]}) leaves no room past the ${fixed} resized-scale tokens`);
    }
    if (mm.preprocess.highpass && (mm.input.channels !== 1 || u8)) errs.push(`manifest.preprocess.highpass: needs a 1-channel float32 input`);
    if (mm.preprocess.gray && mm.input.channels !== 1) errs.push(`manifest.preprocess.gray: only 1-channel inputs are converted to grey`);
  }
  if (errs.length) throw new IqaError('ERR_MODEL', `invalid model manifest ${where}:\n  ${errs.join('\n  ')}`);
  return m as ModelManifest;
}

/**
 * Reads a manifest by path, by model name (searched in modelDirs()) or takes an object; `validate`
 * checks it (image models by default; video models pass their own).
 */
export function readManifest<M = ModelManifest>(
  manifestOrPath: string | NoInfer<M>,
  baseDir?: string,
  validate: (m: unknown, where?: string) => M = validateManifest as unknown as (m: unknown, where?: string) => M,
): LoadedManifest<M> {
  if (typeof manifestOrPath === 'object' && manifestOrPath !== null) {
    return { manifest: validate(manifestOrPath), baseDir: resolve(baseDir ?? process.cwd()) };
  }
  if (typeof manifestOrPath !== 'string' || manifestOrPath.length === 0)
    throw new IqaError('ERR_INPUT', 'Model.load needs a manifest path, a model name or a manifest object');
  let path = manifestOrPath;
  if (isModelName(path)) {
    const found = findManifest(path);
    if (!found) throw new IqaError('ERR_MODEL', `model manifest not found: '${path}' is in none of the model directories (${modelDirs().join(', ')})${importHint(path)}`);
    path = found;
  }
  path = resolve(path);
  if (!existsSync(path)) throw new IqaError('ERR_MODEL', `model manifest not found: ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new IqaError('ERR_MODEL', `model manifest ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return { manifest: validate(parsed, path), baseDir: dirname(path), path };
}

export function resolveModelFile(lm: LoadedManifest<unknown>, file: string): string {
  return isAbsolute(file) ? file : join(lm.baseDir, file);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => {
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => res())
      .on('error', rej);
  });
  return h.digest('hex');
}

export interface CropOverride {
  /** Crop policy (default: the manifest's). */
  crop?: CropPolicy;
  /** Number of random crops (HyperIQA paper: 25). */
  crops?: number;
  /** Seed of the random crop positions. */
  seed?: number;
  /** JPEG shrink-on-load (default: the manifest's preprocess.shrinkOnLoad, else off). */
  shrinkOnLoad?: boolean;
  /**
   * Gaussian heads: 'mean' scores each crop by its mean (deterministic); 'sample' by mean + z scale,
   * z from a seeded generator (the authors' stochastic evaluation, reproducible). Default: the
   * manifest's head.sampling.mode, else 'mean'.
   */
  sampling?: 'mean' | 'sample';
  /** Seed of the sampling mode's draws (default: the manifest's head.sampling.seed, else 0). */
  samplingSeed?: number;
}

/** The flat object native createModel() reads (native/binding/model.cpp). */
export function nativeSpec(lm: LoadedManifest, modelPath: string, o: CropOverride = {}) {
  const m = lm.manifest;
  const n = m.input.normalize ?? { scale: 'unit', mean: [0], std: [1] };
  const k = n.scale === 'byte' ? 1 / 255 : 1; // native normalises values in [0,1]
  const per = (a: number[]) => [0, 1, 2].map((i) => a[Math.min(i, a.length - 1)] * k);
  const policy = o.crop ?? m.preprocess.crop.policy;
  const count = o.crops ?? (policy === 'random' || policy === 'uniform' ? (m.preprocess.crop.count ?? 1) : 1);
  const seed = o.seed ?? m.preprocess.crop.seed ?? 0;
  if (!Number.isInteger(count) || count < 1 || count > 4096) throw new IqaError('ERR_INPUT', `crops must be an integer in 1..4096, got ${count}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new IqaError('ERR_INPUT', `seed must be a non-negative safe integer, got ${seed}`);
  if (!['resize', 'center', 'random', 'uniform', 'full', 'grid', 'tokens'].includes(policy)) throw new IqaError('ERR_INPUT', `crop must be resize, center, random, uniform, full, grid or tokens, got '${String(policy)}'`);
  const tk = m.preprocess.tokens;
  if ((policy === 'tokens') !== (tk !== undefined)) throw new IqaError('ERR_INPUT', `crop 'tokens' is the policy of token models only (model '${m.name}' ${tk ? 'needs it' : 'has no preprocess.tokens'})`);
  const sampling = o.sampling ?? m.head.sampling?.mode ?? 'mean';
  const samplingSeed = o.samplingSeed ?? m.head.sampling?.seed ?? 0;
  if (sampling !== 'mean' && sampling !== 'sample') throw new IqaError('ERR_INPUT', `sampling must be 'mean' or 'sample', got '${String(sampling)}'`);
  if (!Number.isSafeInteger(samplingSeed) || samplingSeed < 0) throw new IqaError('ERR_INPUT', `samplingSeed must be a non-negative safe integer, got ${samplingSeed}`);
  if (sampling === 'sample' && m.head.type !== 'gaussian') throw new IqaError('ERR_INPUT', `sampling 'sample' needs a gaussian head; model '${m.name}' has head '${m.head.type}'`);
  const headOutputs = m.head.type === 'hyperiqa-target' || m.head.type === 'gaussian' ? (m.head.outputs ?? m.outputs.map((x) => x.name)) : [m.head.output as string];
  return {
    name: m.name,
    modelPath,
    inputName: m.input.name,
    width: m.input.width,
    height: m.input.height,
    channels: m.input.channels,
    rgb: m.input.colorOrder !== 'bgr',
    dtype: m.input.dtype ?? 'float32',
    layout: m.input.layout,
    mean: per(n.mean),
    std: per(n.std),
    outputs: m.outputs.map((x) => ({ name: x.name, shape: x.shape.map((d) => (typeof d === 'number' ? d : -1)) })),
    resizeWidth: m.preprocess.resize?.width ?? 0,
    resizeHeight: m.preprocess.resize?.height ?? 0,
    resizeShorter: m.preprocess.resize?.shorter ?? 0,
    interp: m.preprocess.resize?.interp ?? 'area',
    resizePrecision: m.preprocess.resize?.precision ?? 'byte',
    cropCenter: m.preprocess.crop.center ?? 'floor',
    crop: policy,
    cropCount: count,
    cropSeed: seed,
    grid: m.preprocess.crop.grid ?? 'floor',
    gray: m.preprocess.gray ?? 'opencv',
    localContrastWindow: m.preprocess.localContrast?.window ?? 0,
    localContrastConstant: m.preprocess.localContrast?.constant ?? 1,
    maxPixels: m.preprocess.maxPixels ?? 0,
    highpass: m.preprocess.highpass !== undefined,
    highpassKsize: m.preprocess.highpass?.lowpass.ksize ?? 16,
    highpassSigma: m.preprocess.highpass?.lowpass.sigma ?? 7 / 6,
    highpassFactor: m.preprocess.highpass?.factor ?? 4,
    highpassInterp: m.preprocess.highpass?.interp ?? 'tf-bicubic',
    shrinkOnLoad: o.shrinkOnLoad ?? m.preprocess.shrinkOnLoad ?? false,
    aggregate: m.score.aggregate ?? 'mean',
    weightOutput: m.score.weight?.output ?? '',
    weightEpsilon: m.score.weight?.epsilon ?? 0,
    pair: m.task === 'fr-iqa',
    scoreScale: m.score.affine?.scale ?? 1,
    scoreOffset: m.score.affine?.offset ?? 0,
    tokens: tk && {
      scales: tk.scales,
      native: tk.native ?? true,
      nativeMax: tk.nativeMax ?? -1,
      patch: m.input.width,
      grid: tk.grid ?? 10,
      interp: tk.interp ?? 'pil-bicubic',
      buckets: tk.buckets,
      positionInput: tk.inputs.position,
      scaleInput: tk.inputs.scale,
      maskInput: tk.inputs.mask,
    },
    extras: (m.head.extras ?? []).map((e) => ({ name: e.name, output: e.output, index: e.index ?? 0 })),
    sample: sampling === 'sample',
    sampleSeed: samplingSeed,
    head: {
      type: m.head.type,
      outputs: headOutputs,
      sizes: m.head.svr ? [m.head.svr.features] : (m.head.sizes ?? []),
      bins: m.head.bins ?? [],
      softmax: m.head.softmax ?? false,
      svrModel: m.head.svr ? resolveModelFile(lm, m.head.svr.model) : '',
      scalerMean: m.head.svr?.mean ?? [],
      scalerScale: m.head.svr?.scale ?? [],
    },
  };
}
