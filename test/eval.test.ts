// `iqa eval` end to end on the fixture datasets, and its HTML report rendered in headless
// Chromium (Debian package `chromium`, driven by playwright-core).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED, ROOT, SHARED_SKIP_REASON, sharedPath } from './helpers';

const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const FIX = join(ROOT, 'test/fixtures/datasets');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'iqa-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('iqa eval', () => {
  it('scores a dataset with a registered metric and prints the JSON contract', () => {
    const r = run(['eval', '--metric', 'sharpness', '--labels', join(FIX, 'biq2021/Train.csv'), '--images', join(FIX, 'biq2021/Images'), '--format', 'json', '--bootstrap', '200']);
    expect(r.stderr).not.toMatch(/ERR_/);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ metric: 'sharpness', n: 7, skipped: 0, failed: 0 });
    for (const k of ['plcc', 'plccRaw', 'srocc', 'krocc', 'rmse']) {
      expect(typeof j[k]).toBe('number');
      expect(j[`${k}Ci`]).toHaveLength(2);
      expect(j[`${k}Ci`][0]).toBeLessThanOrEqual(j[`${k}Ci`][1]);
    }
    // Fixture images are blurred more for lower MOS: sharpness must rank them.
    expect(j.srocc).toBeGreaterThan(0.8);
  });

  it('--scores reads iqa score JSONL (matching by path) and CSV (matching by basename), --abs flips signs', () => {
    const labels = join(FIX, 'generic/labels.csv');
    const names = ['plain.png', 'with space.png', 'a, comma.png', 'say "cheese".png', 'ss01 (7).png', 'deep/sub dir.png'];
    const mos = [4.5, 3.9, 3.1, 2.4, 1.7, 1.2];
    const lowerIsBetter = mos.map((m, i) => 10 - m + (i % 2 ? 0.3 : -0.2));
    const jsonl = join(tmp, 'scores.jsonl');
    writeFileSync(jsonl, names.map((n, i) => JSON.stringify({ input: join(FIX, 'generic', n), metric: 'x', score: lowerIsBetter[i] })).join('\n') + '\n');
    const a = JSON.parse(run(['eval', '--scores', jsonl, '--labels', labels, '--format', 'json', '--bootstrap', '0']).stdout);
    expect(a.n).toBe(6);
    expect(a.srocc).toBeLessThan(0);
    expect(a.krocc).toBeLessThan(0);
    const csv = join(tmp, 'scores.csv');
    writeFileSync(csv, 'image,score\n' + names.map((n, i) => `"${n.split('/').pop()!.replace(/"/g, '""')}",${lowerIsBetter[i]}`).join('\n') + '\n');
    const b = JSON.parse(run(['eval', '--scores', csv, '--labels', labels, '--format', 'json', '--bootstrap', '0', '--abs']).stdout);
    expect(b.srocc).toBeCloseTo(-a.srocc, 12);
    expect(b.plccRaw).toBeCloseTo(-a.plccRaw, 12);
  });

  it('missing images: one error listing them, or --skip-missing counts them', () => {
    const r = run(['eval', '--metric', 'sharpness', '--labels', join(FIX, 'generic/missing.csv'), '--format', 'json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUT: 2 of 3 labelled images are missing/);
    expect(r.stderr).toContain('not here, 1.png');
    const s = run(['eval', '--metric', 'sharpness', '--labels', join(FIX, 'generic/missing.csv'), '--format', 'json', '--skip-missing']);
    const j = JSON.parse(s.stdout);
    expect(j).toMatchObject({ n: 1, skipped: 2 });
    expect(j.plcc).toBeNull();
    expect(j.warnings.join(' ')).toMatch(/at least 2|too few|needs more/);
  });

  it('--scores evaluates without the image files, matching scipy (pearsonr, spearmanr, kendalltau)', () => {
    const g = JSON.parse(readFileSync(join(ROOT, 'test/golden/eval_scores.json'), 'utf8'));
    const labels = join(tmp, 'elsewhere-labels.csv');
    const scores = join(tmp, 'elsewhere-scores.csv');
    writeFileSync(labels, g.labelsCsv);
    writeFileSync(scores, g.scoresCsv);
    expect(existsSync(join(tmp, 'elsewhere'))).toBe(false);
    const r = run(['eval', '--scores', scores, '--labels', labels, '--format', 'json', '--bootstrap', '0']);
    expect(r.stderr).not.toMatch(/ERR_/);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ n: g.n, skipped: 0, failed: 0 });
    expect(Math.abs(j.plccRaw - g.plccRaw)).toBeLessThan(1e-12);
    expect(Math.abs(j.srocc - g.srocc)).toBeLessThan(1e-12);
    expect(Math.abs(j.krocc - g.krocc)).toBeLessThan(1e-12);
    // Names absent from the scores file are the failures; images on disk are not needed.
    writeFileSync(scores, g.scoresCsv.split('\n').slice(0, -3).join('\n') + '\n');
    const k = JSON.parse(run(['eval', '--scores', scores, '--labels', labels, '--format', 'json', '--bootstrap', '0']).stdout);
    expect(k).toMatchObject({ n: g.n - 2, skipped: 0, failed: 2 });
  });

  it('unknown metric and unreadable scores are usage errors', () => {
    expect(run(['eval', '--metric', 'nope', '--labels', join(FIX, 'generic/labels.csv')]).stderr).toMatch(/ERR_INPUT: unknown metric 'nope'/);
    expect(run(['eval', '--scores', '/nope.csv', '--labels', join(FIX, 'generic/labels.csv')]).stderr).toMatch(/ERR_INPUT: cannot read scores file/);
  });

  it.skipIf(!HAS_SHARED)(`BIQ2021 train-subset with --scores of iqa score output ${HAS_SHARED ? '' : SHARED_SKIP_REASON}`, () => {
    const labels = sharedPath('data/biq2021/train-subset.csv');
    const first = readFileSync(labels, 'utf8').split('\n').slice(1, 41).map((l) => l.slice(0, l.lastIndexOf(',')));
    const sub = join(tmp, 'biq40.csv');
    writeFileSync(sub, 'image,mos\n' + readFileSync(labels, 'utf8').split('\n').slice(1, 41).join('\n') + '\n');
    const scored = run(['score', '--metric', 'sharpness', ...first.map((n) => sharedPath('data/biq2021/images', n))]);
    const jsonl = join(tmp, 'biq40.jsonl');
    writeFileSync(jsonl, scored.stdout);
    const j = JSON.parse(run(['eval', '--scores', jsonl, '--labels', sub, '--images', sharedPath('data/biq2021/images'), '--format', 'json', '--bootstrap', '100']).stdout);
    expect(j.n).toBe(40);
    expect(j.failed).toBe(0);
  });
});

const CHROMIUM = '/usr/bin/chromium';
describe.skipIf(!existsSync(CHROMIUM))(`HTML report in headless Chromium ${existsSync(CHROMIUM) ? '' : '(skipped: apt-get install chromium)'}`, () => {
  it('renders the scatter plot with its fitted curve, the per-type table and outlier thumbnails', async () => {
    const report = join(tmp, 'report.html');
    const r = run(['eval', '--metric', 'sharpness', '--labels', join(FIX, 'tid2013/mos_with_names.txt'), '--report', report, '--bootstrap', '200']);
    expect(r.status).toBe(0);
    const html = readFileSync(report, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'iqa-chromium-'));
    // A fresh profile (--user-data-dir, which playwright takes as launchPersistentContext's argument).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1024, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(`file://${report}`);
      const plot = page.locator('svg#scatter');
      const box = await plot.boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(200);
      expect(await page.locator('svg#scatter circle').count()).toBeGreaterThanOrEqual(7);
      const fitLength = await page.locator('#fit').evaluate((el) => (el as unknown as SVGPolylineElement).getTotalLength());
      expect(fitLength).toBeGreaterThan(100);
      expect(await page.locator('text=By distortion type').count()).toBe(1);
      expect(await page.locator('text=Gaussian blur').count()).toBeGreaterThan(0);
      const thumbs = page.locator('.outliers img');
      expect(await thumbs.count()).toBe(7);
      expect(await thumbs.first().evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(32);
      expect(requests).toEqual([]);
      // The committed docs/eval-report.png is refreshed with IQA_WRITE_DOCS=1 (keeps CI's tree clean).
      const shot = process.env.IQA_WRITE_DOCS === '1' ? join(ROOT, 'docs/eval-report.png') : join(tmp, 'eval-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
