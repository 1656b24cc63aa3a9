// NIMA as idealo trains it (tools/export/export_nima.py): Keras' MobileNet rebuilt in PyTorch from
// Keras' save_weights HDF5 layout, run through the whole pipeline (decode, Pillow NEAREST resize as
// Keras load_img, x / 127.5 - 1, ONNX, distribution mean) against Keras itself predicting with the
// same seeded weights (test/golden/nima_tiny.json from scripts/golden/nima_keras.py).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const manifest = join(ROOT, 'test/fixtures/nima-tiny/nima-tiny.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/nima_tiny.json'), 'utf8'));

describe('NIMA (idealo MobileNet) against Keras with the same weights', () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file}: mean score within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const model = await Model.load(manifest);
      const path = g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file);
      expect(Math.abs((await model.score(path)) - g.score)).toBeLessThan(1e-4);
    });
  }
});

describe('NIMA seeded weights on shared images (calibration + 20 BIQ2021) against Keras', () => {
  it.skipIf(!HAS_SHARED)(`matches Keras to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('nima', () => Model.load(manifest), golden.calibration, golden.biq2021);
  });
});

// idealo's README example (their technical weights are theirs to distribute: Git LFS).
const weights = process.env.IQA_NIMA_TECHNICAL, image = process.env.IQA_NIMA_IMAGE;
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
describe.skipIf(!weights || !image)("idealo's technical weights on their test image 42039.jpg (IQA_NIMA_TECHNICAL, IQA_NIMA_IMAGE)", () => {
  it("scores 4.705008 as in idealo's README", async () => {
    const out = mkdtempSync(join(tmpdir(), 'iqa-nima-'));
    const r = spawnSync(python, [join(ROOT, 'tools/export/export_nima.py'), '--checkpoint', weights as string, '--out-dir', out, '--name', 'nima'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(Math.abs((await (await Model.load(join(out, 'nima.json'))).score(image as string)) - 4.705008)).toBeLessThan(1e-4);
  }, 300_000);
});
