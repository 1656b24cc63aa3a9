// Video models (two graphs + temporal pooling, lib/video/video-model.ts): VSFA's pipeline against
// an independent PyTorch re-implementation of the authors' procedure (scripts/golden/vsfa_reference.py,
// golden test/golden/vsfa_tiny.json from scripts/golden/vsfa_golden.sh) on a seeded model with a tiny
// backbone and the real graph contract; chunking, the CLI, and bad model files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VideoModel, videoQuality } from '../dist/cjs/index.js';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, rejection, sharedPath } from './helpers';

const fixtureDir = join(ROOT, 'test/fixtures/models/vsfa-tiny');
const manifestPath = join(fixtureDir, 'vsfa-tiny.json');
const golden = JSON.parse(readFileSync(join(ROOT, 'test/golden/vsfa_tiny.json'), 'utf8'));
const testsrc = join(ROOT, 'test/fixtures/video/testsrc.mp4');
const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const tmp = mkdtempSync(join(tmpdir(), 'iqa-video-model-'));

function maxAbsDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - theirs[i]));
  return m;
}

/** A copy of the fixture manifest with `edit` applied, next to copies of its graphs. */
function editedManifest(name: string, edit: (m: any) => void): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  for (const f of [m.features.file, m.temporal.file]) copyFileSync(join(fixtureDir, f), join(dir, f));
  edit(m);
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify(m));
  return path;
}

describe('VSFA pipeline against the PyTorch reference (seeded tiny backbone)', () => {
  it('testsrc.mp4: every per-frame quality within 1e-5, the pooled score within 1e-4', async () => {
    const g = golden.videos['testsrc.mp4'];
    const r = await videoQuality(testsrc, { model: manifestPath });
    expect(r.frames).toBe(g.frames);
    expect(maxAbsDiff(r.perFrame.scores, g.quality)).toBeLessThan(1e-5);
    expect(Math.abs(r.score - g.score)).toBeLessThan(1e-4);
    expect(r.direction).toBe('higher');
  });

  it.skipIf(!HAS_SHARED)(`vsfa_test.mp4 (240 frames of 960x540) ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, async () => {
    const g = golden.videos['vsfa_test.mp4'];
    const r = await videoQuality(sharedPath('data/video/vsfa_test.mp4'), { model: manifestPath });
    expect(r.frames).toBe(240);
    expect(maxAbsDiff(r.perFrame.scores, g.quality)).toBeLessThan(1e-5);
    expect(Math.abs(r.score - g.score)).toBeLessThan(1e-4);
  });

  it('chunks of any size give the same numbers (the recurrent state carries over)', async () => {
    const one = await videoQuality(testsrc, { model: manifestPath, chunk: 1 });
    const all = await videoQuality(testsrc, { model: manifestPath, chunk: 64 });
    expect(maxAbsDiff(one.perFrame.scores, all.perFrame.scores)).toBeLessThan(1e-6);
    const batched = await videoQuality(testsrc, { model: manifestPath, load: { frameBatch: 1 } });
    expect(maxAbsDiff(batched.perFrame.scores, all.perFrame.scores)).toBeLessThan(1e-6);
    expect((await rejection(videoQuality(testsrc, { model: manifestPath, load: { frameBatch: 0 } }))).code).toBe('ERR_INPUT');
    const streamed = [];
    for await (const f of videoQuality.stream(testsrc, { model: manifestPath, chunk: 3 })) streamed.push(f.score);
    expect(maxAbsDiff(streamed, all.perFrame.scores)).toBeLessThan(1e-6);
  });

  it('the model is reusable and the frame selection applies', async () => {
    const model = await VideoModel.load(manifestPath);
    const frames = [];
    for await (const f of model.frames(testsrc, { maxFrames: 4 })) frames.push(f);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3]);
    // The GRU is causal: the first frames' quality does not depend on what follows.
    expect(maxAbsDiff(frames.map((f) => f.score), golden.videos['testsrc.mp4'].quality.slice(0, 4))).toBeLessThan(1e-5);
    model.close();
    expect(await rejection((async () => {
      for await (const f of model.frames(testsrc)) void f;
    })())).toMatchObject({ code: 'ERR_INPUT' });
  });

  it('iqa video score --metric vsfa --model M: the pooled score column', () => {
    const r = spawnSync(process.execPath, [CLI, 'video', 'score', testsrc, '--metric', 'vsfa', '--model', manifestPath], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout.trim());
    expect(rec.frames).toBe(10);
    expect(Math.abs(rec.score - golden.videos['testsrc.mp4'].score)).toBeLessThan(1e-4);
    const bad = spawnSync(process.execPath, [CLI, 'video', 'score', testsrc, '--metric', 'vsfa', '--option', 'x=1'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

describe('bad video models: ERR_MODEL naming the problem', () => {
  it('vsfa not imported: the import command in the message', async () => {
    const before = process.env.IQA_MODEL_DIR;
    process.env.IQA_MODEL_DIR = mkdtempSync(join(tmp, 'empty-'));
    process.env.XDG_CACHE_HOME = process.env.IQA_MODEL_DIR;
    try {
      const e = await rejection(videoQuality(testsrc, { metric: 'vsfa' }));
      expect(e.code).toBe('ERR_MODEL');
      expect(e.message).toMatch(/iqa models import vsfa/);
    } finally {
      if (before === undefined) delete process.env.IQA_MODEL_DIR;
      else process.env.IQA_MODEL_DIR = before;
      delete process.env.XDG_CACHE_HOME;
    }
  });

  it.each([
    ['schema', (m: any) => delete m.temporal.stateSize, /stateSize/],
    ['sha256', (m: any) => (m.features.sha256 = '0'.repeat(64)), /sha256/],
    ['missing file', (m: any) => (m.temporal.file = 'nope.onnx'), /not found/],
    ['graphs swapped', (m: any) => ([m.features.file, m.temporal.file, m.features.sha256, m.temporal.sha256] = [m.temporal.file, m.features.file, undefined, undefined]), /one input|two inputs/],
    ['feature size', (m: any) => (m.features.size = 99), /99/],
    ['state size', (m: any) => (m.temporal.stateSize = 7), /state units/],
    ['input names', (m: any) => (m.temporal.inputs = ['state', 'features']), /manifest says/],
    ['output name', (m: any) => (m.features.output = 'feats'), /no output 'feats'/],
  ])('%s', async (name, edit, message) => {
    const e = await rejection(VideoModel.load(editedManifest(name.replace(/\s/g, '-'), edit)));
    expect(e.code).toBe('ERR_MODEL');
    expect(e.message).toMatch(message);
  });

  it('a truncated graph', async () => {
    const path = editedManifest('truncated', (m) => delete m.features.sha256);
    const m = JSON.parse(readFileSync(path, 'utf8'));
    const file = join(path, '..', m.features.file);
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    expect((await rejection(VideoModel.load(path))).code).toBe('ERR_MODEL');
  });
});
