// DIQA as re-implemented by sandyz1000/deepinsight-iqa (models/zoo/diqa.json lists what is
// assumed): TF grey (preprocess.gray 'tf'), the high-pass normalisation I - up(down(lowpass(I)))
// (preprocess.highpass) and the whole image through a fully convolutional net. Goldens:
// scripts/golden/diqa_golden.py, TensorFlow's own ops for the pixels (test/golden/diqa-highpass.json)
// and a numpy + PyTorch reference for the scores (test/golden/diqa.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, preprocess, registryCards, resolveMetric, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, expectSharedParity } from './helpers';

const FIX = join(ROOT, 'test/fixtures/diqa-tiny');
const MANIFEST = join(FIX, 'manifest.json');
const IMAGES = join(ROOT, 'test/fixtures/patch-images');
const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const TOL = 1e-4;
const PIXEL_TOL = 2e-4; // byte scale: float32 rounding of sums of values up to 255

const pixels = JSON.parse(readFileSync(join(ROOT, 'test/golden/diqa-highpass.json'), 'utf8')) as {
  pixels: Record<string, { width: number; height: number; float32Base64: string }>;
  numpyVsTf: Record<string, number>;
};
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/diqa.json'), 'utf8')) as {
  seeded: { fixtures: Record<string, number>; calibration: Record<string, number> | null; biq2021: Record<string, number> | null };
};
const tmp = mkdtempSync(join(tmpdir(), 'iqa-diqa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const variant = (name: string, edit: (m: ModelManifest) => void, onnx?: string) => manifestVariant(MANIFEST, tmp, name, edit, onnx);

async function worstPixel(name: string, opts: Parameters<typeof preprocess>[1]): Promise<number> {
  const g = pixels.pixels[name];
  const want = new Float32Array(new Uint8Array(Buffer.from(g.float32Base64, 'base64')).buffer);
  const out = await preprocess(join(IMAGES, name), opts);
  expect([out.width, out.height, out.channels]).toEqual([g.width, g.height, 1]);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((out.data[i] as number) * 255 - want[i]));
  return worst;
}

describe('high-pass normalisation (preprocess.highpass) against TensorFlow', () => {
  it("equals TF's rgb_to_grayscale + conv2d SAME + bicubic resize on every pixel", async () => {
    for (const name of Object.keys(pixels.pixels)) expect(await worstPixel(name, { gray: 'tf', highpass: {} })).toBeLessThanOrEqual(PIXEL_TOL);
    // The numpy reference the score goldens use is TF's procedure too (measured by the golden script).
    for (const d of Object.values(pixels.numpyVsTf)) expect(d).toBeLessThanOrEqual(5e-4);
  });

  it('fails with the ITU-R 601 grey, OpenCV bicubic or a centred kernel (the check above can fail)', async () => {
    const name = 'smooth-97x75.png';
    expect(await worstPixel(name, { gray: 'opencv', highpass: {} })).toBeGreaterThan(0.01);
    expect(await worstPixel(name, { gray: 'tf', highpass: { interp: 'bicubic' } })).toBeGreaterThan(0.01);
    expect(await worstPixel(name, { gray: 'tf', highpass: { ksize: 17 } })).toBeGreaterThan(0.01);
  });
});

describe('DIQA pipeline, seeded weights (committed tiny fixture)', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(MANIFEST);
  });
  afterAll(async () => model?.close());

  it('matches the reference per image (decode -> grey -> high-pass -> ONNX -> score), 1e-4', async () => {
    const names = Object.keys(golden.seeded.fixtures);
    const scores = await model.scoreMany(names.map((n) => join(IMAGES, n)));
    scores.forEach((s, i) => expect(Math.abs(s - golden.seeded.fixtures[names[i]])).toBeLessThanOrEqual(TOL));
    // Images differ by whole units: the tolerance separates them.
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(1);
  });

  it('depends on the high-pass step and the TF grey (without them the score moves)', async () => {
    const img = join(IMAGES, 'smooth-97x75.png');
    const want = golden.seeded.fixtures['smooth-97x75.png'];
    for (const [name, edit] of [
      ['no-highpass', (m: ModelManifest) => delete m.preprocess.highpass],
      ['opencv-grey', (m: ModelManifest) => (m.preprocess.gray = 'opencv')],
    ] as const) {
      const v = await Model.load(variant(name, edit));
      try {
        expect(Math.abs((await v.score(img)) - want)).toBeGreaterThan(10 * TOL);
      } finally {
        await v.close();
      }
    }
  });

  it('rejects an image over maxPixels with ERR_TOO_LARGE before filtering it', async () => {
    const side = 4001; // 16,008,001 pixels > the default 16,000,000
    const huge = { data: new Uint8Array(side * side), width: side, height: side, channels: 1 as const };
    const e = await rejection(model.score(huge));
    expect(e.code).toBe('ERR_TOO_LARGE');
    expect(e.message).toMatch(/16000000-pixel limit/);
    const small = await Model.load(variant('max-1000', (m) => (m.preprocess.maxPixels = 1000)));
    try {
      expect((await rejection(small.score(join(IMAGES, 'colours.png')))).code).toBe('ERR_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('rejects graphs whose input is not N x 1 x H x W with ERR_MODEL', async () => {
    const rgbGraph = join(ROOT, 'test/fixtures/wadiqam-nr-seeded/wadiqam-nr-seeded.onnx'); // N x 3 x 32 x 32
    const e = await rejection(Model.load(variant('rgb-graph', (m) => (m.input.name = 'patches'), rgbGraph)));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/shape \[\?, 3, 32, 32\] but the manifest declares \[\?, 1, \?, \?\]/);
    const rank = await rejection(Model.load(variant('rank-graph', () => undefined, join(FIX, 'bad-rank3.onnx')))); // N x H x W
    expect(rank.code).toBe('ERR_MODEL');
    expect(rank.message).toMatch(/shape \[\?, \?, \?\] but the manifest declares \[\?, 1, \?, \?\]/);
  });

  it('rejects high-pass manifests that cannot work with ERR_MODEL', () => {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;
    const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
      const x = structuredClone(m);
      edit(x);
      expect(() => validateManifest(x)).toThrow(msg);
    };
    bad((x) => ((x.input as { channels: number }).channels = 3), /highpass: needs a 1-channel float32 input/);
    bad((x) => ((x.preprocess.highpass as { factor: number }).factor = 0), /factor/);
    bad((x) => ((x.preprocess.highpass as { interp: string }).interp = 'pil-lanczos'), /interp/);
    bad((x) => ((x.preprocess as { gray: string }).gray = 'bt709'), /gray/);
  });
});

describe('DIQA seeded weights on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches the reference per image, 1e-4${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    const scored = (set: Record<string, number>) => Object.fromEntries(Object.entries(set).map(([n, score]) => [n, { score }]));
    await expectSharedParity('diqa', () => Model.load(MANIFEST), scored(golden.seeded.calibration!), scored(golden.seeded.biq2021!), TOL);
  });
});
if (!HAS_SHARED) console.warn(`DIQA shared-image parity: ${SHARED_SKIP_REASON}`);

describe('diqa card', () => {
  it('is available, names the re-implementation and lists its assumptions', () => {
    const card = registryCards().find((c) => c.name === 'diqa')!;
    expect(card.available).toBeUndefined();
    expect(card.title).toMatch(/DIQA as re-implemented by deepinsight-iqa/);
    expect(card.commercialUse).toBe(false);
    expect(card.assumptions!.join(' ')).toMatch(/handcrafted features/);
    expect(card.assumptions!.join(' ')).toMatch(/networks\/model\.py/);
    expect(resolveMetric('diqa').card.name).toBe('diqa');
  });
});

// A seeded .h5 in the re-implementation's save_weights layout (the fixture's weights) through
// `iqa models import diqa` and `iqa score --metric diqa`.
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'h5py']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, onnx, onnxruntime and h5py (set IQA_PYTHON): skipping the DIQA import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('diqa from a Keras .h5 (iqa models import + iqa score --metric diqa)', () => {
  it('imports the fixture weights and scores the fixture images as the goldens', () => {
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models'), PYTHONDONTWRITEBYTECODE: '1' };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'diqa', '--checkpoint', join(FIX, 'diqa-tiny.h5'), '--python', PYTHON!], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'diqa', 'manifest.json'))).toBe(true);
    const names = Object.keys(golden.seeded.fixtures);
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'diqa', '--format', 'jsonl', '--no-progress', ...names.map((n) => join(IMAGES, n))], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    expect(recs.length).toBe(names.length);
    for (const n of names) expect(Math.abs(recs.find((x) => x.input === join(IMAGES, n))!.score - golden.seeded.fixtures[n])).toBeLessThanOrEqual(TOL);
  }, 120_000);

  it('refuses an .h5 without the re-implementation layers with ERR_MODEL', () => {
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models-bad'), PYTHONDONTWRITEBYTECODE: '1' };
    const bad = join(tmp, 'other.h5');
    const gen = spawnSync(PYTHON!, ['-c', "import h5py,sys; f=h5py.File(sys.argv[1],'w'); f.create_dataset('conv/kernel:0', data=[1.0]); f.close()", bad], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'diqa', '--checkpoint', bad, '--python', PYTHON!], { encoding: 'utf8', env });
    expect(imp.status).not.toBe(0);
    expect(imp.stderr).toMatch(/no layer\(s\) Conv1/);
    expect(imp.stderr).toMatch(/ERR_MODEL/);
  }, 60_000);
});
