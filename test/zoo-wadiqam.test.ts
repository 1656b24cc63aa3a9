// DIQaM-NR / WaDIQaM-NR (Bosse et al. 2018) through generic manifest mechanisms: raw 0..255 RGB
// 32x32 patches of the floor(H/32) x floor(W/32) grid and, for WaDIQaM, the weighted pooling
// sum(q w) / sum(w) with w = ReLU(weight output) + epsilon. Goldens: the PIL + numpy + PyTorch
// reference of the authors' evaluate.py (scripts/golden/wadiqam_golden.py -> test/golden/wadiqam.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, validateManifest, type ModelManifest } from '../dist/cjs/index.js';
import { CALIBRATION_IMAGES, HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const IMAGES = join(ROOT, 'test/fixtures/patch-images');
const TOL = 1e-4;
interface Scored {
  score: number;
  patches: number;
  patchScores?: number[];
  patchWeights?: number[];
}
interface TopGolden {
  fixtures: Record<string, Scored>;
  calibration: Record<string, Scored> | null;
  biq2021: Record<string, Scored> | null;
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/wadiqam.json'), 'utf8')) as { weighted: TopGolden; patchwise: TopGolden };
const TOPS = [
  ['weighted', 'wadiqam-nr-seeded'],
  ['patchwise', 'diqam-nr-seeded'],
] as const;
const manifestPath = (fixture: string) => join(ROOT, 'test/fixtures', fixture, 'manifest.json');
const tmp = mkdtempSync(join(tmpdir(), 'iqa-wadiqam-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const variant = (fixture: string, name: string, edit: (m: ModelManifest) => void, onnxFrom?: string) =>
  manifestVariant(manifestPath(fixture), tmp, name, edit, onnxFrom && join(ROOT, 'test/fixtures', onnxFrom, `${onnxFrom}.onnx`));

for (const [top, fixture] of TOPS) {
  describe(`${fixture} (seeded, ${top} pooling)`, () => {
    let model: Model;
    beforeAll(async () => {
      model = await Model.load(manifestPath(fixture));
    });
    afterAll(async () => model?.close());

    it('matches the reference per patch (floor grid, row by row) and per image on the fixture images', async () => {
      for (const [name, g] of Object.entries(golden[top].fixtures)) {
        const crops = await model.scoreCrops(join(IMAGES, name));
        expect(crops.length).toBe(g.patches);
        crops.forEach((c, i) => expect(Math.abs(c - g.patchScores![i])).toBeLessThanOrEqual(TOL));
        expect(Math.abs((await model.score(join(IMAGES, name))) - g.score)).toBeLessThanOrEqual(TOL);
      }
      // floor(96/32) x floor(64/32): every whole patch, unlike CNNIQA's range(0, L - 32, 32).
      expect(golden[top].fixtures['exact-96x64.png'].patches).toBe(6);
    });

    it.skipIf(!HAS_SHARED)('matches the reference on the calibration and 20 BIQ2021 images, 1e-4', async () => {
      await expectSharedParity(`wadiqam ${top}`, model, golden[top].calibration!, golden[top].biq2021!, TOL);
    });

    it('rejects an image smaller than one patch with ERR_INPUT', async () => {
      const e = await rejection(model.score({ data: new Uint8Array(31 * 64 * 3).fill(90), width: 64, height: 31, channels: 3 }));
      expect(e.code).toBe('ERR_INPUT');
    });
  });
}

describe('weighted pooling', () => {
  it('is sum(q w) / sum(w) of the reference weights, and differs from the plain mean', async () => {
    const g = golden.weighted.fixtures['smooth-97x75.png'];
    const w = g.patchWeights!;
    const q = g.patchScores!;
    const weighted = q.reduce((a, v, i) => a + v * w[i], 0) / w.reduce((a, v) => a + v, 0);
    const mean = q.reduce((a, v) => a + v, 0) / q.length;
    expect(Math.abs(weighted - g.score)).toBeLessThanOrEqual(1e-9 + 1e-6 * Math.abs(g.score));
    expect(Math.abs(weighted - mean)).toBeGreaterThan(100 * TOL);
    const asMean = await Model.load(
      variant('wadiqam-nr-seeded', 'as-mean', (m) => {
        m.score.aggregate = 'mean';
        delete m.score.weight;
      }),
    );
    try {
      expect(Math.abs((await asMean.score(join(IMAGES, 'smooth-97x75.png'))) - mean)).toBeLessThanOrEqual(TOL);
    } finally {
      await asMean.close();
    }
  });

  it('rejects manifests and models whose weight output does not fit with ERR_MODEL', async () => {
    const m = JSON.parse(readFileSync(manifestPath('wadiqam-nr-seeded'), 'utf8')) as ModelManifest;
    const bad = (edit: (x: ModelManifest) => void, msg: RegExp) => {
      const x = structuredClone(m);
      edit(x);
      expect(() => validateManifest(x)).toThrow(msg);
    };
    bad((x) => delete x.score.weight, /score.weight: required with aggregate 'weighted'/);
    bad((x) => (x.score.weight = { output: 'attention', epsilon: 1e-6 }), /'attention' is not a declared output/);
    bad((x) => (x.score.aggregate = 'mean'), /only with it/);
    // The DIQaM graph has no weight output: named at load.
    const e = await rejection(Model.load(variant('wadiqam-nr-seeded', 'no-weight-output', () => undefined, 'diqam-nr-seeded')));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/weight/);
  });

  it('fails an image whose weights are all zero (epsilon 0) with ERR_MODEL', async () => {
    // Weights read from the score output: every seeded patch score is negative, so ReLU gives 0.
    const p = variant('wadiqam-nr-seeded', 'zero-weights', (m) => (m.score.weight = { output: 'score', epsilon: 0 }));
    const model = await Model.load(p);
    try {
      const e = await rejection(model.score(join(IMAGES, 'smooth-97x75.png')));
      expect(e.code).toBe('ERR_MODEL');
      expect(e.message).toMatch(/every pooling weight/);
    } finally {
      await model.close();
    }
  });
});

// Full-size WaDIQaM-NR from a checkpoint in the authors' Chainer HDF5 layout (seeded weights written
// by the export tool; no authors' checkpoint is reachable here) through `iqa models import` and
// `iqa score`, against the reference reading the same file.
const PYTHON = pythonWith(['torch', 'onnx', 'onnxruntime', 'h5py']);
const IMPORT_SKIP = !HAS_SHARED ? SHARED_SKIP_REASON : !PYTHON ? 'no Python with torch, onnx, onnxruntime and h5py (set IQA_PYTHON): skipping the WaDIQaM import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('wadiqam-nr from a Chainer HDF5 checkpoint (iqa models import + iqa score)', () => {
  it('scores two calibration images as the reference on the same checkpoint, 1e-4', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const h5 = join(tmp, 'wadiqam-chainer.h5');
    const write = `import sys; sys.path.insert(0, sys.argv[1]); from wadiqam_model import seeded_model, save_chainer_hdf5; save_chainer_hdf5(seeded_model(3, True), sys.argv[2])`;
    const gen = spawnSync(PYTHON!, ['-c', write, join(ROOT, 'tools/export'), h5], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'wadiqam-nr', '--checkpoint', h5, '--python', PYTHON!], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'wadiqam-nr', 'manifest.json'))).toBe(true);
    const names = [CALIBRATION_IMAGES[0], CALIBRATION_IMAGES[4]]; // two: the full-size net costs ~0.1 GFLOP per patch
    const paths = names.map((n) => sharedPath('data/calibration/dist_dir', `${n}.bmp`));
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'wadiqam-nr', '--no-progress', ...paths], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const ours = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { score: number }).score);
    const refOut = join(tmp, 'wadiqam-ref.json');
    const ref = spawnSync(PYTHON!, [join(ROOT, 'scripts/golden/wadiqam_reference.py'), '--checkpoint', h5, '--out', refOut, ...paths], { encoding: 'utf8' });
    expect(ref.status, ref.stderr).toBe(0);
    const reference = JSON.parse(readFileSync(refOut, 'utf8')) as Record<string, Scored>;
    expect(ours.length).toBe(2);
    names.forEach((n, i) => expect(Math.abs(ours[i] - reference[`${n}.bmp`].score)).toBeLessThanOrEqual(TOL));
  }, 120_000);
});
