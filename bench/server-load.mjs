// Load test of the example server (examples/server/server.mjs), in two modes.
//
//   node bench/server-load.mjs [--mode overload|connections] [--server PATH] [--label NAME]
//        [--images DIR] [--count N] [--max-in-flight N] [--max-queued N] [--body-pool-bytes N (0: off)] [--expect-continue] [--json OUT.json]
//   overload:    [--routes score,score-deep,compare] [--levels 1,2,4] [--duration S] [--capacity-s S]
//                [--capacity-from RUN.json] [--model MANIFEST] [--metric NAME]
//   connections: [--routes score,compare,score-js,compare-js] [--connections 1,16,64] [--duration S]
//
// The server runs in a child process on 127.0.0.1 (an ephemeral port) so that the load generator's
// own work does not show up in the server's event-loop delay; --server runs another copy of the
// server (e.g. main's, to compare like with like: its buildServer ignores options it lacks).
// Bodies are 512x512 JPEGs from ../shared/data/biq2021/images (read at run time); each dist for
// /compare is the ref re-encoded at quality 30.
//
// overload (default): for each route, the capacity is measured first (closed loop, 4 requests
// in flight, --capacity-s seconds, 200s per second; or taken from --capacity-from, so that two
// servers get the same offered load), then requests arrive open-loop, at a fixed rate whatever
// the answers (so queueing shows), at 1x, 2x and 4x that capacity for --duration seconds each
// (default 8; at most rate x duration requests, 20 s for the stragglers, then the level is cut).
// Reported per level: admitted (200) p50/p99, the shed fraction (503) and the 503s' latency,
// every other status and client error, the server's event-loop delay p99 and GC pauses, an idle
// control process's event-loop delay p99 (the machine's noise), the generator's own lag, and the
// latency of a do-nothing server's 503s (the control process answers every request 503 at once;
// one request in ten is also sent there, same body, same generator, same seconds): the floor that
// this machine and this generator put under any 503.
// Targets (issue 18): at 2x and 4x, admitted p99 < 100 ms, 503s in < 5 ms, no other 5xx,
// event-loop p99 < 10 ms.
//
// connections: autocannon, closed loop, a fixed number of connections per level, against
// pure-JS routes (jpeg-js + Laplacian variance, jpeg-js + ssim.js) on the event loop.
// Target: event-loop delay p99 under 10 ms at 64 connections on our routes.
//
// Routes:
//   score       POST /score?metric=M, raw JPEG body; M defaults to brisque when registered, else sharpness
//   score-deep  POST /score?metric=<the --model manifest's name> (default test/fixtures/hyperiqa-tiny/model.json,
//               served from a temporary IQA_MODEL_DIR)
//   compare     POST /compare?metric=ssim (psnr when ssim is not registered), multipart ref+dist
//   score-js    pure JS: jpeg-js decode + Laplacian variance (the same definition as our sharpness) on the event loop
//   compare-js  pure JS: jpeg-js decode of both + ssim.js (its fastest algorithm here, 'bezkrovny') on the event loop
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const BOUNDARY = '----iqa-load-boundary-7f3a';
function multipartBody(files) {
  const chunks = [];
  for (const [name, data] of Object.entries(files)) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Child: the server with the pure-JS routes added.
// ---------------------------------------------------------------------------------------------

/** Laplacian variance in plain JS: OpenCV grey weights, 4-neighbour kernel, reflect-101 border. */
function jsSharpness(rgba, width, height) {
  const gray = new Float64Array(width * height);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) gray[i] = Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]);
  const at = (x, y) => {
    if (x < 0) x = -x;
    else if (x >= width) x = 2 * width - 2 - x;
    if (y < 0) y = -y;
    else if (y >= height) y = 2 * height - 2 - y;
    return gray[y * width + x];
  };
  let sum = 0;
  let sum2 = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * gray[y * width + x];
      sum += v;
      sum2 += v * v;
    }
  const n = width * height;
  return sum2 / n - (sum / n) ** 2;
}

// ---------------------------------------------------------------------------------------------
// Child: the server with the pure-JS routes added.
// ---------------------------------------------------------------------------------------------

async function serve() {
  const serverPath = process.env.IQA_BENCH_SERVER;
  const { buildServer } = await import(pathToFileURL(serverPath).href);
  const { default: jpeg } = await import('jpeg-js');
  const ssimMod = await import('ssim.js');
  const ssim = ssimMod.ssim ?? ssimMod.default?.ssim ?? ssimMod.default;
  const num = (v) => (v ? Number(v) : undefined);
  const app = buildServer({ metricsReset: true, logger: false, maxInFlight: num(process.env.IQA_MAX_IN_FLIGHT), maxQueued: num(process.env.IQA_MAX_QUEUED), bodyPoolBytes: num(process.env.IQA_BODY_POOL_BYTES), ortSpinning: process.env.IQA_ORT_SPINNING === '1' });
  const decode = (buf) => {
    try {
      return jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    } catch (e) {
      throw Object.assign(new Error(`jpeg-js: ${e.message}`), { statusCode: 422 });
    }
  };
  app.post('/score-js', async (req) => {
    const img = decode(req.body);
    return { metric: 'sharpness-js', score: jsSharpness(img.data, img.width, img.height) };
  });
  app.post('/compare-js', async (req) => {
    const files = {};
    // This branch's server parses multipart itself (req.body.multipart); main's uses @fastify/multipart.
    if (Array.isArray(req.body?.multipart)) for (const p of req.body.multipart) files[p.name] = p.data;
    else for await (const part of req.parts()) if (part.type === 'file') files[part.fieldname] = await part.toBuffer();
    const a = decode(files.ref);
    const b = decode(files.dist);
    return { metric: 'ssim.js', score: ssim(a, b, { ssim: 'bezkrovny' }).mssim };
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const { metricRegistry } = await import('iqa-node');
  process.stdout.write(JSON.stringify({ listening: address, metrics: Object.keys(metricRegistry) }) + '\n');
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Parent: the load generators.
// ---------------------------------------------------------------------------------------------

async function startChild(env) {
  // The child imports the server from --server; `iqa-node` resolves from that server's package.
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    lines.on('line', (l) => {
      if (l.startsWith('{')) resolve(JSON.parse(l));
    });
  });
  return { child, ...info };
}

/**
 * The control process: its event-loop delay is the machine's noise, and its HTTP server answers
 * every request 503 at once without reading the body (the least a server can do), so that the
 * 503s it sends, timed by the same generator in the same seconds, are the floor under ours.
 */
function startControl() {
  const src = `const { monitorEventLoopDelay } = require('node:perf_hooks');
    const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
    const body = JSON.stringify({ error: { code: 'ERR_BUSY', message: 'control: always busy' } });
    const srv = require('node:http').createServer((req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      req.resume();
    }).listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
    process.on('message', (m) => { if (m === 'reset') { h.reset(); process.send({ reset: true }); }
      else process.send({ p99: Math.max(0, h.percentile(99) / 1e6 - 1), max: Math.max(0, h.max / 1e6 - 1) }); });`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // The port is the child's first message; questions wait for it so that no answer is mistaken for it.
  const listening = new Promise((resolve) => child.once('message', (m) => resolve(`http://127.0.0.1:${m.port}`)));
  const ask = async (m) => {
    await listening;
    return new Promise((resolve) => { child.once('message', resolve); child.send(m); });
  };
  return { child, listening, reset: () => ask('reset'), read: () => ask('read') };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
// --expect-continue: every POST sends Expect: 100-continue and its body only after the 100, so a
// server that sheds on the headers never receives (nor reads) a shed request's body.
const EXPECT_CONTINUE = process.argv.includes('--expect-continue');

/** One POST; resolves {status, ms} (status 0 and `error` for a client-side failure). */
function postOnce(base, def, body) {
  const u = new URL(base);
  const sent = performance.now();
  return new Promise((resolve) => {
    const headers = { 'content-type': def.type, 'content-length': body.length, ...(EXPECT_CONTINUE ? { expect: '100-continue' } : {}) };
    const req = http.request({ host: u.hostname, port: u.port, path: def.path, method: 'POST', agent, timeout: 30_000, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        // A final answer before 100 Continue: the body was never sent; the server closes the connection.
        if (EXPECT_CONTINUE && !req.writableEnded) req.destroy();
        resolve({ status: res.statusCode, ms: performance.now() - sent });
      });
      res.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message, ms: performance.now() - sent }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (e) => resolve({ status: 0, error: e.code ?? e.message, ms: performance.now() - sent }));
    if (EXPECT_CONTINUE) {
      req.on('continue', () => req.end(body));
      req.flushHeaders();
    } else req.end(body);
  });
}

/** Closed loop, `concurrency` requests in flight for `seconds`: the 200s per second. */
async function measureCapacity(base, def, concurrency, seconds) {
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  let i = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) if ((await postOnce(base, def, def.bodies[i++ % def.bodies.length])).status === 200) ok++;
    }),
  );
  return ok / ((performance.now() - t0) / 1000);
}

/**
 * Open loop: request i is issued at t0 + i / rate (checked every millisecond), whatever the
 * answers so far. At most rate x seconds requests; stragglers get 20 s, then the level ends.
 */
async function openLoop(base, def, rate, seconds, controlBase) {
  const total = Math.max(1, Math.round(rate * seconds));
  const results = [];
  const controlResults = [];
  const lag = [];
  const pending = [];
  const t0 = performance.now();
  let i = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < total && t0 + (i * 1000) / rate <= now) {
        lag.push(now - (t0 + (i * 1000) / rate));
        pending.push(postOnce(base, def, def.bodies[i % def.bodies.length]).then((r) => results.push(r)));
        if (controlBase && i % 10 === 0) pending.push(postOnce(controlBase, def, def.bodies[i % def.bodies.length]).then((r) => controlResults.push(r)));
        i++;
      }
      if (i >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  const sendS = (performance.now() - t0) / 1000;
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 20_000))]);
  const unanswered = total - results.length;
  const by = (f) => results.filter(f).map((r) => r.ms).sort((a, b) => a - b);
  const ok = by((r) => r.status === 200);
  const shed = by((r) => r.status === 503);
  const controlShed = controlResults.filter((r) => r.status === 503).map((r) => r.ms).sort((a, b) => a - b);
  const others = {};
  for (const r of results) if (r.status !== 200 && r.status !== 503) others[r.status || r.error] = (others[r.status || r.error] ?? 0) + 1;
  if (unanswered) others.unanswered = unanswered;
  lag.sort((a, b) => a - b);
  return {
    offered: rate,
    sent: total,
    sendRate: total / sendS,
    ok: ok.length,
    okRate: ok.length / sendS,
    okP50: percentile(ok, 50),
    okP99: percentile(ok, 99),
    shed: shed.length,
    shedFraction: shed.length / total,
    shedP50: percentile(shed, 50),
    shedP99: percentile(shed, 99),
    control503P50: percentile(controlShed, 50),
    control503P99: percentile(controlShed, 99),
    others,
    lagP99: percentile(lag, 99),
  };
}

async function main() {
  const imagesDir = arg('images', join(root, '..', 'shared', 'data', 'biq2021', 'images'));
  if (!existsSync(imagesDir)) {
    console.log(`server-load: skipped, no images at ${imagesDir} (needs ../shared/data/biq2021/images or --images DIR)`);
    return;
  }
  const mode = arg('mode', 'overload');
  if (!['overload', 'connections'].includes(mode)) throw new Error(`--mode must be overload or connections, got '${mode}'`);
  const count = Number(arg('count', 16));
  const serverPath = resolve(arg('server', join(root, 'examples/server/server.mjs')));
  const label = arg('label', serverPath === resolve(root, 'examples/server/server.mjs') ? 'this' : dirname(dirname(dirname(serverPath))));

  const { encode, preprocess } = await import(pathToFileURL(join(root, 'dist/cjs/index.js')).href);
  const jpegs = [];
  for (const f of readdirSync(imagesDir).filter((n) => /\.jpe?g$/i.test(n)).sort()) {
    if (jpegs.length >= count) break;
    const bytes = readFileSync(join(imagesDir, f));
    const d = await preprocess(bytes).catch(() => null);
    if (d && d.width === 512 && d.height === 512) jpegs.push(bytes);
  }
  if (jpegs.length === 0) {
    console.log(`server-load: skipped, no 512x512 JPEGs in ${imagesDir}`);
    return;
  }
  const pairs = [];
  for (const ref of jpegs) pairs.push(multipartBody({ ref, dist: await encode(ref, { format: 'jpeg', quality: 30 }) }));

  // The deep model, served from a temporary model directory as <name>/manifest.json.
  const manifestPath = resolve(arg('model', join(root, 'test/fixtures/hyperiqa-tiny/model.json')));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const modelDir = mkdtempSync(join(tmpdir(), 'iqa-bench-models-'));
  mkdirSync(join(modelDir, manifest.name));
  copyFileSync(manifestPath, join(modelDir, manifest.name, 'manifest.json'));
  for (const v of [manifest.model, ...Object.values(manifest.model.variants ?? {})]) copyFileSync(join(dirname(manifestPath), v.file), join(modelDir, manifest.name, basename(v.file)));

  const env = { IQA_BENCH_SERVER: serverPath, IQA_MODEL_DIR: modelDir };
  if (arg('max-in-flight')) env.IQA_MAX_IN_FLIGHT = arg('max-in-flight');
  if (arg('max-queued')) env.IQA_MAX_QUEUED = arg('max-queued');
  if (arg('body-pool-bytes')) env.IQA_BODY_POOL_BYTES = arg('body-pool-bytes');
  const srv = await startChild(env);
  const control = startControl();
  const base = srv.listening;
  const nrMetric = arg('metric', srv.metrics.includes('brisque') ? 'brisque' : 'sharpness');
  const frMetric = srv.metrics.includes('ssim') ? 'ssim' : 'psnr';
  const routeDefs = {
    score: { label: `/score ${nrMetric}`, path: `/score?metric=${nrMetric}`, bodies: jpegs, type: 'image/jpeg', ours: true },
    'score-deep': { label: `/score ${manifest.name}`, path: `/score?metric=${manifest.name}`, bodies: jpegs, type: 'image/jpeg', ours: true },
    compare: { label: `/compare ${frMetric}`, path: `/compare?metric=${frMetric}`, bodies: pairs, type: `multipart/form-data; boundary=${BOUNDARY}`, ours: true },
    // Diagnostic: the HTTP path alone, no scoring (not in the default set).
    health: { label: 'GET /health (no scoring)', path: '/health', method: 'GET', ours: true },
    'score-js': { label: 'js jpeg-js+laplacian var', path: '/score-js', bodies: jpegs, type: 'application/octet-stream', ours: false },
    'compare-js': { label: 'js jpeg-js+ssim.js', path: '/compare-js', bodies: pairs, type: `multipart/form-data; boundary=${BOUNDARY}`, ours: false },
  };
  const routes = arg('routes', mode === 'overload' ? 'score,score-deep,compare' : 'score,compare,score-js,compare-js').split(',');
  for (const r of routes) if (!routeDefs[r]) throw new Error(`unknown route '${r}' (known: ${Object.keys(routeDefs).join(', ')})`);

  console.log(`server-load (${mode}): server ${label} = ${serverPath}; ${jpegs.length} 512x512 JPEGs from ${imagesDir}; NR metric ${nrMetric}, deep model ${manifest.name}, FR metric ${frMetric}`);
  console.log(`server ${base} (pid ${srv.child.pid}), Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}${env.IQA_MAX_IN_FLIGHT || env.IQA_MAX_QUEUED ? `, maxInFlight ${env.IQA_MAX_IN_FLIGHT ?? 'default'}, maxQueued ${env.IQA_MAX_QUEUED ?? 'default'}` : ''}${env.IQA_BODY_POOL_BYTES ? `, bodyPoolBytes ${env.IQA_BODY_POOL_BYTES}` : ''}${EXPECT_CONTINUE ? ', clients send Expect: 100-continue' : ''}${process.env.IQA_ORT_SPINNING === '1' ? ', deep models with ORT spinning (IQA_ORT_SPINNING=1)' : ''}`);

  const post = (path) => fetch(base + path, { method: 'POST' });
  const metricsJson = async () => (await fetch(base + '/metrics?format=json')).json();
  // Check each route answers 200 before timing it.
  for (const r of routes) {
    const def = routeDefs[r];
    const probe = await fetch(base + def.path, def.bodies ? { method: 'POST', body: def.bodies[0], headers: { 'content-type': def.type } } : { method: def.method });
    const body = await probe.json();
    if (probe.status !== 200) throw new Error(`${def.label}: ${probe.status} ${JSON.stringify(body)}`);
    def.score = body.score;
  }
  await post('/metrics/reset');
  await new Promise((r) => setTimeout(r, 3000));
  const idle = (await metricsJson()).eventLoopDelayMs;
  console.log(`idle server event-loop delay: p99 ${fmt(idle.p99, 2)} ms, max ${fmt(idle.max, 2)} ms (machine noise floor)\n`);
  const ctx = { base, routes, routeDefs, post, metricsJson, control, label };
  try {
    const rows = mode === 'overload' ? await overload(ctx) : await connections(ctx);
    const out = arg('json');
    if (out) writeFileSync(out, JSON.stringify({ mode, label, serverPath, rows }, null, 1) + '\n');
  } finally {
    srv.child.kill('SIGTERM');
    control.child.kill('SIGTERM');
    agent.destroy();
  }
}

async function overload({ base, routes, routeDefs, post, metricsJson, control, label }) {
  const levels = arg('levels', '1,2,4').split(',').map(Number);
  const duration = Number(arg('duration', 8));
  const capacityS = Number(arg('capacity-s', 5));
  const given = arg('capacity-from') ? JSON.parse(readFileSync(arg('capacity-from'), 'utf8')).rows : [];
  const rows = [];
  for (const r of routes) {
    const def = routeDefs[r];
    await measureCapacity(base, def, 4, 1); // warm-up
    const from = given.find((x) => x.key === r);
    const capacity = from ? from.capacity : await measureCapacity(base, def, 4, capacityS);
    console.log(`${def.label}: capacity ${fmt(capacity)} req/s (${from ? `from ${arg('capacity-from')}` : `closed loop, 4 in flight, ${capacityS} s`})`);
    for (const x of levels) {
      await post('/metrics/reset');
      await control.reset();
      const res = await openLoop(base, def, capacity * x, duration, await control.listening);
      const m = await metricsJson();
      const ctl = await control.read();
      const row = { server: label, key: r, route: def.label, capacity, level: x, ...res, eldP99: m.eventLoopDelayMs.p99, eldMax: m.eventLoopDelayMs.max, serverShedP99: m.unavailableLatencyMs?.p99 ?? NaN, gc: m.gcPauses ?? null, controlP99: ctl.p99, load1: loadavg()[0] };
      rows.push(row);
      const others = Object.entries(row.others).map(([k, v]) => `${k}:${v}`).join(' ') || '-';
      console.log(
        `  ${x}x ${fmt(row.offered).padStart(7)} req/s offered: ${row.ok}/${row.sent} 200 p50 ${fmt(row.okP50)} p99 ${fmt(row.okP99)} ms; shed ${fmt(100 * row.shedFraction)}% (503 p50 ${fmt(row.shedP50)} p99 ${fmt(row.shedP99)} ms, of it in the server p99 ${fmt(row.serverShedP99, 2)} ms; a do-nothing 503 server's p50 ${fmt(row.control503P50)} p99 ${fmt(row.control503P99)} ms); other ${others}; ELD p99 ${fmt(row.eldP99, 2)} ms${row.gc ? ` (GC ${row.gc.count} pauses${row.gc.byKind ? ` ${Object.entries(row.gc.byKind).map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}, max ${fmt(row.gc.maxMs)} ms)` : ''}; control ELD p99 ${fmt(row.controlP99, 2)} ms; generator lag p99 ${fmt(row.lagP99)} ms; load ${fmt(row.load1)}`,
      );
    }
  }
  console.log('\n| server | route | load | offered req/s | 200/s | admitted p50 ms | admitted p99 ms | shed | 503 p50 ms | 503 p99 ms | 503 p99 in the server ms | do-nothing 503 p99 ms | other statuses | event-loop p99 ms | control p99 ms |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.server} | ${r.route} | ${r.level}x | ${fmt(r.offered)} | ${fmt(r.okRate)} | ${fmt(r.okP50)} | ${fmt(r.okP99)} | ${fmt(100 * r.shedFraction)}% | ${fmt(r.shedP50)} | ${fmt(r.shedP99)} | ${fmt(r.serverShedP99, 2)} | ${fmt(r.control503P99)} | ${Object.entries(r.others).map(([k, v]) => `${k}: ${v}`).join(', ') || '-'} | ${fmt(r.eldP99, 2)} | ${fmt(r.controlP99, 2)} |`);
  for (const r of rows.filter((x) => x.level >= 2)) {
    const other5xx = Object.entries(r.others).filter(([k]) => !/^[1-4]\d\d$/.test(k)).reduce((n, [, v]) => n + v, 0);
    const checks = [
      [`admitted p99 ${fmt(r.okP99)} < 100 ms`, r.okP99 < 100],
      [`503 p99 ${fmt(r.shedP99)} < 5 ms (in the server ${fmt(r.serverShedP99, 2)}; a do-nothing 503 server, same generator, same seconds: ${fmt(r.control503P99)})`, r.shed === 0 || r.shedP99 < 5],
      [`${other5xx} other 5xx/errors`, other5xx === 0],
      [`event-loop p99 ${fmt(r.eldP99, 2)} < 10 ms`, r.eldP99 < 10],
    ];
    console.log(`target ${r.route} at ${r.level}x: ${checks.map(([t, ok]) => `${t} ${ok ? 'met' : 'NOT met'}`).join('; ')}`);
  }
  return rows;
}

async function connections({ base, routes, routeDefs, post, metricsJson, control }) {
  const duration = Number(arg('duration', 10));
  const levels = arg('connections', '1,16,64').split(',').map(Number);
  const { default: autocannon } = await import('autocannon');
  const run = (def, connections, seconds) =>
    new Promise((resolve, reject) => {
      let i = 0;
      autocannon(
        {
          url: base,
          connections,
          duration: seconds,
          // One request per connection at a time (no pipelining): latency is per request.
          pipelining: 1,
          requests: [def.bodies ? { method: 'POST', path: def.path, headers: { 'content-type': def.type }, setupRequest: (req) => ({ ...req, body: def.bodies[i++ % def.bodies.length] }) } : { method: def.method, path: def.path }],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });

  const rows = [];
  for (const r of routes) {
    const def = routeDefs[r];
    await run(def, 4, 1); // warm-up
    for (const c of levels) {
      await post('/metrics/reset');
      await control.reset();
      const res = await run(def, c, duration);
      const m = await metricsJson();
      const ctl = await control.read();
      const row = {
        route: def.label,
        ours: def.ours,
        key: r,
        connections: c,
        reqPerS: res.requests.average,
        total: res.requests.total,
        p50: res.latency.p50,
        p99: res.latency.p99,
        eldP99: m.eventLoopDelayMs.p99,
        eldMax: m.eventLoopDelayMs.max,
        elu: m.eventLoopUtilization,
        controlP99: ctl.p99,
        load1: (await import('node:os')).loadavg()[0],
        errors: res.errors + res.timeouts,
        non2xx: res.non2xx,
        score: def.score,
      };
      rows.push(row);
      console.log(`${row.route.padEnd(26)} c=${String(c).padStart(2)}  ${fmt(row.reqPerS).padStart(8)} req/s  p50 ${fmt(row.p50).padStart(7)} ms  p99 ${fmt(row.p99).padStart(7)} ms  ELD p99 ${fmt(row.eldP99, 2).padStart(7)} ms  ELU ${fmt(100 * row.elu, 0).padStart(3)}%  control ELD p99 ${fmt(row.controlP99, 2)} ms  load ${fmt(row.load1)}  (${row.total} requests, ${row.errors} errors, ${row.non2xx} non-2xx)`);
    }
  }

  console.log('\n| route | conns | req/s | p50 ms | p99 ms | event-loop p99 ms | event-loop max ms | event-loop busy | idle control process event-loop p99 ms | errors/non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.route} | ${r.connections} | ${fmt(r.reqPerS)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.eldP99, 2)} | ${fmt(r.eldMax, 2)} | ${fmt(100 * r.elu, 0)}% | ${fmt(r.controlP99, 2)} | ${r.errors}/${r.non2xx} |`);

  const pairsOf = [
    ['score', 'score-js'],
    ['compare', 'compare-js'],
    ['score', 'compare-js'],
  ];
  console.log('\nratios (ours / pure JS, same connection count):');
  for (const [a, b] of pairsOf) {
    for (const c of levels) {
      const x = rows.find((r) => r.key === a && r.connections === c);
      const y = rows.find((r) => r.key === b && r.connections === c);
      if (!x || !y) continue;
      console.log(`  ${x.route} vs ${y.route}, c=${c}: throughput x${fmt(x.reqPerS / y.reqPerS, 2)}, p99 latency x${fmt(x.p99 / y.p99, 3)}, event-loop p99 ${fmt(x.eldP99, 2)} vs ${fmt(y.eldP99, 2)} ms`);
    }
  }
  const top = Math.max(...levels);
  let failed = false;
  for (const r of rows.filter((r) => r.ours && r.connections === top)) {
    const ok = r.eldP99 < 10;
    failed ||= !ok || r.errors > 0 || r.non2xx > 0;
    console.log(`target: ${r.route} event-loop delay p99 at ${top} connections ${fmt(r.eldP99, 2)} ms ${ok ? '< 10 ms: met' : '>= 10 ms: NOT met'}${r.errors || r.non2xx ? `; ${r.errors} errors, ${r.non2xx} non-2xx` : ''}`);
  }
  process.exitCode = failed ? 1 : 0;
  return rows;
}


if (process.argv.includes('--serve')) await serve();
else await main();
