// GraphIQA (tools/export/export_graphiqa.py, graphiqa_model.py): the whole pipeline (decode, the
// pipeline's resize, 25 seeded crops, ORT, the gaussian head, mean) against the authors' evaluation
// procedure re-implemented in float64 PyTorch (scripts/golden/graphiqa_reference.py: batch size 1,
// the batch-as-graph helpers written out) on a seeded tiny model, in the mean mode and the seeded
// sampling mode; the gaussian head's typed errors; `iqa models import graphiqa`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Model, resolveMetric } from '../dist/cjs/index.js';
import { HAS_SHARED, manifestVariant, pythonWith, rejection, ROOT, SHARED_SKIP_REASON, sharedPath, syntheticRgb } from './helpers';

const FIX = join(ROOT, 'test/fixtures/graphiqa-tiny');
const TOL = 1e-4;
interface Golden {
  where: 'fixture' | 'shared';
  file: string;
  koniq: number;
  full: number;
  cropMeans: number[];
  sampled: Record<string, number>;
}
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/graphiqa.json'), 'utf8')) as { seed: number; crops: number; images: Golden[] };
const manifests = { koniq: join(FIX, 'graphiqa-tiny.json'), full: join(FIX, 'graphiqa-tiny-full.json') };
const imagePath = (g: Golden) => (g.where === 'shared' ? sharedPath('data/calibration/dist_dir', g.file) : join(ROOT, 'test/fixtures/hyperiqa-tiny', g.file));
const tmp = mkdtempSync(join(tmpdir(), 'iqa-graphiqa-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

for (const pipeline of ['koniq', 'full'] as const) {
  describe(`GraphIQA '${pipeline}' pipeline, mean mode, against the authors' procedure in PyTorch`, () => {
    for (const g of golden.images) {
      const skip = g.where === 'shared' && !HAS_SHARED;
      it.skipIf(skip)(`${g.file} within ${TOL}${skip ? ` ${SHARED_SKIP_REASON}` : ''}`, async () => {
        const model = await Model.load(manifests[pipeline]);
        expect(Math.abs((await model.score(imagePath(g))) - g[pipeline])).toBeLessThan(TOL);
        expect(model.info().crops).toBe(golden.crops);
        if (pipeline === 'koniq') {
          const crops = await model.scoreCrops(imagePath(g));
          expect(crops.length).toBe(g.cropMeans.length);
          for (let i = 0; i < crops.length; i++) expect(Math.abs(crops[i] - g.cropMeans[i])).toBeLessThan(TOL);
        }
      });
    }
  });
}

describe('GraphIQA sampling mode (gaussian head: mean + z scale, seeded)', () => {
  const fixtures = golden.images.filter((g) => g.where === 'fixture');
  it('matches the reference samples for each seed and repeats itself', async () => {
    for (const seed of Object.keys(fixtures[0].sampled)) {
      const model = await Model.load(manifests.koniq, { sampling: 'sample', samplingSeed: Number(seed) });
      for (const g of fixtures) {
        const a = await model.score(imagePath(g));
        expect(Math.abs(a - g.sampled[seed])).toBeLessThan(TOL);
        expect(await model.score(imagePath(g))).toBe(a);
        // one crop per run: the draws follow the crop, not the batch
        expect(Math.abs(a - g.koniq)).toBeGreaterThan(10 * TOL);
      }
    }
    const again = await Model.load(manifests.koniq, { sampling: 'sample', samplingSeed: 1, maxBatch: 1 });
    expect(Math.abs((await again.score(imagePath(fixtures[0]))) - fixtures[0].sampled['1'])).toBeLessThan(TOL);
    // the manifest's own sampling block is the default the load options override
    const sampling = manifestVariant(manifests.koniq, tmp, 'manifest-sampling', (m) => {
      m.head.sampling = { mode: 'sample', seed: 2 };
    });
    expect(Math.abs((await (await Model.load(sampling)).score(imagePath(fixtures[1]))) - fixtures[1].sampled['2'])).toBeLessThan(TOL);
    expect(Math.abs((await (await Model.load(sampling, { sampling: 'mean' })).score(imagePath(fixtures[1]))) - fixtures[1].koniq)).toBeLessThan(TOL);
  });

  it('a different seed gives a different score; the mean over seeds approaches the mean mode', async () => {
    const g = fixtures[0];
    const seeds = 24;
    const scores: number[] = [];
    for (let s = 100; s < 100 + seeds; s++) scores.push(await (await Model.load(manifests.koniq, { sampling: 'sample', samplingSeed: s })).score(imagePath(g)));
    expect(new Set(scores).size).toBe(seeds);
    const avg = scores.reduce((a, b) => a + b, 0) / seeds;
    const sd = Math.sqrt(scores.reduce((a, b) => a + (b - avg) ** 2, 0) / (seeds - 1));
    // Each sample is the mean plus an average of 25 independent N(0, scale_i^2) terms: unbiased,
    // so the seed average lies within a few standard errors of the mean mode, and much closer to
    // it than one sample typically is.
    expect(Math.abs(avg - g.koniq)).toBeLessThan(4 * (sd / Math.sqrt(seeds)));
    expect(sd).toBeGreaterThan(10 * TOL);
    const manifestMode = await Model.load(manifests.koniq, { sampling: 'mean', samplingSeed: 7 });
    expect(Math.abs((await manifestMode.score(imagePath(g))) - g.koniq)).toBeLessThan(TOL);
  });
});

describe('GraphIQA on tiny and extreme-aspect images', () => {
  it("'koniq' resizes every image to 384 x 512 and scores it; 'full' needs 224 x 224: ERR_INPUT below", async () => {
    const koniq = await Model.load(manifests.koniq);
    const full = await Model.load(manifests.full);
    for (const [w, h] of [[1, 1], [9, 7], [2000, 3], [3, 1500]] as const) {
      const img = { ...syntheticRgb(w, h, w + h), order: 'rgb' as const };
      expect(Number.isFinite(await koniq.score(img))).toBe(true);
      const e = await rejection(full.score(img));
      expect(e.code).toBe('ERR_INPUT');
      expect(e.message).toMatch(/smaller than the 224x224 crop/);
    }
    expect(Number.isFinite(await full.score({ ...syntheticRgb(224, 224, 3), order: 'rgb' as const }))).toBe(true);
  });
});

describe('gaussian head: typed errors', () => {
  it('a graph without the head outputs is ERR_MODEL', async () => {
    const p = manifestVariant(manifests.koniq, tmp, 'wrong-graph', () => {}, join(ROOT, 'test/fixtures/tres-tiny/tres-tiny.onnx'));
    const e = await rejection(Model.load(p));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/output 'mean'/);
  });
  it('a scale output of the wrong shape is ERR_MODEL', async () => {
    // KonIQ++'s tiny graph: 'defects' is [batch, 4], not one value per crop
    const kpp = join(ROOT, 'test/fixtures/koniqplusplus-tiny/koniqplusplus-tiny.json');
    const good = manifestVariant(kpp, tmp, 'gaussian-ok', (m) => {
      m.head = { type: 'gaussian', outputs: ['quality', 'quality'] };
    });
    expect(await (await Model.load(good)).score(imagePath(golden.images[0]))).toBeTypeOf('number');
    const wide = manifestVariant(kpp, tmp, 'gaussian-wide', (m) => {
      m.head = { type: 'gaussian', outputs: ['quality', 'defects'] };
    });
    const e = await rejection(Model.load(wide));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(/'defects' has shape \[\?, 4\], the gaussian head needs \[batch\] or \[batch, 1\]/);
    const one = manifestVariant(manifests.koniq, tmp, 'one-output', (m) => {
      m.head.outputs = ['mean'];
    });
    const e1 = await rejection(Model.load(one));
    expect(e1.code).toBe('ERR_MODEL');
    expect(e1.message).toMatch(/gaussian head reads two outputs/);
  });
  it('sampling options are checked: ERR_INPUT', async () => {
    const tres = join(ROOT, 'test/fixtures/tres-tiny/tres-tiny.json');
    for (const [file, o, re] of [
      [tres, { sampling: 'sample' }, /needs a gaussian head/],
      [manifests.koniq, { sampling: 'draw' }, /sampling must be/],
      [manifests.koniq, { sampling: 'sample', samplingSeed: -1 }, /samplingSeed/],
      [manifests.koniq, { sampling: 'sample', samplingSeed: 1.5 }, /samplingSeed/],
    ] as const) {
      const e = await rejection(Model.load(file, o as never));
      expect(e.code).toBe('ERR_INPUT');
      expect(e.message).toMatch(re);
    }
    const scalarSampling = manifestVariant(tres, tmp, 'scalar-sampling', (m) => {
      m.head.sampling = { mode: 'sample', seed: 1 };
    });
    expect((await rejection(Model.load(scalarSampling))).code).toBe('ERR_MODEL');
  });
});

// The authors' checkpoint layout (finetune.py's torch.save(net.state_dict()), DataParallel names)
// of the tiny config through `iqa models import` and `iqa score --metric graphiqa`.
const PYTHON = pythonWith(['torch', 'torchvision', 'onnx', 'onnxruntime']);
const IMPORT_SKIP = !PYTHON ? 'no Python with torch, torchvision, onnx and onnxruntime (set IQA_PYTHON): skipping the GraphIQA import check' : '';
if (IMPORT_SKIP) console.warn(IMPORT_SKIP);

describe.skipIf(!!IMPORT_SKIP)('graphiqa from an authors-format state dict (iqa models import + iqa score)', () => {
  it('scores the fixture images as the goldens, in both modes', () => {
    const CLI = join(ROOT, 'dist/cjs/cli/index.js');
    const ck = join(tmp, 'graphiqa_step_1.pth');
    const write = [
      'import sys, torch',
      'sys.path.insert(0, sys.argv[1])',
      'from graphiqa_model import GraphIQA, TINY, randomize',
      `net = randomize(GraphIQA(TINY), ${golden.seed})`,
      "torch.save({'module.' + k: v for k, v in net.state_dict().items()}, sys.argv[2])",
    ].join('\n');
    const gen = spawnSync(PYTHON!, ['-c', write, join(ROOT, 'tools/export'), ck], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const env = { ...process.env, IQA_MODEL_DIR: join(tmp, 'models') };
    const imp = spawnSync(process.execPath, [CLI, 'models', 'import', 'graphiqa', '--checkpoint', ck, '--python', PYTHON!, '--', '--config', 'tiny'], { encoding: 'utf8', env });
    expect(imp.status, imp.stderr).toBe(0);
    expect(existsSync(join(tmp, 'models', 'graphiqa', 'graphiqa.json'))).toBe(true);
    const fixtures = golden.images.filter((g) => g.where === 'fixture');
    for (const [extra, key] of [[[], 'koniq'], [['--option', 'sampling=sample', '--option', 'samplingSeed=2'], 'sampled']] as const) {
      const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'graphiqa', ...extra, '--format', 'jsonl', '--no-progress', ...fixtures.map(imagePath)], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; score: number });
      expect(recs.length).toBe(fixtures.length);
      for (const g of fixtures) {
        const want = key === 'koniq' ? g.koniq : g.sampled['2'];
        expect(Math.abs(recs.find((x) => x.input === imagePath(g))!.score - want)).toBeLessThanOrEqual(TOL);
      }
    }
    expect(resolveMetric('graphiqa').card.commercialUse).toBe(false);
  }, 120_000);
});
