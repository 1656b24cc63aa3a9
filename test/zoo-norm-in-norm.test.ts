// Norm-in-Norm / LinearityIQA (tools/export/export_norm_in_norm.py, tools/export/norm_in_norm_model.py):
// the whole pipeline (decode, Pillow-bilinear resize to 498 x 664, ORT, s k + b) against an
// independent functional PyTorch run of the authors' test_demo.py --resize procedure on a seeded
// narrow model (test/golden/norm_in_norm.json from scripts/golden/norm_in_norm_golden.py), also on
// ../shared's five calibration images and first 20 BIQ2021 images, and the authors' checkpoint
// layout through `iqa models import`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const TOL = 1e-4;
const FIX = join(ROOT, 'test/fixtures/norm-in-norm-tiny');
const MANIFEST = join(FIX, 'norm-in-norm-tiny.json');
interface Golden {
  seed: number;
  k: number;
  b: number;
  images: { where: 'fixture' | 'shared'; file: string; score: number }[];
  calibration: Record<string, { score: number }> | null;
  biq2021: Record<string, { score: number }> | null;
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/norm_in_norm.json'), 'utf8')) as Golden;
const imagePath = (g: Golden['images'][number]) => (g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file));

let model: Model;
let tmp: string;
beforeAll(async () => {
  model = await Model.load(MANIFEST);
  tmp = mkdtempSync(join(tmpdir(), 'iqa-nin-'));
});
afterAll(async () => {
  await model?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("Norm-in-Norm against the authors' test procedure (seeded narrow model)", () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file} within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      expect(Math.abs((await model.score(imagePath(g))) - g.score)).toBeLessThanOrEqual(TOL);
    });
  }

  it('the goldens tell the resize and the affine apart', async () => {
    const g = golden.images[0];
    const cv = await Model.load(manifestVariant(MANIFEST, tmp, 'cv-bilinear', (m) => (m.preprocess.resize = { width: 664, height: 498, interp: 'bilinear' })));
    const raw = await Model.load(manifestVariant(MANIFEST, tmp, 'no-affine', (m) => delete m.score.affine));
    try {
      expect(Math.abs((await cv.score(imagePath(g))) - g.score)).toBeGreaterThan(3 * TOL);
      expect(Math.abs((await raw.score(imagePath(g))) * golden.k + golden.b - g.score)).toBeLessThanOrEqual(TOL);
    } finally {
      await cv.close();
      await raw.close();
    }
  });

  it('a file that is not an image is ERR_DECODE', async () => {
    expect((await rejection(model.score(Buffer.from('not an image')))).code).toBe('ERR_DECODE');
  });
});

describe('Norm-in-Norm seeded narrow model on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches the PyTorch reference to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('norm-in-norm', model, golden.calibration!, golden.biq2021!, TOL);
  });
});

// The authors' checkpoint layout ({'model', 'k', 'b'} with k, b as lists: test_demo.py uses the last
// entry) of the narrow config through `iqa models import`, then `--metric norm-in-norm`.
const PYTHON = pythonWith(['torch', 'torchvision', 'onnx', 'onnxruntime']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, torchvision, onnx and onnxruntime (set IQA_PYTHON): skipping the Norm-in-Norm import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('norm-in-norm from an authors-format checkpoint (iqa models import + iqa score)', () => {
  it("scores the fixture images as the goldens, with k[-1], b[-1]; a checkpoint of another shape is refused", () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const ck = join(tmp, 'p1q2.pth');
    const bad = join(tmp, 'bad.pth');
    const write = [
      'import sys, torch',
      'sys.path.insert(0, sys.argv[1])',
      'from norm_in_norm_model import TINY, seeded',
      // The fixture's weights: export with the same seed reproduces them (export_norm_in_norm.py --seed N).
      'net, _, _ = seeded(TINY, int(sys.argv[5]))',
      "sd = net.state_dict()",
      "torch.save({'model': sd, 'k': [1.0, 2.0, float(sys.argv[3])], 'b': [0.0, 1.0, float(sys.argv[4])], 'epoch': 7}, sys.argv[2])",
      "del sd['dr7.0.weight']",
      "torch.save({'model': sd, 'k': [1.0], 'b': [0.0]}, sys.argv[6])",
    ].join('\n');
    const gen = spawnSync(PYTHON!, ['-c', write, join(ROOT, 'tools/export'), ck, String(golden.k), String(golden.b), String(golden.seed), bad], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'norm-in-norm', '--checkpoint', ck, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'norm-in-norm', 'norm-in-norm.json'))).toBe(true);
    const fixtures = golden.images.filter((g) => g.where === 'fixture');
    const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'norm-in-norm', '--format', 'jsonl', '--no-progress', ...fixtures.map(imagePath)], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
    expect(recs.length).toBe(fixtures.length);
    for (const g of fixtures) expect(Math.abs(recs.find((x) => x.input === imagePath(g))!.score - g.score)).toBeLessThanOrEqual(TOL);
    const env2 = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models2') };
    const refused = spawnSync(process.execPath, [CLI, 'models', 'import', 'norm-in-norm', '--checkpoint', bad, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env: env2 });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/checkpoint does not match IQAModel.*missing \['dr7\.0\.weight'\]/s);
    expect(resolveMetric('norm-in-norm').card.commercialUse).toBe(false);
  }, 120_000);
});
