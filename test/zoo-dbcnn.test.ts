// DBCNN (tools/export/export_dbcnn.py, tools/export/dbcnn_model.py): the whole image at its own size
// (dynamic H x W, odd sizes included) against the authors' test procedure in PyTorch on a seeded
// narrow model (test/golden/dbcnn_tiny.json from scripts/golden/dbcnn_reference.py), and the pixel
// limit that keeps a whole-image model from running out of memory; on ../shared, the five calibration
// images and the first 20 BIQ2021 images (golden `calibration` / `biq2021`) within 1e-4.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath, expectSharedParity } from './helpers';

const FIX = join(ROOT, 'test/fixtures/dbcnn-tiny');
const manifest = join(FIX, 'dbcnn-tiny.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/dbcnn_tiny.json'), 'utf8'));
const image = (g: { where: string; file: string }) => (g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file));

describe('DBCNN against the PyTorch reference (whole image, seeded narrow model)', () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file} within 1e-6${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const model = await Model.load(manifest);
      expect(Math.abs((await model.score(image(g))) - g.score)).toBeLessThan(1e-6);
    });
  }

  it("an image over the manifest's pixel limit is ERR_TOO_LARGE before the network runs", async () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.preprocess.maxPixels = 60_000;
    const model = await Model.load(m, { baseDir: FIX });
    const e = await rejection(model.score(image(golden.images[0]))); // 260 x 240 = 62,400
    expect(e.code).toBe('ERR_TOO_LARGE');
    expect(e.message).toMatch(/62400 pixels is over the 60000-pixel limit of model 'dbcnn-tiny'/);
    expect(Math.abs((await model.score(image(golden.images[1]))) - golden.images[1].score)).toBeLessThan(1e-6); // 224 x 224 fits
  });
});

describe('DBCNN seeded narrow model on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches the PyTorch reference to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('dbcnn', () => Model.load(manifest), golden.calibration, golden.biq2021);
  });
});
