// HyperIQA's test-time pipelines as manifests, each against an independent PyTorch run of that
// procedure (scripts/golden/hyperiqa_pipelines.py -> test/golden/hyperiqa_pipelines.json), on the
// seeded tiny model of test/fixtures/hyperiqa-tiny:
//   authors  Pillow bilinear Resize((512, 384)) + 25 seeded 224 crops (pil-bilinear, random)
//   pyiqa    the full image, pyiqa's uniform_crop grid of 25 (uniform), enlarged first when small
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/hyperiqa_pipelines.json'), 'utf8')) as {
  images: { where: 'fixture' | 'shared'; file: string; authors: number; pyiqa: number }[];
};

for (const pipeline of ['authors', 'pyiqa'] as const) {
  describe(`HyperIQA '${pipeline}' pipeline against PyTorch`, () => {
    for (const g of golden.images) {
      const skip = g.where === 'shared' && !HAS_SHARED;
      it.skipIf(skip)(`${g.file} within 1e-4${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
        const model = await Model.load(join(FIX, `model-${pipeline}.json`));
        const path = g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(FIX, g.file);
        expect(Math.abs((await model.score(path)) - g[pipeline])).toBeLessThan(1e-4);
      });
    }
  });
}

describe('the pipelines differ where they should', () => {
  it("OpenCV's area resize instead of Pillow's bilinear moves the score beyond the tolerance", async () => {
    const file = join(FIX, 'img0.png');
    const authors = await (await Model.load(join(FIX, 'model-authors.json'))).score(file);
    const m = JSON.parse(readFileSync(join(FIX, 'model-authors.json'), 'utf8'));
    m.preprocess.resize.interp = 'area';
    const area = await (await Model.load(m, { baseDir: FIX })).score(file);
    expect(Math.abs(area - authors)).toBeGreaterThan(1e-4);
    expect(Math.abs(area - golden.images[0].authors)).toBeGreaterThan(1e-4);
  });
});

// The authors' KonIQ checkpoint and demo image are the user's (not redistributable here).
const ckpt = process.env.IQA_HYPERIQA_KONIQ, demo = process.env.IQA_HYPERIQA_DEMO;
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
describe.skipIf(!ckpt || !demo)("the authors' checkpoint on their demo image (IQA_HYPERIQA_KONIQ, IQA_HYPERIQA_DEMO)", () => {
  it("scores near demo.py's 77.91 (10 unseeded crops there, 10 seeded here)", async () => {
    const out = mkdtempSync(join(tmpdir(), 'iqa-hyperiqa-koniq-'));
    const r = spawnSync(python, [join(ROOT, 'tools/export/export_hyperiqa.py'), '--weights', 'authors', '--checkpoint', ckpt as string, '--out-dir', out, '--name', 'koniq'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const model = await Model.load(join(out, 'koniq.json'), { crops: 10 });
    expect(Math.abs((await model.score(demo as string)) - 77.9065)).toBeLessThan(1.0);
  }, 600_000);
});
