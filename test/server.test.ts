// The example Fastify service (examples/server/server.mjs): routes, typed errors, limits,
// deadline and metrics, over real HTTP on 127.0.0.1 with an ephemeral port. The server runs as a
// child process (as it is deployed, and because vitest's module runner mangles the package's
// CJS-behind-ESM entry when an inlined .mjs imports it).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { encode, registryCards, sharpness, psnr } from '../dist/cjs/index.js';
import { ROOT, syntheticRgb } from './helpers';

const SERVER = join(ROOT, 'examples/server/server.mjs');

interface Running {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the example server on 127.0.0.1:0 with the given environment; resolves once it listens. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, IQA_LOG: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const base = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
    lines.on('line', (l) => {
      try {
        const j = JSON.parse(l);
        if (j.listening) resolve(j.listening);
      } catch {
        /* not our line */
      }
    });
  });
  return {
    base,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

let jpeg: Buffer;
let png: Buffer;
let png2: Buffer;
let huge: Buffer;

beforeAll(async () => {
  jpeg = await encode(syntheticRgb(96, 64, 1), { format: 'jpeg', quality: 90 });
  png = await encode(syntheticRgb(96, 64, 2), { format: 'png' });
  png2 = await encode(syntheticRgb(96, 64, 3), { format: 'png' });
  huge = await encode(syntheticRgb(3000, 3000, 4), { format: 'png' });
});

function form(files: Record<string, Buffer>, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [name, data] of Object.entries(files)) f.append(name, new Blob([data]), `${name}.img`);
  for (const [name, value] of Object.entries(fields)) f.append(name, value);
  return f;
}

interface Res {
  status: number;
  type: string;
  json: any;
  text: string;
}

async function call(url: string, init?: RequestInit): Promise<Res> {
  const r = await fetch(url, init);
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', json, text };
}

describe('example server on 127.0.0.1', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startServer({ IQA_BODY_LIMIT: '200000', IQA_METRIC: 'sharpness', IQA_METRICS_RESET: '1' });
  });
  afterAll(() => srv?.stop());

  const post = (path: string, body: BodyInit | undefined, type?: string) => call(srv.base + path, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });

  it('listens on 127.0.0.1 on an ephemeral port', () => {
    expect(srv.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('POST /score with a raw JPEG body returns the library score', async () => {
    const r = await post('/score?metric=sharpness', jpeg, 'image/jpeg');
    expect(r.status).toBe(200);
    expect(r.json.metric).toBe('sharpness');
    expect(r.json.score).toBe(await sharpness(jpeg));
    expect(r.json.ms).toBeGreaterThan(0);
  });

  it('POST /score uses the default metric and accepts application/octet-stream and multipart', async () => {
    const raw = await post('/score', png, 'application/octet-stream');
    expect(raw.status).toBe(200);
    expect(raw.json).toMatchObject({ metric: 'sharpness', score: await sharpness(png) });
    const mp = await post('/score', form({ file: png }));
    expect(mp.status).toBe(200);
    expect(mp.json.score).toBe(raw.json.score);
  });

  it('a corrupt or truncated image is 422 ERR_DECODE', async () => {
    for (const body of [Buffer.from('this is not an image at all'), jpeg.subarray(0, Math.floor(jpeg.length / 2))]) {
      const r = await post('/score', body, 'image/jpeg');
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('ERR_DECODE');
      expect(typeof r.json.error.message).toBe('string');
    }
  });

  it('a body over the limit is 413 ERR_TOO_LARGE (raw and multipart)', async () => {
    const big = Buffer.concat([png, Buffer.alloc(250_000)]);
    const r = await post('/score', big, 'image/png');
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('ERR_TOO_LARGE');
    const mp = await post('/score', form({ file: big }));
    expect(mp.status).toBe(413);
    expect(mp.json.error.code).toBe('ERR_TOO_LARGE');
  });

  it('unknown metric, wrong metric kind, missing or unsupported body are 4xx ERR_INPUT', async () => {
    const unknown = await post('/score?metric=nope', png, 'image/png');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'ERR_INPUT' });
    expect(unknown.json.error.message).toMatch(/unknown metric 'nope'/);
    expect((await post('/score?metric=__proto__', png, 'image/png')).status).toBe(400);
    const fr = await post('/score?metric=psnr', png, 'image/png');
    expect(fr.status).toBe(400);
    expect(fr.json.error.message).toMatch(/full-reference/);
    const empty = await post('/score', undefined);
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('ERR_INPUT');
    const text = await post('/score', 'hello', 'text/plain');
    expect(text.status).toBe(415);
    expect(text.json.error.code).toBe('ERR_INPUT');
    const wrongField = await post('/score', form({ image: png }));
    expect(wrongField.status).toBe(400);
    expect(wrongField.json.error.message).toMatch(/unexpected multipart field 'image'/);
    const notFound = await call(srv.base + '/nowhere');
    expect(notFound.status).toBe(404);
    expect(notFound.json.error.code).toBe('ERR_INPUT');
  });

  it('POST /compare scores a multipart ref+dist pair like the library', async () => {
    const r = await post('/compare?metric=psnr', form({ ref: png, dist: png2 }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ metric: 'psnr', score: await psnr(png, png2) });
    const same = await post('/compare', form({ ref: png, dist: png }));
    expect(same.json.score).toBe('Infinity');
    const missing = await post('/compare', form({ ref: png }));
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/missing multipart file field 'dist'/);
    const corrupt = await post('/compare', form({ ref: png, dist: Buffer.from('garbage bytes') }));
    expect(corrupt.status).toBe(422);
    expect(corrupt.json.error.code).toBe('ERR_DECODE');
    const sizes = await post('/compare', form({ ref: png, dist: huge }));
    expect(sizes.status).toBe(413); // over the 200 kB body limit
    const nr = await post('/compare?metric=sharpness', form({ ref: png, dist: png2 }));
    expect(nr.status).toBe(400);
    expect((await post('/compare', png, 'image/png')).status).toBe(415);
  });

  it('GET /health reports ok and the metrics', async () => {
    const r = await call(srv.base + '/health');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', defaultMetric: 'sharpness' });
    expect(r.json.metrics).toContain('sharpness');
  });

  it('GET /metrics counts requests and errors by code, with latency and event-loop delay', async () => {
    const j = (await call(srv.base + '/metrics?format=json')).json;
    const count = (route: string, status: number) => j.requests.find((x: { route: string; status: number }) => x.route === route && x.status === status)?.count ?? 0;
    expect(count('/score', 200)).toBe(3);
    expect(count('/score', 422)).toBe(2);
    expect(count('/score', 413)).toBe(2);
    expect(count('/compare', 422)).toBe(1);
    expect(j.errors.ERR_DECODE).toBe(3);
    expect(j.errors.ERR_TOO_LARGE).toBe(3);
    expect(j.latencyMs['/score'].count).toBeGreaterThan(10);
    expect(j.latencyMs['/score'].p99).toBeGreaterThan(0);
    expect(j.eventLoopDelayMs.samples).toBeGreaterThan(0);
    expect(j.eventLoopDelayMs.p99).toBeGreaterThanOrEqual(0);
    const text = await call(srv.base + '/metrics');
    expect(text.type).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^iqa_http_requests_total\{route="\/score",status="200"\} 3$/m);
    expect(text.text).toMatch(/^iqa_errors_total\{code="ERR_DECODE"\} 3$/m);
    expect(text.text).toMatch(/^iqa_http_request_duration_seconds_bucket\{route="\/score",le="\+Inf"\} \d+$/m);
    expect(text.text).toMatch(/^iqa_event_loop_delay_seconds\{quantile="0.99"\} [\d.e-]+$/m);
    const json = await call(srv.base + '/metrics', { headers: { accept: 'application/json' } });
    expect(json.json.errors.ERR_DECODE).toBe(3);
  });

  it('POST /metrics/reset clears the counters when enabled', async () => {
    expect((await post('/metrics/reset', undefined)).status).toBe(200);
    const j = (await call(srv.base + '/metrics?format=json')).json;
    expect(j.requests.filter((x: { route: string }) => x.route === '/score')).toEqual([]);
    expect(j.errors).toEqual({});
  });
});

describe('example server limits', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startServer({ IQA_LIMIT_PIXELS: '1000' });
  });
  afterAll(() => srv?.stop());

  it('an image over the pixel limit (96x64 > 1000 pixels) is 413 ERR_TOO_LARGE', async () => {
    const r = await call(srv.base + '/score?metric=sharpness', { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('ERR_TOO_LARGE');
    const small = await encode(syntheticRgb(30, 30, 5), { format: 'png' });
    const ok = await call(srv.base + '/score?metric=sharpness', { method: 'POST', body: small, headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(200);
  });

  it('the /metrics/reset route is off by default', async () => {
    expect((await call(srv.base + '/metrics/reset', { method: 'POST' })).status).toBe(404);
  });
});

describe('example server deadline', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startServer({ IQA_TIMEOUT_MS: '1', IQA_BODY_LIMIT: String(64 * 1024 * 1024) });
  });
  afterAll(() => srv?.stop());

  it('scoring past the per-request deadline is aborted: 503 ERR_ABORTED', async () => {
    // Decoding a 9-megapixel PNG takes far longer than 1 ms.
    const r = await call(srv.base + '/score?metric=sharpness', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(503);
    expect(r.json.error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(r.json.error.message).toMatch(/1 ms request timeout/);
  });
});

describe('example server and the registry', () => {
  let srv: Running;
  const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqa-models-'));
    mkdirSync(join(dir, 'hyperiqa-tiny'));
    copyFileSync(join(FIX, 'model.json'), join(dir, 'hyperiqa-tiny', 'manifest.json'));
    copyFileSync(join(FIX, 'model.onnx'), join(dir, 'hyperiqa-tiny', 'model.onnx'));
    srv = await startServer({ IQA_MODEL_DIR: dir });
  });
  afterAll(() => srv?.stop());

  it('GET /models lists the registry cards', async () => {
    const r = await call(srv.base + '/models');
    expect(r.status).toBe(200);
    expect(r.json.models.map((c: { name: string }) => c.name)).toEqual(registryCards().map((c) => c.name));
  });

  it('POST /score?metric=NAME scores with a model found in IQA_MODEL_DIR', async () => {
    const golden = JSON.parse(readFileSync(join(FIX, 'golden.json'), 'utf8'));
    const r = await call(srv.base + '/score?metric=hyperiqa-tiny', { method: 'POST', body: readFileSync(join(FIX, 'img0.png')), headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(200);
    expect(Math.abs(r.json.score - golden.images[0].score)).toBeLessThan(1e-4);
  });
});

describe('example server configuration', () => {
  it('refuses to start with an unknown default metric', async () => {
    await expect(startServer({ IQA_METRIC: 'nope' })).rejects.toThrow(/exited with 1 before listening/);
  });
});

describe('example server /video/score', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startServer({ IQA_METRIC: 'sharpness', IQA_VIDEO_BODY_LIMIT: '20000', IQA_VIDEO_MAX_SECONDS: '2' });
  });
  afterAll(() => srv?.stop());
  const video = (name: string) => readFileSync(join(ROOT, 'test/fixtures/video', name));
  /** A Y4M of `frames` 8x8 frames at 25 fps. */
  const y4m = (frames: number) =>
    Buffer.concat([Buffer.from('YUV4MPEG2 W8 H8 F25:1 Ip A1:1 C420jpeg\n'), ...Array.from({ length: frames }, (_, i) => Buffer.concat([Buffer.from('FRAME\n'), Buffer.alloc(96, i)]))]);

  it('scores an uploaded video frame by frame and pools the scores', async () => {
    const r = await call(srv.base + '/video/score?metric=sharpness&step=2', { method: 'POST', body: form({ file: video('testsrc.mp4') }) });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ metric: 'sharpness', frames: 5, info: { width: 64, height: 48, frameCount: 10 } });
    expect(r.json.pooled.mean).toBeGreaterThan(0);
  });
  it('limits: upload size 413, duration 413, not a video 422, bad parameters 400', async () => {
    const big = await call(srv.base + '/video/score', { method: 'POST', body: form({ file: video('testsrc.y4m') }) });
    expect([big.status, big.json.error.code]).toEqual([413, 'ERR_TOO_LARGE']);
    expect(big.json.error.message).toMatch(/20000-byte/);
    const long = await call(srv.base + '/video/score', { method: 'POST', body: form({ file: y4m(100) }) });
    expect([long.status, long.json.error.code]).toEqual([413, 'ERR_TOO_LARGE']);
    expect(long.json.error.message).toMatch(/4\.0 s, over the 2 s limit/);
    const junk = await call(srv.base + '/video/score', { method: 'POST', body: form({ file: Buffer.from('not a video') }) });
    expect([junk.status, junk.json.error.code]).toEqual([422, 'ERR_DECODE']);
    expect((await call(srv.base + '/video/score?step=0', { method: 'POST', body: form({ file: y4m(3) }) })).status).toBe(400);
    expect((await call(srv.base + '/video/score', { method: 'POST', body: y4m(3), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(415);
  });
});
