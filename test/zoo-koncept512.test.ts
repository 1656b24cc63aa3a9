// KonCept512 (tools/export/export_koncept512.py, tools/export/koncept512_model.py): the whole pipeline
// (decode, 512 x 384 Pillow-bilinear resize when needed, x / 127.5 - 1, ORT) against Keras 3 running the
// authors' model and procedure on seeded weights (a narrow InceptionResNetV2; test/golden/koncept512_tiny.json
// from scripts/golden/koncept512_keras.py, which also writes the Keras weights file the import test reads);
// the full keras.applications.InceptionResNetV2 is an opt-in check (IQA_KONCEPT512_FULL=DIR).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const TOL = 1e-4;
const FIX = join(ROOT, 'test/fixtures/koncept512-tiny');
const MANIFEST = join(FIX, 'koncept512-tiny.json');
interface Golden {
  images: { where: 'fixture' | 'shared'; file: string; score: number }[];
  calibration?: Record<string, { score: number }>; // with ../shared: the five calibration images, by name
  biq2021?: Record<string, { score: number }>; // and the first 20 BIQ2021 images
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/koncept512_tiny.json'), 'utf8')) as Golden;
const imagePath = (g: Golden['images'][number]) => (g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file));

let model: Model;
let tmp: string;
beforeAll(async () => {
  model = await Model.load(MANIFEST);
  tmp = mkdtempSync(join(tmpdir(), 'iqa-koncept-'));
});
afterAll(async () => {
  await model?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('KonCept512 against Keras on the authors\' procedure (seeded narrow InceptionResNetV2)', () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file} within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      expect(Math.abs((await model.score(imagePath(g))) - g.score)).toBeLessThanOrEqual(TOL);
    });
  }

  it('the goldens tell the resize and the value range apart', async () => {
    const g = golden.images[0]; // 260 x 240: resized
    const cv = await Model.load(manifestVariant(MANIFEST, tmp, 'cv-bilinear', (m) => (m.preprocess.resize = { width: 512, height: 384, interp: 'bilinear' })));
    const unit = await Model.load(manifestVariant(MANIFEST, tmp, 'unit-range', (m) => (m.input.normalize = { scale: 'unit', mean: [0], std: [1] })));
    try {
      expect(Math.abs((await cv.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
      expect(Math.abs((await unit.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
    } finally {
      await cv.close();
      await unit.close();
    }
  });

  it('a file that is not an image is ERR_DECODE', async () => {
    expect((await rejection(model.score(Buffer.from('not an image')))).code).toBe('ERR_DECODE');
  });

  it.skipIf(!HAS_SHARED)(`the five calibration and 20 BIQ2021 images within 1e-4${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('koncept512', model, golden.calibration!, golden.biq2021!, TOL);
  });
});

// Opt-in: the full keras.applications.InceptionResNetV2 (scripts/golden/koncept512_keras.py --config full --out-dir DIR).
const FULL = process.env.IQA_KONCEPT512_FULL;
describe.skipIf(!FULL)('KonCept512 with the full InceptionResNetV2 against Keras (IQA_KONCEPT512_FULL)', () => {
  it('every golden image within 1e-4 relative to the score', async () => {
    const full = JSON.parse(readFileSync(join(FULL!, 'golden.json'), 'utf8')) as Golden;
    const m = await Model.load(join(FULL!, 'koncept512.json'));
    try {
      for (const g of full.images) {
        if (g.where === 'shared' && !HAS_SHARED) continue;
        const s = await m.score(imagePath(g));
        expect(Math.abs(s - g.score), g.file).toBeLessThanOrEqual(TOL * Math.max(1, Math.abs(g.score)));
      }
    } finally {
      await m.close();
    }
  }, 300_000);
});

// The authors' file layout (Keras legacy HDF5 weights, read with h5py) through `iqa models import`.
const PYTHON = pythonWith(['torch', 'h5py', 'onnx', 'onnxruntime']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, h5py, onnx and onnxruntime (set IQA_PYTHON): skipping the KonCept512 import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('koncept512 from a Keras weights file (iqa models import + iqa score)', () => {
  it('scores the fixture images as Keras; a file of another shape is refused with the reason', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const h5 = join(FIX, 'koncep512-seeded.h5');
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'koncept512', '--checkpoint', h5, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'koncept512', 'koncept512.json'))).toBe(true);
    const fixtures = golden.images.filter((g) => g.where === 'fixture');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'koncept512', '--format', 'jsonl', '--no-progress', ...fixtures.map(imagePath)], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    for (const g of fixtures) expect(Math.abs(recs.find((x) => x.input === imagePath(g))!.score - g.score)).toBeLessThanOrEqual(TOL);
    const env2 = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models2') };
    const wrongShape = spawnSync(process.execPath, [CLI, 'models', 'import', 'koncept512', '--checkpoint', h5, '--python', PYTHON!], { encoding: 'utf8', env: env2 });
    expect(wrongShape.status).not.toBe(0);
    expect(wrongShape.stderr).toMatch(/automatically named Conv2D and \d+ BatchNormalization layers, the InceptionResNetV2 of this config has \d+/);
    expect(resolveMetric('koncept512').card.commercialUse).toBe(false);
  }, 180_000);
});
