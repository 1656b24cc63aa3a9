import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IqaError, Model, preprocess, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { ROOT } from './helpers';

// Golden per-crop scores: PyTorch (authors' HyperNet + TargetNet) on a reduced-width HyperIQA
// with seeded random weights, written by tools/export/make_hyperiqa_fixture.py.
const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');
const MANIFEST = join(FIX, 'model.json');
const golden = JSON.parse(readFileSync(join(FIX, 'golden.json'), 'utf8')) as {
  images: { file: string; width: number; height: number; crops: number[][]; cropScores: number[]; score: number; centerScore: number }[];
};
const manifestJson = () => JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;
const tmp = mkdtempSync(join(tmpdir(), 'iqa-model-'));

/** Writes a modified copy of the fixture manifest next to a copy of its ONNX file. */
function variant(name: string, edit: (m: ModelManifest) => void): string {
  const m = manifestJson();
  edit(m);
  copyFileSync(join(FIX, 'model.onnx'), join(tmp, 'model.onnx'));
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify(m));
  return p;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp) {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IqaError);
  expect((e as IqaError).code).toBe(code);
  if (message) expect((e as IqaError).message).toMatch(message);
}

describe('Model (HyperIQA-shaped fixture, CPU)', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(MANIFEST);
  });
  afterAll(async () => {
    await model.close();
  });

  it('per-crop scores match PyTorch within 1e-4, and the image score is their mean', async () => {
    for (const g of golden.images) {
      const crops = await model.scoreCrops(join(FIX, g.file));
      expect(crops.length).toBe(g.cropScores.length);
      crops.forEach((s, i) => expect(Math.abs(s - g.cropScores[i])).toBeLessThan(1e-4));
      expect(Math.abs((await model.score(join(FIX, g.file))) - g.score)).toBeLessThan(1e-4);
    }
  });

  it('a uint8 NHWC model (normalised in the graph) gives the same per-crop scores', async () => {
    const u8 = await Model.load(join(FIX, 'model-u8.json'));
    try {
      expect(u8.info().inputs[0]).toMatchObject({ type: 'uint8', shape: [-1, 224, 224, 3] });
      for (const g of golden.images) {
        const crops = await u8.scoreCrops(join(FIX, g.file));
        crops.forEach((s, i) => expect(Math.abs(s - g.cropScores[i])).toBeLessThan(1e-4));
      }
      // RGBA raw input: alpha dropped on the way into the tensor.
      const raw = await preprocess(join(FIX, golden.images[0].file));
      const rgba = new Uint8Array(raw.width * raw.height * 4);
      for (let p = 0; p < raw.width * raw.height; p++) {
        for (let c = 0; c < 3; c++) rgba[p * 4 + c] = (raw.data as Uint8Array)[p * 3 + 2 - c];
        rgba[p * 4 + 3] = 255;
      }
      expect(Math.abs((await u8.score({ data: rgba, width: raw.width, height: raw.height, channels: 4, order: 'rgba' })) - golden.images[0].score)).toBeLessThan(1e-4);
    } finally {
      await u8.close();
    }
  });

  it('the seeded crop generator: 3 crops are the first 3 of 5; centre crop matches', async () => {
    const m3 = await Model.load(MANIFEST, { crops: 3 });
    const c = await Model.load(MANIFEST, { crop: 'center' });
    try {
      const g = golden.images[2];
      const three = await m3.scoreCrops(join(FIX, g.file));
      expect(three.length).toBe(3);
      three.forEach((s, i) => expect(Math.abs(s - g.cropScores[i])).toBeLessThan(1e-4));
      expect(Math.abs((await c.score(join(FIX, g.file))) - g.centerScore)).toBeLessThan(1e-4);
      const other = await (await Model.load(MANIFEST, { seed: 8 })).scoreCrops(join(FIX, g.file));
      expect(Array.from(other)).not.toEqual(Array.from(await model.scoreCrops(join(FIX, g.file))));
    } finally {
      await m3.close();
      await c.close();
    }
  });

  it('padded batches (fixed input shape, as on CUDA) give the same scores', async () => {
    const m = await Model.load(MANIFEST, { padBatches: true, maxBatch: 12, maxDelayMs: 0 });
    try {
      const g = golden.images[0];
      const crops = await m.scoreCrops(join(FIX, g.file));
      crops.forEach((s, i) => expect(Math.abs(s - g.cropScores[i])).toBeLessThan(1e-4));
    } finally {
      await m.close();
    }
  });

  it('allowSpinning false (idle ORT threads sleep) gives the same scores; a non-boolean is ERR_INPUT', async () => {
    const m = await Model.load(MANIFEST, { allowSpinning: false, intraOpThreads: 2 });
    try {
      expect(m.info().allowSpinning).toBe(false);
      for (const g of golden.images) {
        const crops = await m.scoreCrops(join(FIX, g.file));
        crops.forEach((s, i) => expect(Math.abs(s - g.cropScores[i])).toBeLessThan(1e-4));
      }
    } finally {
      await m.close();
    }
    const spinning = await Model.load(MANIFEST);
    expect(spinning.info().allowSpinning).toBe(true); // the default
    await spinning.close();
    await expect(Model.load(MANIFEST, { allowSpinning: 'no' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INPUT', message: 'allowSpinning must be a boolean' });
  });

  it('raw pixels and encoded bytes score like the file', async () => {
    const g = golden.images[0];
    const file = join(FIX, g.file);
    const raw = await preprocess(file);
    expect(raw.order).toBe('bgr');
    const fromRaw = await model.score({ data: raw.data as Uint8Array, width: raw.width, height: raw.height, channels: 3, order: 'bgr' });
    const fromBytes = await model.score(readFileSync(file));
    expect(Math.abs(fromRaw - g.score)).toBeLessThan(1e-4);
    expect(Math.abs(fromBytes - g.score)).toBeLessThan(1e-4);
  });

  it('scoreMany keeps order, reports per-item errors and accepts async iterables', async () => {
    const files = golden.images.map((g) => join(FIX, g.file));
    async function* gen() {
      yield files[0];
      yield '/does/not/exist.png';
      yield files[1];
      yield Buffer.from('not an image');
      yield files[2];
    }
    const r = await model.scoreManySettled(gen(), { chunkSize: 2 });
    expect(r.scores.length).toBe(5);
    expect(Math.abs(r.scores[0] - golden.images[0].score)).toBeLessThan(1e-4);
    expect(Math.abs(r.scores[2] - golden.images[1].score)).toBeLessThan(1e-4);
    expect(Math.abs(r.scores[4] - golden.images[2].score)).toBeLessThan(1e-4);
    expect(r.errors[1]?.code).toBe('ERR_INPUT');
    expect(r.errors[3]?.code).toBe('ERR_DECODE');
    expect(r.errors[3]?.input).toBe(3);
    expect(Number.isNaN(r.scores[1])).toBe(true);
    const plain = await model.scoreMany(files);
    plain.forEach((s, i) => expect(Math.abs(s - golden.images[i].score)).toBeLessThan(1e-4));
  });

  it('merges concurrent score() calls into shared batches', async () => {
    const m = await Model.load(MANIFEST, { maxBatch: 32, maxDelayMs: 50 });
    try {
      const file = join(FIX, golden.images[0].file);
      const calls = 8;
      const scores = await Promise.all(Array.from({ length: calls }, () => m.score(file)));
      scores.forEach((s) => expect(Math.abs(s - golden.images[0].score)).toBeLessThan(1e-4));
      const info = m.info();
      expect(info.rows).toBe(calls * 5);
      expect(info.batches).toBeLessThan(calls);
    } finally {
      await m.close();
    }
  });

  it('many concurrent calls through tiny batches (back-pressure on batch buffers) all finish correctly', async () => {
    const m = await Model.load(MANIFEST, { maxBatch: 3, maxDelayMs: 0, runners: 1 });
    try {
      const files = golden.images.map((g) => join(FIX, g.file));
      const many = Array.from({ length: 48 }, (_, i) => files[i % 3]);
      const [a, b] = await Promise.all([m.scoreMany(many, { chunkSize: 5, concurrency: 3 }), Promise.all(many.map((f) => m.score(f)))]);
      many.forEach((_, i) => {
        expect(Math.abs(a[i] - golden.images[i % 3].score)).toBeLessThan(1e-4);
        expect(Math.abs(b[i] - golden.images[i % 3].score)).toBeLessThan(1e-4);
      });
      expect(m.info().rows).toBe(2 * 48 * 5);
    } finally {
      await m.close();
    }
  }, 60_000);

  it('closing with calls in flight: they finish or reject with ERR_MODEL; later calls reject', async () => {
    const m = await Model.load(MANIFEST, { maxDelayMs: 20 });
    const file = join(FIX, golden.images[1].file);
    const inflight = Array.from({ length: 12 }, () => m.score(file).then((s) => ({ s }), (e: IqaError) => ({ e })));
    await new Promise((r) => setTimeout(r, 1));
    await m.close();
    const results = await Promise.all(inflight);
    for (const r of results) {
      if ('s' in r) expect(Math.abs(r.s - golden.images[1].score)).toBeLessThan(1e-4);
      else expect(r.e.code).toBe('ERR_MODEL');
    }
    await rejectsWith(m.score(file), 'ERR_MODEL', /closed/);
    await rejectsWith(m.scoreMany([file]), 'ERR_MODEL', /closed/);
    expect(m.info().closed).toBe(true);
    await m.close(); // idempotent
  });

  it('an aborted signal rejects with ERR_ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(model.score(join(FIX, golden.images[0].file), { signal: ac.signal }), 'ERR_ABORTED');
  });

  it('bad inputs reject with typed errors', async () => {
    await rejectsWith(model.score(42 as never), 'ERR_INPUT');
    await rejectsWith(model.score('/does/not/exist.png'), 'ERR_INPUT');
    await rejectsWith(model.score(Buffer.from('garbage bytes')), 'ERR_DECODE');
    // Smaller than the 224x224 crop and no resize in the manifest.
    await rejectsWith(model.score({ data: new Uint8Array(100 * 80 * 3), width: 100, height: 80 }), 'ERR_INPUT', /smaller than the 224x224 crop/);
    await rejectsWith(model.score(join(FIX, golden.images[0].file), { limitInputPixels: 100 }), 'ERR_TOO_LARGE');
  });

  it('resize in the manifest: crops come from the resized image', async () => {
    const p = variant('resized', (m) => {
      m.preprocess.resize = { width: 256, height: 240, interp: 'area' };
    });
    const resized = await Model.load(p);
    const plain = await Model.load(MANIFEST);
    try {
      const file = join(FIX, golden.images[2].file);
      const pre = await preprocess(file, { resize: { width: 256, height: 240, interp: 'area' } });
      const a = await resized.scoreCrops(file);
      const b = await plain.scoreCrops({ data: pre.data as Uint8Array, width: pre.width, height: pre.height, channels: 3, order: 'bgr' });
      Array.from(a).forEach((s, i) => expect(s).toBeCloseTo(b[i], 6));
    } finally {
      await resized.close();
      await plain.close();
    }
  });

  it('CUDA requested where it cannot load: recorded fallback, or ERR_DEVICE when strict', async () => {
    const m = await Model.load(MANIFEST, { device: 'cuda' });
    try {
      const info = m.info();
      if (info.device === 'cuda') return; // a machine with a working CUDA provider
      expect(info.requestedDevice).toBe('cuda');
      expect(info.fallbackReason).toMatch(/CUDA unavailable/);
      expect(Math.abs((await m.score(join(FIX, golden.images[0].file))) - golden.images[0].score)).toBeLessThan(1e-4);
      await rejectsWith(Model.load(MANIFEST, { device: 'cuda', strictDevice: true }), 'ERR_DEVICE', /CUDA/);
    } finally {
      await m.close();
    }
  });
});

// Full-size HyperIQA parity (110 MB, not committed): made by
// `python tools/export/make_hyperiqa_fixture.py --config full --out DIR`, run with IQA_HYPERIQA_FULL=DIR.
const FULL_DIR = process.env.IQA_HYPERIQA_FULL;
describe.skipIf(!FULL_DIR)('full-size HyperIQA vs PyTorch (IQA_HYPERIQA_FULL)', () => {
  it('per-crop scores within 1e-4 (float32 and uint8 graphs)', async () => {
    const g = JSON.parse(readFileSync(join(FULL_DIR!, 'golden.json'), 'utf8')) as typeof golden;
    for (const file of ['model.json', 'model-u8.json']) {
      const m = await Model.load(join(FULL_DIR!, file));
      try {
        let worst = 0;
        for (const im of g.images) {
          const crops = await m.scoreCrops(join(FULL_DIR!, im.file));
          crops.forEach((s, i) => (worst = Math.max(worst, Math.abs(s - im.cropScores[i]))));
        }
        console.log(`full-size ${file}: max |ours - PyTorch| per crop = ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-4);
      } finally {
        await m.close();
      }
    }
  }, 300_000);
});

describe('Model.load rejects broken models with ERR_MODEL naming the problem', () => {
  it('missing manifest, invalid JSON, schema violations', async () => {
    await rejectsWith(Model.load(join(tmp, 'nope.json')), 'ERR_MODEL', /not found/);
    writeFileSync(join(tmp, 'bad.json'), '{ not json');
    await rejectsWith(Model.load(join(tmp, 'bad.json')), 'ERR_MODEL', /not valid JSON/);
    await rejectsWith(
      Model.load(variant('schema', (m) => {
        (m.input as { width: number }).width = -3;
        (m as unknown as Record<string, unknown>).extra = 1;
        m.preprocess.crop.policy = 'diagonal' as never;
      })),
      'ERR_MODEL',
      /manifest\.input\.width: must be >= 1[\s\S]*manifest\.preprocess\.crop\.policy: must be one of[\s\S]*unknown property 'extra'/,
    );
    await rejectsWith(Model.load(variant('head', (m) => { m.head.outputs = ['nope', ...m.head.outputs!.slice(1)]; })), 'ERR_MODEL', /'nope' is not a declared output/);
    await rejectsWith(Model.load(42 as never), 'ERR_INPUT');
  });

  it('missing or corrupt ONNX file, sha256 mismatch', async () => {
    await rejectsWith(Model.load(variant('missing', (m) => { m.model.file = 'absent.onnx'; delete m.model.sha256; })), 'ERR_MODEL', /model file not found/);
    writeFileSync(join(tmp, 'corrupt.onnx'), Buffer.from('definitely not a protobuf'));
    await rejectsWith(Model.load(variant('corrupt', (m) => { m.model.file = 'corrupt.onnx'; delete m.model.sha256; })), 'ERR_MODEL', /cannot load model/);
    await rejectsWith(Model.load(variant('sha', (m) => { m.model.sha256 = '0'.repeat(64); })), 'ERR_MODEL', /sha256/);
  });

  it('declared inputs/outputs that the ONNX graph does not have', async () => {
    await rejectsWith(Model.load(variant('inname', (m) => { m.input.name = 'image'; })), 'ERR_MODEL', /declares input 'image' but the model's input is 'input'/);
    await rejectsWith(Model.load(variant('insize', (m) => { m.input.width = 200; })), 'ERR_MODEL', /input 'input' has shape \[\?, 3, 224, 224\] but the manifest declares \[\?, 3, 224, 200\]/);
    await rejectsWith(Model.load(variant('outname', (m) => { m.outputs.push({ name: 'quality', shape: ['batch', 1] }); })), 'ERR_MODEL', /declares output 'quality' but the model has none/);
    await rejectsWith(Model.load(variant('outshape', (m) => { m.outputs[1].shape = ['batch', 28, 57]; })), 'ERR_MODEL', /output 'fc1w' has shape \[\?, 28, 56\] but the manifest declares \[\?, 28, 57\]/);
    await rejectsWith(Model.load(variant('sizes', (m) => { m.head.sizes = [56, 28, 14, 7, 8, 1]; })), 'ERR_MODEL', /output 'fc4w' has shape \[\?, 7, 7\] but the head needs \[\?, 8, 7\]/);
    await rejectsWith(Model.load(variant('scalar', (m) => { m.head = { type: 'scalar', output: 'fc1w' }; })), 'ERR_MODEL', /scalar head needs \[batch\] or \[batch, 1\]/);
    // A float32 manifest over the uint8 graph.
    const u8 = JSON.parse(readFileSync(join(FIX, 'model-u8.json'), 'utf8')) as ModelManifest;
    const f32 = manifestJson();
    await rejectsWith(Model.load(variant('dtype', (m) => { m.model = { file: join(FIX, u8.model.file) }; m.outputs = f32.outputs; })), 'ERR_MODEL', /input 'input' is uint8 but the manifest declares float32/);
  });

  it('a truncated ONNX file is ERR_MODEL', async () => {
    const full = readFileSync(join(FIX, 'model.onnx'));
    writeFileSync(join(tmp, 'truncated.onnx'), full.subarray(0, Math.floor(full.length / 2)));
    await rejectsWith(Model.load(variant('truncated', (m) => { m.model.file = 'truncated.onnx'; delete m.model.sha256; })), 'ERR_MODEL', /cannot load model/);
  });

  // Graphs from tools/export/make_bad_model_fixtures.py: score = mean(x) * NaN, and sqrt(mean(x) - 0.5)
  // (NaN for dark images only). A 32x32 grey input, one centre crop.
  const BAD = join(ROOT, 'test/fixtures/bad-models');
  const scalarManifest = (file: string): ModelManifest => ({
    schemaVersion: 1, name: file.replace('.onnx', ''), task: 'nr-iqa',
    model: { file: join(BAD, file) },
    input: { name: 'input', layout: 'NCHW', width: 32, height: 32, channels: 1, colorOrder: 'gray', batch: 'dynamic', normalize: { scale: 'unit', mean: [0], std: [1] } },
    preprocess: { crop: { policy: 'center' } },
    outputs: [{ name: 'score', shape: ['batch', 1] }],
    head: { type: 'scalar', output: 'score' },
    score: { range: [0, 1], higherIsBetter: true },
    source: { license: 'test fixture' },
  });
  const flat = (v: number) => ({ data: new Uint8Array(32 * 32).fill(v), width: 32, height: 32, channels: 1 as const });

  it('NaN outputs are ERR_MODEL naming the model, crop and output; batch-mates still score', async () => {
    const nan = await Model.load(scalarManifest('nan-score.onnx'));
    try {
      await rejectsWith(nan.score(flat(200)), 'ERR_MODEL', /model 'nan-score' produced a non-finite score \(nan\) for crop 1 of 1 \(head 'scalar' on output 'score'\)/);
    } finally {
      await nan.close();
    }
    const dark = await Model.load(scalarManifest('nan-dark.onnx'), { maxBatch: 8, maxDelayMs: 50 });
    try {
      // Submitted together so they share a batch: only the dark image (mean 0.1 < 0.5) fails.
      const r = await dark.scoreManySettled([flat(230), flat(25), flat(230)]);
      expect(r.errors[1]?.code).toBe('ERR_MODEL');
      expect(r.errors[1]?.message).toMatch(/non-finite score/);
      expect(r.errors[0]).toBeNull();
      expect(r.errors[2]).toBeNull();
      expect(r.scores[0]).toBeCloseTo(Math.sqrt(230 / 255 - 0.5), 5) // float32 graph;
      expect(r.scores[2]).toBeCloseTo(Math.sqrt(230 / 255 - 0.5), 5) // float32 graph;
    } finally {
      await dark.close();
    }
  });

  it('bad load options reject with ERR_INPUT', async () => {
    await rejectsWith(Model.load(MANIFEST, { device: 'tpu' as never }), 'ERR_INPUT');
    await rejectsWith(Model.load(MANIFEST, { maxBatch: 0 }), 'ERR_INPUT');
    await rejectsWith(Model.load(MANIFEST, { crops: 0 }), 'ERR_INPUT');
    await rejectsWith(Model.load(MANIFEST, { graphOptimization: 'max' as never }), 'ERR_INPUT');
  });

  it('the fixture manifest validates against models/manifest.schema.json', () => {
    expect(validateManifest(manifestJson()).name).toBe('hyperiqa-tiny');
  });
});

describe('iqa score --metric hyperiqa', () => {
  it('scores with a manifest and reports errors per input', () => {
    const cli = join(ROOT, 'dist/cjs/cli/index.js');
    const r = spawnSync(process.execPath, [cli, 'score', '--metric', 'hyperiqa', '--model', MANIFEST, join(FIX, 'img0.png'), join(FIX, 'img2.png'), '/does/not/exist.png'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(Math.abs(lines[0].score - golden.images[0].score)).toBeLessThan(1e-4);
    expect(Math.abs(lines[1].score - golden.images[2].score)).toBeLessThan(1e-4);
    expect(lines[2].error.code).toBe('ERR_INPUT');
  });

  it('a missing default model is ERR_MODEL with export instructions', () => {
    const cli = join(ROOT, 'dist/cjs/cli/index.js');
    const r = spawnSync(process.execPath, [cli, 'score', '--metric', 'hyperiqa', join(FIX, 'img0.png')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_MODEL: model manifest not found[\s\S]*export_hyperiqa\.py/);
  });
});

describe('score.aggregate: median of the crop scores', () => {
  // numpy.median convention: even counts average the two middle values.
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    const k = s.length >> 1;
    return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
  };
  it('odd and even crop counts match the median of the PyTorch golden crop scores', async () => {
    const m = await Model.load(variant('median', (x) => { x.score.aggregate = 'median'; }));
    const m4 = await Model.load(variant('median4', (x) => { x.score.aggregate = 'median'; }), { crops: 4 });
    try {
      for (const g of golden.images) {
        // Crop positions come from the seeded sequence: 4 crops are the golden's first 4.
        expect(Math.abs((await m.score(join(FIX, g.file))) - median(g.cropScores))).toBeLessThan(1e-4);
        expect(Math.abs((await m4.score(join(FIX, g.file))) - median(g.cropScores.slice(0, 4)))).toBeLessThan(1e-4);
      }
      // The medians differ from the means here, so the test tells the two apart.
      expect(Math.max(...golden.images.map((g) => Math.abs(median(g.cropScores) - g.score)))).toBeGreaterThan(5e-4);
    } finally {
      await m.close();
      await m4.close();
    }
  });
  it('an unknown aggregate is ERR_MODEL', async () => {
    await rejectsWith(Model.load(variant('agg', (x) => { (x.score as { aggregate: string }).aggregate = 'max'; })), 'ERR_MODEL', /manifest\.score\.aggregate: must be one of/);
  });
});
