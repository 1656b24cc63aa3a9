// scoreStream (Duplex, backpressure), scoreFiles (async iterator) and `iqa score` killed midway
// then resumed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode, scoreFiles, scoreStream, sharpness, type ScoreResult } from '../lib';
import { ROOT, syntheticRgb } from './helpers';

const png = readFileSync(join(ROOT, 'test/fixtures/images/rgb8.png'));
const jpg = readFileSync(join(ROOT, 'test/fixtures/images/rgb8.jpg'));

async function collect(stream: NodeJS.ReadableStream): Promise<ScoreResult[]> {
  const out: ScoreResult[] = [];
  for await (const r of stream as AsyncIterable<ScoreResult>) out.push(r);
  return out;
}

describe('scoreStream', () => {
  it('emits one result per input, in order, with per-item errors', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? Buffer.from('junk') : i % 2 ? png : jpg));
    const s = scoreStream('sharpness', { maxBatch: 8 });
    const done = collect(s);
    for (const i of inputs) s.write(i);
    s.end();
    const out = await done;
    const expected = await sharpness.batchSettled(inputs);
    expect(out.map((r) => r.input)).toEqual(inputs);
    out.forEach((r, i) => {
      if (expected.errors[i]) expect(r.error?.code).toBe(expected.errors[i]?.code);
      else expect(r.score).toBe(expected.scores[i]);
    });
    expect(out.filter((r) => r.error).every((r) => r.error?.code === 'ERR_DECODE')).toBe(true);
  });

  it('ordered: false emits every result (order free)', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => ({ data: new Uint8Array(64 * 64).fill(i), width: 64, height: 64 }));
    const out = await collect(Readable.from(inputs).pipe(scoreStream(sharpness, { ordered: false, maxBatch: 4, concurrency: 3 })));
    expect(out).toHaveLength(40);
    expect(new Set(out.map((r) => r.input)).size).toBe(40);
  });

  it('honours backpressure: 20,000 inputs into a slow consumer keep memory and the backlog bounded', async () => {
    let produced = 0;
    let consumed = 0;
    let maxBacklog = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 20_000; i++) {
          produced++;
          yield i % 10 === 0 ? Buffer.from(png) : png; // some fresh buffers, so a leak would show
        }
      })(),
    );
    const rss: number[] = [];
    const slow = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(r: ScoreResult, _e, cb) {
        consumed++;
        maxBacklog = Math.max(maxBacklog, produced - consumed);
        if (r.error) return cb(r.error);
        if (consumed % 2000 === 0) rss.push(process.memoryUsage().rss);
        if (consumed % 50 === 0) setTimeout(cb, 2);
        else cb();
      },
    });
    await pipeline(source, scoreStream('sharpness', { maxBatch: 16, concurrency: 2 }), slow);
    expect(consumed).toBe(20_000);
    const growth = (rss[rss.length - 1] - rss[0]) / 1e6;
    console.log(`backpressure: max backlog ${maxBacklog} items; RSS ${(rss[0] / 1e6).toFixed(0)} -> ${(rss[rss.length - 1] / 1e6).toFixed(0)} MB`);
    // Bounded by the stream buffers (source 16 + writable 32 + in flight 32 + readable 32 + sink 1), not by 20,000.
    expect(maxBacklog).toBeLessThan(200);
    expect(growth).toBeLessThan(30);
  }, 120_000);

  it('a scorer that cannot run at all ends the stream and the iteration with its error', async () => {
    const broken = { batchSettled: () => Promise.reject(Object.assign(new Error('model file missing'), { code: 'ERR_MODEL' })) };
    const s = scoreStream(broken);
    const done = collect(s);
    s.write(png);
    s.end();
    await expect(done).rejects.toMatchObject({ code: 'ERR_MODEL' });
    const it = scoreFiles(join(ROOT, 'test/fixtures/images'), broken, { maxBatch: 2, concurrency: 3 });
    await expect((async () => { for await (const _ of it) void _; })()).rejects.toMatchObject({ code: 'ERR_MODEL' });
  });

  it('rejects an unknown metric with ERR_INPUT', () => {
    expect(() => scoreStream('nope')).toThrow(expect.objectContaining({ code: 'ERR_INPUT' }));
  });

  it('is abortable', async () => {
    const ac = new AbortController();
    const s = scoreStream('sharpness', { signal: ac.signal });
    const done = collect(s);
    s.write(png);
    ac.abort();
    await expect(done).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('scoreFiles and iqa score --resume', () => {
  let dir: string;
  const N = 600;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iqa-files-'));
    mkdirSync(join(dir, 'sub dir'));
    const img = syntheticRgb(320, 240, 5);
    const bytes = await encode({ ...img, order: 'rgb' }, { format: 'jpeg', quality: 80 });
    for (let i = 0; i < N; i++) writeFileSync(join(dir, i % 2 ? 'sub dir' : '', `img ${String(i).padStart(4, '0')}.jpg`), bytes);
    writeFileSync(join(dir, 'broken.png'), png.subarray(0, 100));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
  });

  it('scoreFiles walks folders recursively and yields every image once, in order', async () => {
    const out: ScoreResult<string>[] = [];
    for await (const r of scoreFiles(dir, 'sharpness', { maxBatch: 32 })) out.push(r);
    expect(out).toHaveLength(N + 1);
    expect(new Set(out.map((r) => r.input)).size).toBe(N + 1);
    expect(out.find((r) => r.input.endsWith('broken.png'))?.error?.code).toBe('ERR_DECODE');
    expect(out.filter((r) => r.score !== undefined)).toHaveLength(N);
  });

  const CLI = join(ROOT, 'dist/cjs/cli/index.js');
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`killed by ${sig} midway, --resume completes with no duplicates and no losses`, async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'iqa-out-')), 'scores.jsonl');
      const child = spawn(process.execPath, [CLI, 'score', '--metric', 'sharpness', '--batch', '4', '--concurrency', '1', '--out', out, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Wait until some results are on disk, then kill.
      const t0 = Date.now();
      while (Date.now() - t0 < 20_000) {
        await new Promise((r) => setTimeout(r, 10));
        if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 40) break;
      }
      child.kill(sig);
      const code = await exited;
      const partial = readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(N + 1); // really midway
      if (sig === 'SIGINT') expect(code).toBe(130);
      if (sig === 'SIGTERM') expect(code).toBe(143);
      if (sig !== 'SIGKILL') expect(stderr).toMatch(/stopped by SIG(INT|TERM).*--resume/);

      const r = spawnSync(process.execPath, [CLI, 'score', '--metric', 'sharpness', '--resume', '--out', out, dir], { encoding: 'utf8' });
      expect(r.status).toBe(1); // broken.png failed
      expect(r.stderr).toMatch(/skipped \d+ already in/);
      const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const inputs = lines.map((l) => l.input);
      expect(lines).toHaveLength(N + 1);
      expect(new Set(inputs).size).toBe(N + 1);
      expect(lines.filter((l) => l.error)).toHaveLength(1);
    }, 60_000);
  }
});
