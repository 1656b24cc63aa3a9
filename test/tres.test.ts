// TReS (tools/export/export_tres.py, tools/export/tres_model.py): the whole pipeline (decode, the
// pipeline's resize and crops, ORT, mean) against PyTorch runs of each test procedure on a seeded
// tiny-config graph (test/golden/tres_pipelines.json from scripts/golden/tres_pipelines.py). The
// architecture itself is checked against the authors' Net by scripts/golden/tres_authors_parity.py.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const FIX = join(ROOT, 'test/fixtures/tres-tiny');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/tres_pipelines.json'), 'utf8')) as {
  images: { where: 'fixture' | 'shared'; file: string; authors: number; pyiqa: number }[];
};
const manifests = { authors: join(FIX, 'tres-tiny.json'), pyiqa: join(FIX, 'tres-tiny-pyiqa.json') };

for (const pipeline of ['authors', 'pyiqa'] as const) {
  describe(`TReS '${pipeline}' pipeline (50 crops) against PyTorch`, () => {
    for (const g of golden.images) {
      const skip = g.where === 'shared' && !HAS_SHARED;
      it.skipIf(skip)(`${g.file} within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
        const model = await Model.load(manifests[pipeline]);
        const path = g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file);
        expect(Math.abs((await model.score(path)) - g[pipeline])).toBeLessThan(1e-4);
        expect(model.info().crops).toBe(50);
      });
    }
  });
}
