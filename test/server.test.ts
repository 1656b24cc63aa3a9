// The example Fastify service (examples/server/server.mjs): routes, typed errors, limits,
// deadline and metrics, over real HTTP on 127.0.0.1 with an ephemeral port. The server runs as a
// child process (as it is deployed, and because vitest's module runner mangles the package's
// CJS-behind-ESM entry when an inlined .mjs imports it).
import { connect } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { encode, registryCards, sharpness, psnr } from '../dist/cjs/index.js';
import { ROOT, syntheticRgb } from './helpers';
import { call, startServer, type Running } from './server-helpers';

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

describe('example server on 127.0.0.1', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startServer({ IQA_BODY_LIMIT: '200000', IQA_METRIC: 'sharpness', IQA_METRICS_RESET: '1' });
  });
  afterAll(() => srv?.stop());

  const post = (path: string, body: BodyInit | undefined, type?: string) => call(srv.base + path, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });

  it('POST /face/score: NO_FACE on a face-less image; a method that is not a name is ERR_INPUT', async () => {
    const r = await post('/face/score', png, 'image/png');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ method: null, faces: [], failure: { code: 'NO_FACE' } });
    const bad = await post('/face/score?method=../x', png, 'image/png');
    expect(bad.status).toBe(400);
    expect(bad.json.code ?? bad.json.error?.code).toBe('ERR_INPUT');
    expect((await post('/face/score?method=no-such-face-method', png, 'image/png')).status).toBeGreaterThanOrEqual(400);
  });

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

  it('multipart bodies: a quoted boundary and a preamble are accepted; malformed ones are 400 ERR_INPUT', async () => {
    const part = (name: string, data: Buffer, b: string) => Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.png"\r\nContent-Type: image/png\r\n\r\n`), data, Buffer.from('\r\n')]);
    const quoted = 'odd:boundary=1';
    const ok = Buffer.concat([Buffer.from('a preamble\r\n'), part('ref', png, quoted), part('dist', png2, quoted), Buffer.from(`--${quoted}--\r\n`)]);
    const r = await post('/compare?metric=psnr', ok, `multipart/form-data; boundary="${quoted}"`);
    expect(r.status).toBe(200);
    expect(r.json.score).toBe(await psnr(png, png2));
    const bad: [Buffer, string, RegExp][] = [
      [ok, 'multipart/form-data', /no boundary/],
      [Buffer.concat([part('ref', png, 'q'), Buffer.from('no closing delimiter')]), 'multipart/form-data; boundary=q', /not terminated by a boundary/],
      [Buffer.from('--q\r\nContent-Type: image/png\r\n\r\nabc\r\n--q--'), 'multipart/form-data; boundary=q', /without Content-Disposition/],
      [Buffer.concat([...[1, 2, 3, 4, 5].map((i) => part(`f${i}`, png, 'q')), Buffer.from('--q--')]), 'multipart/form-data; boundary=q', /more than 4 parts/],
      [Buffer.from('--q\r\nContent-Disposition: form-data; name="ref"'), 'multipart/form-data; boundary=q', /headers not terminated/],
    ];
    for (const [body, type, message] of bad) {
      const res = await post('/compare', body, type);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('ERR_INPUT');
      expect(res.json.error.message).toMatch(message);
    }
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

  it('request bodies reuse pooled buffers, and a reused buffer holds only the new body', async () => {
    const pool = async () => (await call(srv.base + '/metrics?format=json')).json.bodyPool as { taken: number; reused: number; allocated: number; pooledBytes: number };
    const before = await pool();
    // Sizes in one 64 KiB class, larger after smaller and smaller after larger, raw and multipart:
    // a stale tail of the last body would change the score or break the decode.
    const bodies = [png, jpeg, png2, png, jpeg];
    for (const b of bodies) {
      const r = await post('/score?metric=sharpness', b, 'image/png');
      expect(r.status).toBe(200);
      expect(r.json.score).toBeCloseTo(await sharpness(b), 9);
    }
    const m = await call(srv.base + '/compare?metric=psnr', { method: 'POST', body: form({ ref: png, dist: png2 }) });
    expect(m.status).toBe(200);
    expect(m.json.score).toBeCloseTo(await psnr(png, png2), 9);
    const after = await pool();
    expect(after.taken - before.taken).toBe(bodies.length + 1);
    // Sequential requests: the first may allocate, every later one finds the buffer given back.
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(bodies.length);
    expect(after.allocated - before.allocated).toBeLessThanOrEqual(1);
    expect(after.pooledBytes).toBeGreaterThan(0);
  });

  it('Expect: 100-continue on a scoring route with room: 100 Continue, then the body is scored', async () => {
    const r = await postExpectContinue(srv.base, '/score?metric=sharpness', jpeg, 'image/jpeg');
    expect(r.continued).toBe(true);
    expect(r.status).toBe(200);
    expect(r.json.score).toBe(await sharpness(jpeg));
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
  let dir: string;
  const FIX = join(ROOT, 'test/fixtures/hyperiqa-tiny');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iqa-models-'));
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

  it("GET /metrics lists the deep model that scored, loaded with ONNX Runtime's spinning off; IQA_ORT_SPINNING=1 keeps it on", async () => {
    const img = { method: 'POST', body: readFileSync(join(FIX, 'img0.png')), headers: { 'content-type': 'image/png' } };
    expect((await call(srv.base + '/score?metric=hyperiqa-tiny', img)).status).toBe(200);
    expect((await call(srv.base + '/score?metric=brisque', img)).status).toBe(200);
    const m = await call(srv.base + '/metrics?format=json');
    expect(m.json.models['hyperiqa-tiny']).toMatchObject({ device: 'cpu', allowSpinning: false });
    expect(m.json.models['hyperiqa-tiny'].rows).toBeGreaterThan(0);
    expect(Object.keys(m.json.models)).toEqual(['hyperiqa-tiny']); // brisque scored too, but has no ORT session
    const spinning = await startServer({ IQA_MODEL_DIR: dir, IQA_ORT_SPINNING: '1' });
    try {
      expect((await call(spinning.base + '/score?metric=hyperiqa-tiny', img)).status).toBe(200);
      expect((await call(spinning.base + '/metrics?format=json')).json.models['hyperiqa-tiny'].allowSpinning).toBe(true);
    } finally {
      await spinning.stop();
    }
  });
});

describe('example server configuration', () => {
  it('refuses to start with an unknown default metric', async () => {
    await expect(startServer({ IQA_METRIC: 'nope' })).rejects.toThrow(/exited with 1 before listening/);
  });
});

/** The server's admission counters (GET /metrics?format=json). */
async function admission(base: string): Promise<{ inFlight: number; queued: number; rejected: number }> {
  return (await call(base + '/metrics?format=json')).json.admission;
}

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * An HTTP/1.1 connection opened now, its request finished later: the server accepted it before
 * a drain began, so it can still answer on it afterwards (new connections are refused by then).
 */
function openConnection(base: string, path: string): Promise<{ finish(): Promise<{ status: number; body: any }> }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      // Headers not yet terminated: the connection is busy with a request, not idle.
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n`);
      resolve({
        finish: () =>
          new Promise((res, rej) => {
            let data = '';
            sock.on('data', (d) => {
              data += d;
              const [head, body] = data.split('\r\n\r\n');
              const len = /content-length: (\d+)/i.exec(head)?.[1];
              if (body !== undefined && len && body.length >= Number(len)) {
                sock.destroy();
                res({ status: Number(head.split(' ')[1]), body: JSON.parse(body) });
              }
            });
            sock.on('error', rej);
            sock.write('\r\n');
          }),
      });
    });
    sock.once('error', reject);
  });
}

/**
 * A POST whose body is sent in two parts: the headers and the first half now, the rest when
 * `finish()` is called; resolves with the final status and JSON body.
 */
function postInTwoParts(base: string, path: string, body: Buffer, type: string): Promise<{ finish(): Promise<{ status: number; json: any }> }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      const half = body.length >> 1;
      sock.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      sock.write(body.subarray(0, half));
      let data = Buffer.alloc(0);
      const answered = new Promise<{ status: number; json: any }>((res, rej) => {
        sock.on('data', (d) => (data = Buffer.concat([data, d])));
        sock.on('end', () => {
          const text = data.toString('utf8');
          const end = text.indexOf('\r\n\r\n');
          res({ status: Number(text.split(' ')[1]), json: JSON.parse(text.slice(end + 4)) });
        });
        sock.on('error', rej);
      });
      resolve({
        finish: () => {
          sock.write(body.subarray(half));
          return answered;
        },
      });
    });
    sock.once('error', reject);
  });
}

/**
 * A POST with Expect: 100-continue over a raw socket: the body is sent only after the server's
 * 100 Continue. Resolves with whether the 100 came (so the body was sent), and the final response.
 */
function postExpectContinue(base: string, path: string, body: Buffer, type: string): Promise<{ continued: boolean; status: number; headers: string; json: any }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      sock.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    });
    let data = Buffer.alloc(0);
    let continued = false;
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      let text = data.toString('latin1');
      if (!continued && /^HTTP\/1\.1 100 /.test(text) && text.includes('\r\n\r\n')) {
        continued = true;
        data = data.subarray(text.indexOf('\r\n\r\n') + 4);
        text = data.toString('latin1');
        sock.write(body);
      }
      const end = text.indexOf('\r\n\r\n');
      if (end < 0 || /^HTTP\/1\.1 100 /.test(text)) return;
      const headers = text.slice(0, end);
      const len = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? NaN);
      if (data.length - end - 4 < len) return;
      sock.destroy();
      resolve({ continued, status: Number(headers.split(' ')[1]), headers, json: JSON.parse(data.subarray(end + 4, end + 4 + len).toString('utf8')) });
    });
    sock.on('error', reject);
  });
}

describe('example server under overload', () => {
  let srv: Running;
  // The running slot is held by the test (test/fixtures/server/held-slot.mjs) rather than by a
  // slow request, which on a fast machine could finish before the third request arrives.
  beforeAll(async () => {
    srv = await startServer({ IQA_MAX_IN_FLIGHT: '1', IQA_MAX_QUEUED: '1', IQA_BODY_LIMIT: String(64 * 1024 * 1024) }, join(ROOT, 'test/fixtures/server/held-slot.mjs'));
  });
  afterAll(() => srv?.stop());
  const slow = () => call(srv.base + '/score?metric=sharpness', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });

  it('past maxInFlight + maxQueued a scoring request is 503 ERR_BUSY with Retry-After; /ready is 503 while full', async () => {
    srv.child.stdin!.write('hold\n');
    const first = until('the held slot to be released', async () => srv.lines.some((l) => l.includes('"released"')));
    await until('the held slot to run', async () => (await admission(srv.base)).inFlight === 1);
    const second = slow();
    await until('the second request to queue', async () => (await admission(srv.base)).queued === 1);
    const ready = await call(srv.base + '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ ready: false, draining: false, inFlight: 1, queued: 1, maxInFlight: 1, maxQueued: 1 });
    // Shed before its 20 MB body is read, and without scoring it.
    const t0 = performance.now();
    const r = await fetch(srv.base + '/score?metric=sharpness', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });
    const shedMs = performance.now() - t0;
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect((await r.json()).error.code).toBe('ERR_BUSY');
    const shedCompare = await call(srv.base + '/compare', { method: 'POST', body: form({ ref: png, dist: png2 }) });
    expect(shedCompare.status).toBe(503);
    expect(shedCompare.json.error.code).toBe('ERR_BUSY');
    // Expect: 100-continue: shed before the client sends the body (no 100 Continue), connection closed.
    const shedContinue = await postExpectContinue(srv.base, '/score?metric=sharpness', huge, 'image/png');
    expect(shedContinue.continued).toBe(false);
    expect(shedContinue.status).toBe(503);
    expect(shedContinue.headers).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(shedContinue.headers).toMatch(/\r\nconnection: close\r\n/i);
    expect(shedContinue.json.error.code).toBe('ERR_BUSY');
    srv.child.stdin!.write('release\n');
    await first;
    expect((await second).status).toBe(200);
    expect((await call(srv.base + '/ready')).json.ready).toBe(true);
    expect(shedMs).toBeLessThan(2000);
    const m = (await call(srv.base + '/metrics?format=json')).json;
    expect(m.errors.ERR_BUSY).toBe(3);
    expect(m.admission).toMatchObject({ inFlight: 0, queued: 0, admitted: 2 });
    // The server's own time for the three 503s (not /ready's): from the parsed request to the answer.
    expect(m.unavailableLatencyMs.count).toBe(3);
    expect(m.unavailableLatencyMs.p99).toBeGreaterThan(0);
    expect(m.unavailableLatencyMs.max).toBeLessThan(shedMs + 1);
  });
});

describe('example server: admission is decided once, before the body', () => {
  it('a request admitted while its body uploads keeps its place: a later one is shed at once, not the uploader after its upload', async () => {
    const srv = await startServer({ IQA_MAX_IN_FLIGHT: '1', IQA_MAX_QUEUED: '1', IQA_BODY_LIMIT: String(64 * 1024 * 1024) }, join(ROOT, 'test/fixtures/server/held-slot.mjs'));
    try {
      // A: headers and half its body in; the server has admitted it and holds a place.
      const uploader = await postInTwoParts(srv.base, '/score?metric=sharpness', huge, 'image/png');
      await until('the upload to hold a place', async () => (await call(srv.base + '/ready')).json.reserved === 1);
      // The running slot is taken: running 1 + reserved 1 fill maxInFlight 1 + maxQueued 1.
      srv.child.stdin!.write('hold\n');
      const released = until('the held slot to be released', async () => srv.lines.some((l) => l.includes('"released"')));
      await until('the held slot to run', async () => (await admission(srv.base)).inFlight === 1);
      // B arrives complete: shed at once (before this change it was admitted and A shed after its upload).
      const b = await call(srv.base + '/score?metric=sharpness', { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
      expect(b.status).toBe(503);
      expect(b.json.error.code).toBe('ERR_BUSY');
      // A's body completes: it waits for the slot instead of being refused.
      const answer = uploader.finish();
      await until('the uploader to queue', async () => (await admission(srv.base)).queued === 1);
      srv.child.stdin!.write('release\n');
      await released;
      const a = await answer;
      expect(a.status).toBe(200);
      expect(typeof a.json.score).toBe('number');
      const m = (await call(srv.base + '/metrics?format=json')).json;
      expect(m.errors.ERR_BUSY).toBe(1);
      expect(m.admission).toMatchObject({ inFlight: 0, queued: 0, reserved: 0 });
    } finally {
      await srv.stop();
    }
  });
});

describe('example server drain', () => {
  const slowScore = (base: string) => call(base + '/score?metric=sharpness', { method: 'POST', body: huge, headers: { 'content-type': 'image/png' } });

  it('SIGTERM with requests in flight: /ready flips, new connections refused, every admitted request answered, exit 0', async () => {
    const srv = await startServer({ IQA_MAX_IN_FLIGHT: '1', IQA_MAX_QUEUED: '3', IQA_GRACE_MS: '20000', IQA_BODY_LIMIT: String(64 * 1024 * 1024) });
    try {
      const conn = await openConnection(srv.base, '/ready');
      expect((await call(srv.base + '/ready')).status).toBe(200);
      const admitted = [0, 1, 2, 3].map(() => slowScore(srv.base));
      await until('four requests admitted', async () => {
        const a = await admission(srv.base);
        return a.inFlight + a.queued === 4;
      });
      const exited = once(srv.child, 'exit');
      const t0 = Date.now();
      srv.child.kill('SIGTERM');
      await until('the drain to start', async () => srv.lines.some((l) => l.includes('"draining"')));
      const ready = await conn.finish();
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ ready: false, draining: true });
      await expect(fetch(srv.base + '/health')).rejects.toThrow(); // the listener is closed
      const results = await Promise.all(admitted);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const [code] = await exited;
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(20_000);
      const drained = JSON.parse(srv.lines.find((l) => l.includes('"drained"')) as string).drained;
      expect(drained.abortedAfterGrace).toBe(false);
    } finally {
      await srv.stop();
    }
  });

  it('work still running when the grace period ends is aborted with 503, and the process exits 0', async () => {
    const srv = await startServer({ IQA_MAX_IN_FLIGHT: '1', IQA_MAX_QUEUED: '4', IQA_GRACE_MS: '100', IQA_BODY_LIMIT: String(64 * 1024 * 1024) });
    try {
      const admitted = [0, 1, 2, 3].map(() => slowScore(srv.base));
      await until('four requests admitted', async () => {
        const a = await admission(srv.base);
        return a.inFlight + a.queued === 4;
      });
      const exited = once(srv.child, 'exit');
      srv.child.kill('SIGTERM');
      const statuses = (await Promise.all(admitted)).map((r) => r.status);
      // The running one may finish within 100 ms; the queued ones cannot (~170 ms each).
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(3);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect((await exited)[0]).toBe(0);
      expect(JSON.parse(srv.lines.find((l) => l.includes('"drained"')) as string).drained.abortedAfterGrace).toBe(true);
    } finally {
      await srv.stop();
    }
  });
});

describe('example server: /video/score', () => {
  let srv: Running;
  const video = readFileSync(join(ROOT, 'test/fixtures/video/testsrc.mp4'));
  const uploads = () => readdirSync(tmpdir()).filter((d) => d.startsWith('iqa-upload-')).length;
  beforeAll(async () => {
    // No model directory has vsfa: the 'not installed' answer is the same on every machine.
    const empty = mkdtempSync(join(tmpdir(), 'iqa-no-models-'));
    srv = await startServer({ IQA_VIDEO_BODY_LIMIT: String(video.length + 10), IQA_VIDEO_MAX_SECONDS: '100', IQA_MODEL_DIR: empty, XDG_CACHE_HOME: empty });
  });
  afterAll(() => srv?.stop());
  const post = (query: string, body: Buffer, type = 'video/mp4') => call(srv.base + '/video/score' + query, { method: 'POST', body, headers: { 'content-type': type } });

  it('scores every frame, pools them, and removes the spooled file', async () => {
    const before = uploads();
    const r = await post('?metric=sharpness', video);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ metric: 'sharpness', frames: 10, info: { width: 64, height: 48 } });
    expect(r.json.score).toBeCloseTo(r.json.pooled.mean, 12);
    const part = await post('?metric=sharpness&step=3&maxFrames=2', video);
    expect(part.json.frames).toBe(2);
    expect(uploads()).toBe(before);
  });

  it('a video model through ?metric=vsfa when it is installed, ERR_MODEL with the import line when not', async () => {
    const r = await post('?metric=vsfa', video);
    expect(r.status).toBe(500);
    expect(r.json.error).toMatchObject({ code: 'ERR_MODEL' });
    expect(r.json.error.message).toMatch(/iqa models import vsfa/);
  });

  it('too large, not a video, wrong metric kind, bad query: typed errors, no file left behind', async () => {
    const before = uploads();
    const big = Buffer.concat([video, Buffer.alloc(100)]);
    expect((await post('', big)).json.error.code).toBe('ERR_TOO_LARGE');
    const junk = await post('?metric=sharpness', Buffer.from('not a video at all'));
    expect([junk.status, junk.json.error.code]).toEqual([422, 'ERR_DECODE']);
    expect((await post('?metric=psnr', video)).status).toBe(400);
    expect((await post('?metric=sharpness&step=0', video)).status).toBe(400);
    expect((await call(srv.base + '/video/score', { method: 'POST', body: video, headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect(uploads()).toBe(before);
  });
});
