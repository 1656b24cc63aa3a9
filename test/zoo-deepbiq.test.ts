// DeepBIQ (tools/export/export_deepbiq.py): one seeded 224 crop, ORT fc7 features, and the manifest's
// native `svr` head (StandardScaler + libsvm) against a functional PyTorch forward with scikit-learn's
// own StandardScaler and SVR (test/golden/deepbiq_tiny.json from scripts/golden/deepbiq_golden.py, on a
// seeded narrow AlexNet and a seeded RBF SVR), the head's checks, and the third-party files
// (model_best.pth.tar + svr_mode.pkl + svr_process.pkl) through `iqa models import`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const TOL = 1e-4;
const FIX = join(ROOT, 'test/fixtures/deepbiq-tiny');
const MANIFEST = join(FIX, 'deepbiq-tiny.json');
interface Golden {
  images: { where: 'fixture' | 'shared' | 'biq2021'; file: string; score: number; featureMean5: number; scoreMean5: number }[];
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/deepbiq_tiny.json'), 'utf8')) as Golden;
const imagePath = (g: Golden['images'][number]) =>
  g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : g.where === 'biq2021' ? sharedPath('data/biq2021/images', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file);
/** The calibration ('shared', keyed by name without .bmp) and BIQ2021 goldens of one value, as worstSharedDelta takes them. */
const sharedGoldens = (key: 'score' | 'featureMean5') => {
  const pick = (where: 'shared' | 'biq2021', name: (f: string) => string) =>
    Object.fromEntries(golden.images.filter((g) => g.where === where).map((g) => [name(g.file), { score: g[key] }]));
  return [pick('shared', (f) => f.replace(/\.bmp$/, '')), pick('biq2021', (f) => f)] as const;
};
const manifest = () => JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;
// A manifest variant in tmp that still finds the fixture's libsvm file.
const variant = (name: string, edit: (m: ModelManifest) => void) =>
  manifestVariant(MANIFEST, tmp, name, (m) => {
    m.head.svr!.model = join(FIX, m.head.svr!.model);
    edit(m);
  });

// A variant of another manifest of the fixture (same libsvm file).
const variantOf = (path: string, name: string, edit: (m: ModelManifest) => void) =>
  manifestVariant(path, tmp, name, (m) => {
    m.head.svr!.model = join(FIX, m.head.svr!.model);
    edit(m);
  });

let model: Model;
let tmp: string;
beforeAll(async () => {
  model = await Model.load(MANIFEST);
  tmp = mkdtempSync(join(tmpdir(), 'iqa-deepbiq-'));
});
afterAll(async () => {
  await model?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('DeepBIQ against PyTorch + scikit-learn (seeded narrow AlexNet, seeded SVR)', () => {
  for (const g of golden.images.filter((x) => x.where !== 'biq2021')) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file} within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      expect(Math.abs((await model.score(imagePath(g))) - g.score)).toBeLessThanOrEqual(TOL);
    });
  }

  it.skipIf(!HAS_SHARED)(`the five calibration and 20 BIQ2021 images (one batch each) within 1e-4${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('deepbiq one crop', model, ...sharedGoldens('score'), TOL);
  });

  it('the goldens tell the crop position and the scaler apart', async () => {
    const g = golden.images[0]; // 260 x 240: the crop can move
    const moved = await Model.load(variant('seed-9', (m) => (m.preprocess.crop.seed = 9)));
    const unscaled = await Model.load(
      variant('no-scaler', (m) => {
        delete m.head.svr!.mean;
        delete m.head.svr!.scale;
      }),
    );
    try {
      expect(Math.abs((await moved.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
      expect(Math.abs((await unscaled.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
    } finally {
      await moved.close();
      await unscaled.close();
    }
  });
});

// Multi-crop feature averaging (export_deepbiq.py --crops 5 --pool features): manifest aggregate
// 'feature-mean' averages the five crops' fc7 vectors, then the SVR runs once.
describe("DeepBIQ five crops, fc7 features averaged before the SVR (aggregate 'feature-mean')", () => {
  const MULTI = join(FIX, 'deepbiq-tiny-features5.json');
  let multi: Model;
  beforeAll(async () => {
    multi = await Model.load(MULTI);
  });
  afterAll(async () => multi?.close());

  it('matches PyTorch + scikit-learn (svr.predict of the mean feature) within 1e-4, and not the mean of the crop scores', async () => {
    const imgs = golden.images.filter((g) => g.where === 'fixture' || HAS_SHARED);
    let worst = 0;
    let apart = 0;
    for (const g of imgs) {
      const ours = await multi.score(imagePath(g));
      worst = Math.max(worst, Math.abs(ours - g.featureMean5));
      apart = Math.max(apart, Math.abs(ours - g.scoreMean5));
    }
    console.log(`deepbiq feature-mean over ${imgs.length} images: worst |ours - reference| ${worst.toExponential(2)}; largest |ours - mean of crop scores| ${apart.toFixed(3)}`);
    expect(worst).toBeLessThanOrEqual(TOL);
    // Pooling after the SVR gives the other value: if the engine pooled scores this test fails.
    expect(apart).toBeGreaterThan(1);
  });

  it.skipIf(!HAS_SHARED)(`matches svr.predict of the mean feature on the five calibration and 20 BIQ2021 images within 1e-4${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('deepbiq feature-mean', multi, ...sharedGoldens('featureMean5'), TOL);
  });

  it('the same crops with aggregate mean give the mean of the crop scores (pooling after the SVR)', async () => {
    const scoresPooled = await Model.load(variantOf(MULTI, 'score-mean', (m) => (m.score.aggregate = 'mean')));
    try {
      for (const g of golden.images.filter((x) => x.where === 'fixture'))
        expect(Math.abs((await scoresPooled.score(imagePath(g))) - g.scoreMean5)).toBeLessThanOrEqual(TOL);
    } finally {
      await scoresPooled.close();
    }
  });

  it('gives one value per image (no per-crop scores), through score, scoreCrops and scoreManySettled', async () => {
    const g = golden.images[0];
    const crops = await multi.scoreCrops(imagePath(g));
    expect(crops.length).toBe(1);
    expect(Math.abs(crops[0] - g.featureMean5)).toBeLessThanOrEqual(TOL);
    const settled = await multi.scoreManySettled([imagePath(g), join(tmp, 'missing.png')]);
    expect(Math.abs(settled.scores[0] - g.featureMean5)).toBeLessThanOrEqual(TOL);
    expect(settled.errors[1]?.code).toBe('ERR_INPUT');
  });

  it('refuses feature-mean with per-crop extras (manifest validation)', () => {
    const x = JSON.parse(readFileSync(MULTI, 'utf8')) as ModelManifest;
    x.head.extras = [{ name: 'f0', output: 'features', index: 0 }];
    expect(() => validateManifest(x)).toThrow(/'feature-mean' gives one head value per image, extras are per crop/);
  });
});

describe('the svr head rejects what does not fit with ERR_MODEL', () => {
  it('in the manifest: scaler lengths, a missing svr block, an output of another width', () => {
    const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
      const x = manifest();
      edit(x);
      expect(() => validateManifest(x)).toThrow(msg);
    };
    bad((x) => x.head.svr!.mean!.pop(), /head\.svr\.mean: 47 values for 48 features/);
    bad((x) => delete x.head.svr!.scale, /mean and scale go together/);
    bad((x) => delete x.head.svr, /head\.svr: required for head 'svr'/);
    bad((x) => (x.outputs[0].shape = ['batch', 40]), /output 'features' must be \[batch, 48\]/);
    bad((x) => (x.head.svr!.scale![3] = 0), /a zero scale/);
  });

  it('at load: a missing or malformed libsvm file, and an SVR wider than the features', async () => {
    const missing = await rejection(Model.load(variant('missing', (m) => (m.head.svr!.model = 'nowhere.svr'))));
    expect(missing.code).toBe('ERR_MODEL');
    expect(missing.message).toMatch(/cannot read the SVR model file '.*nowhere\.svr'/);
    writeFileSync(join(tmp, 'garbage.svr'), 'svm_type epsilon_svr\nkernel_type rbf\ngamma 0.1\nnr_class 2\ntotal_sv 2\nrho 1\nSV\n0.5 1:0.2\n');
    const truncated = await rejection(Model.load(variant('garbage', (m) => (m.head.svr!.model = join(tmp, 'garbage.svr')))));
    expect(truncated.code).toBe('ERR_MODEL');
    expect(truncated.message).toMatch(/SVR model file/);
    writeFileSync(join(tmp, 'wide.svr'), 'svm_type epsilon_svr\nkernel_type rbf\ngamma 0.1\nnr_class 2\ntotal_sv 1\nrho 1\nSV\n0.5 1:0.2 60:0.1\n');
    const wide = await rejection(Model.load(variant('wide', (m) => (m.head.svr!.model = join(tmp, 'wide.svr')))));
    expect(wide.code).toBe('ERR_MODEL');
    expect(wide.message).toMatch(/SVR model has 60 features, its input has 48/);
  });

  it('an image smaller than the crop is refused, not read out of bounds', async () => {
    const small = { data: new Uint8Array(3 * 100 * 300).fill(90), width: 300, height: 100, channels: 3 as const };
    const e = await rejection(model.score(small));
    expect(e.code).toBe('ERR_INPUT');
    expect(e.message).toMatch(/300x100 is smaller than the 224x224 crop/);
  });
});

const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'sklearn', 'joblib']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, onnx, onnxruntime, scikit-learn and joblib (set IQA_PYTHON): skipping the DeepBIQ import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('deepbiq from the third-party training outputs (iqa models import + iqa score)', () => {
  it('scores the fixture images as scikit-learn', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const src = (n: string) => join(FIX, `source-${n}`);
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'deepbiq', '--checkpoint', src('model_best.pth.tar'), '--python', PYTHON!, '--', '--config', 'tiny', '--svr', src('svr_mode.pkl'), '--scaler', src('svr_process.pkl')], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'deepbiq', 'deepbiq.svr'))).toBe(true);
    const fixtures = golden.images.filter((g) => g.where === 'fixture');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'deepbiq', '--format', 'jsonl', '--no-progress', ...fixtures.map(imagePath)], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    for (const g of fixtures) expect(Math.abs(recs.find((x) => x.input === imagePath(g))!.score - g.score)).toBeLessThanOrEqual(TOL);
    expect(resolveMetric('deepbiq').card.commercialUse).toBe(true);
  }, 120_000);
});
