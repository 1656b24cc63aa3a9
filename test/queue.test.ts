// `iqa submit` / `iqa worker` / `iqa results` on BullMQ against a real redis-server started on
// 127.0.0.1 (a free port, no persistence, a temp dir). Two workers run as child processes; one is
// killed with SIGKILL midway; every file must end with exactly one result.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { encode, IqaError, jobIdFor, readResults, resultsKey, sharpness, startWorker, submitPaths, waitForResults } from '../dist/cjs/index.js';
import { ROOT, syntheticRgb } from './helpers';

const CLI = join(ROOT, 'dist/cjs/cli/index.js');
const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;
const REDIS_SKIP = 'redis-server not found on PATH (Debian package redis-server, installed by scripts/setup.sh): skipping the BullMQ queue tests';
if (!HAS_REDIS) console.warn(REDIS_SKIP);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    sock.setTimeout(500);
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
    sock.connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

let dir: string;
let redis: ChildProcess | undefined;
let url: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!HAS_REDIS) return;
  dir = mkdtempSync(join(tmpdir(), 'iqa-queue-'));
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await ping(port))) throw new Error(`redis-server did not answer on 127.0.0.1:${port}`);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (redis && redis.exitCode === null) {
    redis.kill('SIGTERM');
    await once(redis, 'exit');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  /** Job ids in batches this worker logged as scored. */
  scored: string[];
  /** Job ids this worker's stalled-job check put back to waiting (its 'stalled' lines). */
  stalled: string[];
  /** BullMQ's worker id (from the 'ready' line): the prefix of the lock tokens it holds. */
  id: string;
  ready: Promise<void>;
}

function startCliWorker(queue: string, extra: string[] = []): Worker {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--concurrency', '4', '--lock-duration', '2000', '--stalled-interval', '1000', '--max-stalled', '3', '--verbose', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const w: Worker = { child, scored: [], stalled: [], id: '', ready: Promise.resolve() };
  const lines = createInterface({ input: child.stdout! });
  w.ready = new Promise((resolve) =>
    lines.on('line', (l) => {
      const e = JSON.parse(l);
      if (e.event === 'ready') {
        w.id = e.id;
        resolve();
      }
      if (e.event === 'batch') w.scored.push(...e.jobs);
      if (e.event === 'stalled') w.stalled.push(e.jobId);
    }),
  );
  child.stderr!.on('data', () => undefined);
  return w;
}

function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!HAS_REDIS)(`iqa submit/worker on BullMQ ${HAS_REDIS ? '' : REDIS_SKIP}`, () => {
  it('500 files, two workers, one killed with SIGKILL midway: every file ends with exactly one result', { timeout: 180_000 }, async () => {
    // 495 images (PNG and JPEG, in nested folders) and 5 corrupt files.
    const imgDir = join(dir, 'images');
    const bases: Buffer[] = [];
    for (let s = 0; s < 10; s++) bases.push(await encode(syntheticRgb(384, 384, 100 + s), s % 2 ? { format: 'png' } : { format: 'jpeg', quality: 90 }));
    const files: string[] = [];
    for (let i = 0; i < 495; i++) {
      const sub = join(imgDir, `part${i % 3}`, `group${i % 7}`);
      mkdirSync(sub, { recursive: true });
      const f = join(sub, `img${String(i).padStart(3, '0')}.${i % 10 % 2 ? 'png' : 'jpg'}`);
      writeFileSync(f, bases[i % 10]);
      files.push(f);
    }
    const corrupt: Record<string, Buffer> = {
      'garbage.png': Buffer.from('this is not an image'),
      'empty.jpg': Buffer.alloc(0),
      'truncated.jpg': bases[0].subarray(0, bases[0].length >> 1),
      'halfpng.png': bases[1].subarray(0, 200),
      'text.bmp': Buffer.from('BM but not really a bitmap'),
    };
    for (const [name, data] of Object.entries(corrupt)) {
      writeFileSync(join(imgDir, name), data);
      files.push(join(imgDir, name));
    }
    expect(files).toHaveLength(500);
    // What the library says about each file, scored here in-process.
    const expected = await sharpness.batchSettled(files);
    const want = new Map(files.map((f, i) => [f, expected.errors[i] ? { code: expected.errors[i]!.code } : { score: expected.scores[i] }]));
    const corruptPaths = files.slice(495);
    expect(corruptPaths.every((f) => 'code' in want.get(f)!)).toBe(true);

    const queueName = 'kill-test';
    const events = new QueueEvents(queueName, { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    const stalled = new Set<string>();
    events.on('stalled', ({ jobId }) => stalled.add(jobId));
    await events.waitUntilReady();

    const a = startCliWorker(queueName);
    const b = startCliWorker(queueName);
    await Promise.all([a.ready, b.ready]);

    // Submit and wait (one CLI process) while the workers run; kill A once ~100 results exist.
    const submit = runCli(['submit', '--redis', url, '--queue', queueName, '--metric', 'sharpness', '--batch', '64', '--wait', imgDir]);
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    const client = await queue.client;
    const key = resultsKey(queueName, 'sharpness');
    let killedAt = -1;
    let heldByA: string[] = [];
    // Active jobs whose lock token is A's (BullMQ tokens are `${worker.id}:${n}`).
    const activeOf = async (w: Worker) => {
      const ids = await client.lrange(`bull:${queueName}:active`, 0, -1);
      const locks = ids.length ? await client.mget(...ids.map((id) => `bull:${queueName}:${id}:lock`)) : [];
      return ids.filter((_, i) => locks[i]?.startsWith(`${w.id}:`));
    };
    expect(a.id).not.toBe('');
    for (let t = 0; t < 6000 && killedAt < 0; t++) {
      const n = await client.hlen(key);
      // Kill A once 100 results are in and it holds active jobs (by their locks), so that the
      // survivor has jobs to recover. A is frozen (SIGSTOP) before its locks are read, so that it
      // cannot finish the jobs it holds between the read and the kill. The locks are read twice,
      // 150 ms apart, and A is killed only when both reads agree: a guard against commands still
      // on their way to Redis, never seen to matter (the CI failures came from the drain below).
      if (n < 100) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      a.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 50));
      const first = await activeOf(a);
      await new Promise((r) => setTimeout(r, 150));
      const held = await activeOf(a);
      if (held.length > 0 && held.length === first.length && held.every((id) => first.includes(id))) {
        heldByA = held;
        a.child.kill('SIGKILL');
        killedAt = await client.hlen(key);
      } else {
        a.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(killedAt).toBeGreaterThanOrEqual(100);
    expect(killedAt).toBeLessThan(500); // the kill happened midway
    await once(a.child, 'exit');
    expect(a.child.signalCode).toBe('SIGKILL');

    const r = await submit;
    // `submit --wait` is done once every path has a result, and A may have stored the results of
    // jobs it still held: those jobs stay active until their lock expires and B's stalled-job
    // check takes them back, seconds after the kill. Wait for the queue to drain before stopping B.
    for (let t = 0; t < 400; t++) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed');
      if (c.waiting + c.active + c.delayed === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Stop B gracefully; its log (read for the stalled-job checks) is complete once it closes.
    b.child.kill('SIGTERM');
    await once(b.child, 'close');
    expect(b.child.exitCode).toBe(0);
    expect(r.stderr).toMatch(/500 paths, 500 enqueued/);
    expect(r.status).toBe(1); // some files failed
    const waited = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(waited).toHaveLength(500);
    expect(new Set(waited.map((x) => x.input)).size).toBe(500);

    // Exactly one stored result per file, with the value the library gives.
    const stored = new Map<string, { input: string; score?: number; error?: { code: string } }>();
    for (const [field, json] of Object.entries(await client.hgetall(key))) stored.set(field, JSON.parse(json));
    expect(stored.size).toBe(500);
    for (const f of files) {
      const s = stored.get(f);
      expect(s, f).toBeDefined();
      expect(s!.input).toBe(f);
      const w = want.get(f)!;
      if ('score' in w) {
        expect(s!.error, f).toBeUndefined();
        expect(s!.score, f).toBe(w.score);
      } else {
        expect(s!.score, f).toBeUndefined();
        expect(s!.error!.code, f).toBe(w.code);
      }
    }
    for (const x of waited) expect(x).toEqual(stored.get(x.input));

    // The killed worker's active jobs were recovered by the survivor (stalled -> waiting), as B
    // itself logged, and scored by it; the test's own QueueEvents stream saw the same 'stalled' events.
    expect(heldByA.length).toBeGreaterThan(0);
    for (const id of heldByA) expect(b.stalled, `job ${id} held by the killed worker`).toContain(id);
    for (const id of b.stalled) expect(b.scored).toContain(id);
    for (let t = 0; t < 200 && !b.stalled.every((id) => stalled.has(id)); t++) await new Promise((r) => setTimeout(r, 50));
    expect([...stalled].sort()).toEqual([...b.stalled].sort());
    console.log(`queue test: worker A killed at ${killedAt}/500 results holding ${heldByA.length} active jobs; ${b.stalled.length} stalled jobs recovered by B; A scored ${a.scored.length}, B ${b.scored.length} (${a.scored.length + b.scored.length - 500} scored twice)`);

    // Corrupt files failed at once (no retries) and sit in the failed set with their error.
    const failed = await queue.getFailed(0, 100);
    expect(failed.map((j) => j.id).sort()).toEqual(corruptPaths.map((f) => jobIdFor('sharpness', f)).sort());
    for (const j of failed) {
      expect(j.attemptsMade).toBe(1);
      expect(j.failedReason).toMatch(new RegExp(`^${(want.get(j.data.path) as { code: string }).code}: `));
    }
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 5 });

    // `iqa results` gives the same 500 records; resubmitting enqueues nothing.
    const res = await runCli(['results', '--redis', url, '--queue', queueName, '--metric', 'sharpness']);
    const listed = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(listed).toHaveLength(500);
    expect(new Set(listed.map((x) => x.input)).size).toBe(500);
    const again = await runCli(['submit', '--redis', url, '--queue', queueName, '--metric', 'sharpness', imgDir]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/500 paths, 0 enqueued on 'kill-test', 500 already had a sharpness result/);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(0);

    await events.close();
    await queue.close();
  });

  it('recoverable errors are retried with backoff up to attempts, then fail with their error as the result', async () => {
    const queueName = 'retry-test';
    const tries = new Map<string, number>();
    // A metric that fails with ERR_DEVICE on the first try of "flaky" paths and always on "broken" ones.
    const batchSettled = async (paths: readonly string[]) => {
      const scores = new Float64Array(paths.length);
      const errors = paths.map((p, i) => {
        const n = (tries.get(p) ?? 0) + 1;
        tries.set(p, n);
        if (p.includes('broken') || (p.includes('flaky') && n === 1)) return new IqaError('ERR_DEVICE', `device unavailable (try ${n})`);
        scores[i] = p.length;
        return null;
      });
      return { scores, errors };
    };
    const fn = Object.assign(async () => 0, { batch: async () => new Float64Array(), batchSettled, metricName: 'sharpness' });
    const worker = await startWorker({ redis: url, queue: queueName, concurrency: 2, metrics: { sharpness: { kind: 'nr', fn, options: () => ({}) } as never } });
    const paths = ['/data/ok-1.png', '/data/flaky-1.png', '/data/flaky-2.png', '/data/broken-1.png'];
    const summary = await submitPaths(paths, { redis: url, queue: queueName, metric: 'sharpness', attempts: 3, backoffMs: 50 });
    expect(summary).toMatchObject({ submitted: 4, skipped: 0 });
    const results = new Map<string, { score?: number; error?: { code: string; message: string } }>();
    for await (const r of waitForResults(paths, { redis: url, queue: queueName, metric: 'sharpness', pollMs: 50 })) results.set(r.input, r);
    await worker.close();
    expect(results.get('/data/ok-1.png')).toMatchObject({ score: '/data/ok-1.png'.length });
    expect(results.get('/data/flaky-1.png')).toMatchObject({ score: '/data/flaky-1.png'.length });
    expect(results.get('/data/broken-1.png')!.error).toEqual({ code: 'ERR_DEVICE', message: 'device unavailable (try 3)' });
    expect(tries.get('/data/ok-1.png')).toBe(1);
    expect(tries.get('/data/flaky-2.png')).toBe(2);
    expect(tries.get('/data/broken-1.png')).toBe(3);
    const all = [];
    for await (const r of readResults({ redis: url, queue: queueName, metric: 'sharpness' })) all.push(r);
    expect(all).toHaveLength(4);
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    const failed = await queue.getFailed();
    expect(failed.map((j) => j.data.path)).toEqual(['/data/broken-1.png']);
    expect(failed[0].attemptsMade).toBe(3);
    expect(failed[0].failedReason).toBe('ERR_DEVICE: device unavailable (try 3)');
    await queue.close();
  });

  it('bad arguments and an unreachable Redis are typed errors', async () => {
    const unknown = await runCli(['submit', '--redis', url, '--metric', 'nope', join(dir, 'images')]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/ERR_INPUT: unknown metric 'nope'/);
    const fr = await runCli(['submit', '--redis', url, '--metric', 'psnr', join(dir, 'images')]);
    expect(fr.stderr).toMatch(/ERR_INPUT: 'psnr' is a full-reference metric/);
    const badUrl = await runCli(['submit', '--redis', 'http://x', join(dir, 'images')]);
    expect(badUrl.stderr).toMatch(/ERR_INPUT: Redis URL must start with redis:\/\//);
    const port = await freePort(); // nothing listens there
    await expect(submitPaths(['/x.png'], { redis: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 })).rejects.toMatchObject({ code: 'ERR_DEVICE' });
  });
});
