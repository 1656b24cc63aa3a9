// RankIQA+FT (tools/export/export_rankiqa.py): a seeded narrow VGG written as a .caffemodel, read
// back by tools/export/caffe_model.py and exported, scored through the whole pipeline (decode, 30
// seeded crops of raw BGR pixels, ONNX, mean) against OpenCV's own Caffe importer and dnn on the same
// .caffemodel and crops (test/golden/rankiqa_tiny.json from scripts/golden/rankiqa_reference.sh),
// also on ../shared's five calibration images and first 20 BIQ2021 images.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath, expectSharedParity } from './helpers';

const manifest = join(ROOT, 'test/fixtures/rankiqa-tiny/rankiqa-tiny.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/rankiqa_tiny.json'), 'utf8'));

describe("RankIQA against OpenCV's Caffe import of the same weights", () => {
  for (const g of golden.images) {
    const skip = g.where === 'shared' && !HAS_SHARED;
    it.skipIf(skip)(`${g.file}: each of the 30 crops and the mean within 1e-4 relative${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
      const model = await Model.load(manifest);
      const path = g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file);
      const crops = await model.scoreCrops(path);
      expect(crops.length).toBe(30);
      crops.forEach((v: number, i: number) => expect(Math.abs(v - g.crops[i]) / Math.abs(g.crops[i])).toBeLessThan(1e-4));
      expect(Math.abs((await model.score(path)) - g.score) / Math.abs(g.score)).toBeLessThan(1e-4);
    });
  }
});

describe('RankIQA seeded narrow model on shared images (calibration + 20 BIQ2021)', () => {
  it.skipIf(!HAS_SHARED)(`matches OpenCV's Caffe import to 1e-4 per image${HAS_SHARED ? '' : ` ${SHARED_SKIP_REASON}`}`, async () => {
    await expectSharedParity('rankiqa', () => Model.load(manifest), golden.calibration, golden.biq2021);
  });
});
