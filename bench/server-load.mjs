// Load test of the example server (examples/server/server.mjs) against pure-JS alternatives.
//
//   node bench/server-load.mjs [--metric NAME] [--duration S] [--connections 1,16,64]
//                              [--routes score,compare,score-js,compare-js] [--images DIR] [--count N]
//
// The server runs in a child process on 127.0.0.1 (an ephemeral port) so that autocannon's own
// work in this process does not show up in the server's event-loop delay. For each route and each
// connection count it resets the server's /metrics, runs autocannon for --duration seconds
// (default 10) posting 512x512 JPEGs from ../shared/data/biq2021/images (read at run time), then
// reads the event-loop delay p99 measured inside the server (perf_hooks.monitorEventLoopDelay).
//
// Routes:
//   score       ours: POST /score?metric=M, raw JPEG body; M defaults to brisque when registered, else sharpness
//   compare     ours: POST /compare?metric=ssim (psnr when ssim is not registered), multipart ref+dist
//   score-js    pure JS: jpeg-js decode + Laplacian variance (the same definition as our sharpness) on the event loop
//   compare-js  pure JS: jpeg-js decode of both + ssim.js (its fastest algorithm here, 'bezkrovny') on the event loop
// Target: event-loop delay p99 under 10 ms at 64 connections on our routes. A control process
// that does nothing but measure its own event-loop delay runs beside it: on a shared machine its
// p99 is the scheduler's share of the server's number.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

async function serve() {
  const { buildServer } = await import(pathToFileURL(join(root, 'examples/server/server.mjs')).href);
  const { default: jpeg } = await import('jpeg-js');
  const ssimMod = await import('ssim.js');
  const ssim = ssimMod.ssim ?? ssimMod.default?.ssim ?? ssimMod.default;
  const app = buildServer({ metricsReset: true, logger: false });
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
    for await (const part of req.parts()) if (part.type === 'file') files[part.fieldname] = await part.toBuffer();
    const a = decode(files.ref);
    const b = decode(files.dist);
    return { metric: 'ssim.js', score: ssim(a, b, { ssim: 'bezkrovny' }).mssim };
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(JSON.stringify({ listening: address, metrics: Object.keys((await import('iqa-node')).metricRegistry) }) + '\n');
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Parent: autocannon against the child.
// ---------------------------------------------------------------------------------------------

async function startChild() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
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
 * A control process that only measures its own event-loop delay: what the machine's scheduler
 * alone costs an idle Node process during each level (the noise floor our server shares).
 */
function startControl() {
  const src = `const { monitorEventLoopDelay } = require('node:perf_hooks');
    const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
    process.on('message', (m) => { if (m === 'reset') { h.reset(); process.send({ reset: true }); }
      else process.send({ p99: Math.max(0, h.percentile(99) / 1e6 - 1), max: Math.max(0, h.max / 1e6 - 1) }); });`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (m) => new Promise((resolve) => { child.once('message', resolve); child.send(m); });
  return { child, reset: () => ask('reset'), read: () => ask('read') };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

async function main() {
  const imagesDir = arg('images', join(root, '..', 'shared', 'data', 'biq2021', 'images'));
  if (!existsSync(imagesDir)) {
    console.log(`server-load: skipped, no images at ${imagesDir} (needs ../shared/data/biq2021/images or --images DIR)`);
    return;
  }
  const duration = Number(arg('duration', 10));
  const levels = arg('connections', '1,16,64').split(',').map(Number);
  const count = Number(arg('count', 16));
  const routes = arg('routes', 'score,compare,score-js,compare-js').split(',');

  const { encode, preprocess } = await import(pathToFileURL(join(root, 'dist/cjs/index.js')).href);
  // 512x512 JPEGs, in name order; each dist for /compare is the ref re-encoded at quality 30.
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

  const { default: autocannon } = await import('autocannon');
  const srv = await startChild();
  const control = startControl();
  const base = srv.listening;
  const nrMetric = arg('metric', srv.metrics.includes('brisque') ? 'brisque' : 'sharpness');
  const frMetric = srv.metrics.includes('ssim') ? 'ssim' : 'psnr';
  const routeDefs = {
    score: { label: `ours /score ${nrMetric}`, path: `/score?metric=${nrMetric}`, bodies: jpegs, type: 'image/jpeg', ours: true },
    compare: { label: `ours /compare ${frMetric}`, path: `/compare?metric=${frMetric}`, bodies: pairs, type: `multipart/form-data; boundary=${BOUNDARY}`, ours: true },
    // Diagnostic: the HTTP path alone, no scoring (not in the default set).
    health: { label: 'ours GET /health (no scoring)', path: '/health', method: 'GET', ours: true },
    'score-js': { label: 'js jpeg-js+laplacian var', path: '/score-js', bodies: jpegs, type: 'application/octet-stream', ours: false },
    'compare-js': { label: 'js jpeg-js+ssim.js', path: '/compare-js', bodies: pairs, type: `multipart/form-data; boundary=${BOUNDARY}`, ours: false },
  };
  for (const r of routes) if (!routeDefs[r]) throw new Error(`unknown route '${r}' (known: ${Object.keys(routeDefs).join(', ')})`);

  console.log(`server-load: ${jpegs.length} 512x512 JPEGs from ${imagesDir}; NR metric ${nrMetric}${srv.metrics.includes('brisque') ? '' : ' (brisque is not registered in this build)'}, FR metric ${frMetric}`);
  console.log(`server ${base} (pid ${srv.child.pid}), ${duration} s per level, connections ${levels.join(', ')}, Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  const post = (path) => fetch(base + path, { method: 'POST' });
  const metricsJson = async () => (await fetch(base + '/metrics?format=json')).json();

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

  // Idle floor: what the event loop of an idle server shows on this machine right now.
  await post('/metrics/reset');
  await new Promise((r) => setTimeout(r, Math.min(5, duration) * 1000));
  const idle = (await metricsJson()).eventLoopDelayMs;
  console.log(`idle server event-loop delay: p99 ${fmt(idle.p99, 2)} ms, max ${fmt(idle.max, 2)} ms (machine noise floor)\n`);

  const rows = [];
  for (const r of routes) {
    const def = routeDefs[r];
    // Check the route answers 200 before timing it, and warm it up.
    const probe = await fetch(base + def.path, def.bodies ? { method: 'POST', body: def.bodies[0], headers: { 'content-type': def.type } } : { method: def.method });
    const probeBody = await probe.json();
    if (probe.status !== 200) throw new Error(`${def.label}: ${probe.status} ${JSON.stringify(probeBody)}`);
    await run(def, 4, 1);
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
        score: probeBody.score,
      };
      rows.push(row);
      console.log(`${row.route.padEnd(26)} c=${String(c).padStart(2)}  ${fmt(row.reqPerS).padStart(8)} req/s  p50 ${fmt(row.p50).padStart(7)} ms  p99 ${fmt(row.p99).padStart(7)} ms  ELD p99 ${fmt(row.eldP99, 2).padStart(7)} ms  ELU ${fmt(100 * row.elu, 0).padStart(3)}%  control ELD p99 ${fmt(row.controlP99, 2)} ms  load ${fmt(row.load1)}  (${row.total} requests, ${row.errors} errors, ${row.non2xx} non-2xx)`);
    }
  }
  srv.child.kill('SIGTERM');
  control.child.kill('SIGTERM');

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
}

if (process.argv.includes('--serve')) await serve();
else await main();
