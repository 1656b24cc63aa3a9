// Face quality ERC/EDC (lib/evaluation/face-erc.ts) against a numpy re-implementation of CR-FIQA's
// ERC/erc.py and roc.py on seeded synthetic embeddings (test/golden/face_erc.json from
// scripts/golden/face_erc_golden.py): every FNMR point, thresholds and (partial) AUCs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ercCurves, faceErc, pairsFromIdentities, thresholdAtFmr } from '../dist/cjs/index.js';
import { readPairs } from '../lib/cli/face-eval';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const g = JSON.parse(readFileSync(join(ROOT, 'test/golden/face_erc.json'), 'utf8'));
const quality = new Map<string, number>(g.images.map((i: any) => [i.name, i.quality]));
const embeddings = new Map<string, number[]>(g.images.map((i: any) => [i.name, i.embedding]));
const pairs = g.pairs.map(([a, b, s]: [string, string, number]) => ({ a, b, same: s === 1 }));

describe('ERC/EDC against the numpy re-implementation of CR-FIQA erc.py', () => {
  for (const distance of ['arccos', 'euclidean'] as const) {
    it(`${distance}: ${pairs.length} pairs, FMR ${g.fmrs.join(', ')}: every curve point, threshold and AUC`, () => {
      const r = faceErc(pairs, quality, embeddings, { fmrs: g.fmrs, distance });
      expect(r).toMatchObject({ pairs: 3420, genuine: 420, impostor: 3000 });
      r.curves.forEach((c: any, k: number) => {
        const want = g[distance][k];
        expect(c.fmr).toBe(want.fmr);
        expect(Math.abs(c.threshold - want.threshold)).toBeLessThan(1e-12);
        expect(c.erc).toEqual(want.erc);
        expect(c.edc).toEqual(want.edc);
        for (const key of ['ercAuc', 'edcAuc', 'ercPauc', 'edcPauc']) expect(Math.abs(c[key] - want[key]), key).toBeLessThan(1e-12);
      });
    });
  }

  it('a quality that predicts recognition errors lowers FNMR as pairs are rejected; a random one does not', () => {
    const good = faceErc(pairs, quality, embeddings).curves[0];
    expect(good.erc[19]).toBeLessThan(good.erc[0] / 2);
    let s = 1;
    const random = new Map([...quality.keys()].map((k) => [k, (s = (s * 16807) % 2147483647) / 2147483647]));
    expect(faceErc(pairs, random, embeddings).curves[0].ercAuc).toBeGreaterThan(good.ercAuc);
  });

  it('a small set whose highest-quality pairs are all impostors: the ERC ends early, its AUC covers the part before (finite, with ercAucTo)', () => {
    // 10 pairs, qualities 0..9: the 3 best are impostors, so from 75% rejected on no genuine pair is left.
    const dist = [0.2, 0.9, 0.3, 0.8, 0.25, 0.7, 0.35, 0.95, 0.85, 0.9];
    const same = [true, false, true, false, true, false, true, false, false, false];
    const q = dist.map((_, i) => i);
    const [c] = ercCurves(dist, same, q, { fmrs: [0.25] });
    const end = c.edc.findIndex((v) => Number.isNaN(v));
    expect(end).toBeGreaterThan(0);
    expect(c.edcAucTo).toBeCloseTo(c.rejected[end - 1], 12);
    expect(Number.isFinite(c.ercAuc) && Number.isFinite(c.edcAuc)).toBe(true);
    // The area is the trapezoid sum over the defined prefix, nothing after it.
    let want = 0;
    for (let i = 1; i < end; i++) want += ((c.rejected[i] - c.rejected[i - 1]) * (c.edc[i] + c.edc[i - 1])) / 2;
    expect(c.edcAuc).toBeCloseTo(want, 12);
    // A complete curve reports 0.95.
    const full = faceErc(pairs, quality, embeddings).curves[0];
    expect(full.ercAucTo).toBeCloseTo(0.95, 12);
    expect(full.edcAucTo).toBeCloseTo(0.95, 12);
  });

  it('thresholds: the first distinct distance whose FMR is closest to the target', () => {
    const gen = Float64Array.from([0.1, 0.2]), imp = Float64Array.from([0.3, 0.4, 0.5, 0.6]);
    expect(thresholdAtFmr(gen, imp, 0.25)).toBe(0.3); // 1 of 4 impostors at or under 0.3
    expect(thresholdAtFmr(gen, imp, 0)).toBe(0.2);     // FMR 0 first reached at 0.2, from the top
  });

  it('pairs from identities in file names: every genuine pair and as many impostors, seeded', () => {
    const files = ['1-Ann_1.jpg', '2-Ann_2.jpg', '3-Ann_3.jpg', '4-Bob_1.jpg', '5-Bob_2.jpg', '6-Cy_1.jpg'];
    const id = (f: string) => f.replace(/^\d+-/, '').replace(/_\d+\.jpg$/, '');
    const p = pairsFromIdentities(files, id, 3);
    expect(p.filter((x) => x.same)).toHaveLength(4);
    expect(p.filter((x) => !x.same)).toHaveLength(4);
    for (const x of p) expect(id(x.a) === id(x.b)).toBe(x.same);
    expect(pairsFromIdentities(files, id, 3)).toEqual(p);
  });

  it('bad input: ERR_INPUT naming the problem', () => {
    expect(() => faceErc(pairs, new Map(), embeddings)).toThrow(/no quality or embedding/);
    expect(() => ercCurves([0.1], [true], [1])).toThrow(/genuine and impostor/);
    expect(() => ercCurves([0.1, 0.2], [true, false], [1, NaN])).toThrow(/non-finite/);
    expect(() => ercCurves([0.1, 0.2], [true, false], [1, 2], { fmrs: [2] })).toThrow(/FMR/);
    expect(() => pairsFromIdentities(['a_1.jpg', 'b_1.jpg'], (f) => f[0])).toThrow(/no genuine/);
  });
});

describe('pair lists', () => {
  const write = (text: string) => {
    const p = join(mkdtempSync(join(tmpdir(), 'iqa-pairs-')), 'pairs');
    writeFileSync(p, text);
    return p;
  };
  it("CR-FIQA's 'a b same', CSV with a header, deepface's master.csv (Yes/No) and true/false all read the same", () => {
    const want = [{ a: 'x.jpg', b: 'y.jpg', same: true }, { a: 'x.jpg', b: 'z.jpg', same: false }];
    expect(readPairs(write('x.jpg y.jpg 1\nx.jpg z.jpg 0\n'))).toEqual(want);
    expect(readPairs(write('a,b,same\nx.jpg,y.jpg,1\nx.jpg,z.jpg,0\n'))).toEqual(want);
    expect(readPairs(write('file_x,file_y,Decision\r\nx.jpg,y.jpg,Yes\r\nx.jpg,z.jpg,No\r\n'))).toEqual(want);
    expect(readPairs(write('x.jpg y.jpg TRUE\nx.jpg z.jpg false\n'))).toEqual(want);
  });
  it('a value that is not a decision, a missing column or an empty list: ERR_INPUT with the line', () => {
    expect(() => readPairs(write('x.jpg,y.jpg,1\nx.jpg,z.jpg,maybe\n'))).toThrow(/:2: expected/);
    expect(() => readPairs(write('x.jpg y.jpg 1\nx.jpg 0\n'))).toThrow(/:2: expected/);
    expect(() => readPairs(write('# nothing\n'))).toThrow(/no pairs/);
  });
});

describe.skipIf(!HAS_SHARED)(`iqa face eval on the LFW crops ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
  const CLI = join(ROOT, 'dist/cjs/cli/index.js');
  const tiny = join(ROOT, 'test/fixtures/face/magface-tiny/manifest.json');
  const lfw = sharedPath('data/faces/lfw-aligned');
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'face', 'eval', lfw, '--recognizer', tiny, '--aligned', '--format', 'json', ...args], { encoding: 'utf8' });

  it('pairs from the file names, a method scored per image, ERC/EDC as the library computes them, an HTML report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-face-eval-'));
    const r = run('--method', tiny, '--report', join(dir, 'erc.html'));
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ pairs: 92, genuine: 46, impostor: 46, pairsDropped: 0, imagesFailed: [] });
    expect(out.curves.map((c: any) => c.fmr)).toEqual([1e-3, 1e-4]);
    expect(readFileSync(join(dir, 'erc.html'), 'utf8')).toMatch(/<svg[\s\S]*ERC FMR 0.001/);
    // The same qualities from a CSV, negated with --lower-is-better: the same curves.
    const names = new Set(out.curves.length ? readdirSync(lfw) : []);
    const q = spawnSync(process.execPath, [CLI, 'face', 'score', lfw, '--method', tiny, '--aligned'], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const csv = ['name,quality', ...q.map((rec: any) => `${basename(rec.input)},${-rec.raw}`)].join('\n');
    writeFileSync(join(dir, 'q.csv'), csv);
    const neg = JSON.parse(run('--qualities', join(dir, 'q.csv'), '--lower-is-better').stdout);
    expect(neg.curves.map((c: any) => c.erc)).toEqual(out.curves.map((c: any) => c.erc));
    expect(names.size).toBe(320);
  });

  it('without --aligned each face is detected once: the same curves as qualities from an independent `iqa face score` run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-face-eval-'));
    const detect = (...args: string[]) => spawnSync(process.execPath, [CLI, 'face', 'eval', lfw, '--recognizer', tiny, '--format', 'json', ...args], { encoding: 'utf8' });
    const shared = detect('--method', tiny);
    expect(shared.status, shared.stderr).toBe(0);
    const out = JSON.parse(shared.stdout);
    // `iqa face score` detects on its own; its first face per image is the one eval keeps.
    const recs = spawnSync(process.execPath, [CLI, 'face', 'score', lfw, '--method', tiny], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const first = recs.filter((rec: any) => rec.index === 0 && typeof rec.raw === 'number');
    writeFileSync(join(dir, 'q.csv'), ['name,quality', ...first.map((rec: any) => `${basename(rec.input)},${rec.raw}`)].join('\n'));
    const independent = JSON.parse(detect('--qualities', join(dir, 'q.csv')).stdout);
    expect(out.curves.length).toBeGreaterThan(0);
    expect(out.curves.map((c: any) => c.erc)).toEqual(independent.curves.map((c: any) => c.erc));
    expect(out.pairsDropped).toBe(independent.pairsDropped);
  }, 120_000);

  it('a pair naming an image that is not there: ERR_INPUT (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-face-eval-'));
    writeFileSync(join(dir, 'pairs.txt'), '1-Harry_Belafonte_1.jpg nobody.jpg 0\n');
    const r = run('--method', tiny, '--pairs', join(dir, 'pairs.txt'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nobody.jpg/);
  });
});
