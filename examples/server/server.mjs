// A small image-quality HTTP service on Fastify, embedding iqa-node.
//
//   POST /score?metric=NAME      body: image bytes (Content-Type image/* or application/octet-stream),
//                                or multipart/form-data with one file field `file`
//                                -> {"metric":"brisque","score":23.4,"ms":6.1}
//   POST /compare?metric=psnr    multipart/form-data with file fields `ref` and `dist`
//   POST /video/score?metric=NAME&step=N&maxFrames=N
//                                multipart/form-data with one file field `file` (a video), written
//                                to a temporary file -> {"metric","frames","pooled":{...},"ms"}
//   GET  /health                 -> {"status":"ok",...}
//   GET  /metrics                Prometheus text format (JSON with ?format=json or Accept: application/json)
//
// Errors are {"error":{"code":"ERR_DECODE","message":"..."}} with a status from the IqaError code
// (ERR_INPUT 400, ERR_TOO_LARGE 413, ERR_DECODE 422, ERR_ABORTED 503 on timeout, ...).
//
// Run: node examples/server/server.mjs [--port 3000] [--host 127.0.0.1]
// Env: IQA_BODY_LIMIT (bytes), IQA_VIDEO_BODY_LIMIT (bytes), IQA_VIDEO_MAX_SECONDS, IQA_TIMEOUT_MS, IQA_LIMIT_PIXELS, IQA_METRIC, IQA_METRICS_RESET=1, IQA_LOG=0.
// With --port 0 it prints {"listening":"http://127.0.0.1:PORT"} once it accepts connections.
//
// Scoring runs in native threads (iqa-node never scores on the event loop), so the handler only
// moves bytes; the event-loop delay is measured here and exported on /metrics to show it.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
import { ERROR_CODES, IqaError, metricRegistry, probeVideo, registryCards, resolveMetric, versions, videoQuality } from 'iqa-node';

/** HTTP status for each IqaError code. */
export const STATUS_BY_CODE = {
  ERR_INPUT: 400,
  ERR_TOO_LARGE: 413,
  ERR_DECODE: 422,
  ERR_ABORTED: 503,
  ERR_DEVICE: 503,
  ERR_MODEL: 500,
  ERR_INTERNAL: 500,
};

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// monitorEventLoopDelay records the interval between timer ticks; the delay is that minus the
// resolution (as @fastify/under-pressure does). 1 ms keeps the sampling error small.
const ELD_RESOLUTION_MS = 1;

export const DEFAULT_METRIC = 'brisque' in metricRegistry ? 'brisque' : 'sharpness';

/** An IqaError answered with a specific HTTP status (e.g. 415) instead of its code's default. */
function httpError(status, code, message) {
  return Object.assign(new IqaError(code, message), { statusCode: status });
}

function isIqaCode(code) {
  return typeof code === 'string' && ERROR_CODES.includes(code);
}

function jsonNumber(x) {
  return Number.isFinite(x) ? x : String(x);
}

class ServerMetrics {
  constructor() {
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.eld.enable();
    this.reset();
  }

  reset() {
    this.since = Date.now();
    this.requests = new Map(); // "route status" -> count
    this.errors = new Map(); // code -> count
    this.routes = new Map(); // route -> { hist (µs), buckets[], sum, count }
    this.eld.reset();
    this.elu = performance.eventLoopUtilization();
  }

  route(name) {
    let r = this.routes.get(name);
    if (!r) {
      r = { hist: createHistogram(), buckets: new Array(LATENCY_BUCKETS_S.length).fill(0), sum: 0, count: 0 };
      this.routes.set(name, r);
    }
    return r;
  }

  observe(route, status, ms) {
    const key = `${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const r = this.route(route);
    r.hist.record(Math.max(1, Math.round(ms * 1000)));
    r.sum += ms / 1000;
    r.count++;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (ms / 1000 <= LATENCY_BUCKETS_S[i]) r.buckets[i]++;
  }

  error(code) {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  eventLoopDelayMs() {
    const ms = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
    const h = this.eld;
    return h.count === 0 ? { p50: 0, p99: 0, max: 0, mean: 0, samples: 0 } : { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count };
  }

  toJSON() {
    const requests = [...this.requests].map(([k, count]) => {
      const [route, status] = k.split(' ');
      return { route, status: Number(status), count };
    });
    const latency = {};
    for (const [route, r] of this.routes) {
      latency[route] = { count: r.count, p50: r.hist.percentile(50) / 1000, p90: r.hist.percentile(90) / 1000, p99: r.hist.percentile(99) / 1000, max: r.hist.max / 1000 };
    }
    return { since: new Date(this.since).toISOString(), requests, errors: Object.fromEntries(this.errors), latencyMs: latency, eventLoopDelayMs: this.eventLoopDelayMs(), eventLoopUtilization: performance.eventLoopUtilization(this.elu).utilization, rssBytes: process.memoryUsage.rss() };
  }

  toPrometheus() {
    const esc = (s) => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines = [];
    lines.push('# HELP iqa_http_requests_total HTTP requests by route and status.', '# TYPE iqa_http_requests_total counter');
    for (const [k, n] of this.requests) {
      const [route, status] = k.split(' ');
      lines.push(`iqa_http_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
    }
    lines.push('# HELP iqa_errors_total Error responses by error code.', '# TYPE iqa_errors_total counter');
    for (const [code, n] of this.errors) lines.push(`iqa_errors_total{code="${esc(code)}"} ${n}`);
    lines.push('# HELP iqa_http_request_duration_seconds Request latency.', '# TYPE iqa_http_request_duration_seconds histogram');
    for (const [route, r] of this.routes) {
      LATENCY_BUCKETS_S.forEach((le, i) => lines.push(`iqa_http_request_duration_seconds_bucket{route="${esc(route)}",le="${le}"} ${r.buckets[i]}`));
      lines.push(`iqa_http_request_duration_seconds_bucket{route="${esc(route)}",le="+Inf"} ${r.count}`);
      lines.push(`iqa_http_request_duration_seconds_sum{route="${esc(route)}"} ${r.sum}`);
      lines.push(`iqa_http_request_duration_seconds_count{route="${esc(route)}"} ${r.count}`);
    }
    const eld = this.eventLoopDelayMs();
    lines.push('# HELP iqa_event_loop_delay_seconds Event-loop delay (perf_hooks.monitorEventLoopDelay) since the last reset.', '# TYPE iqa_event_loop_delay_seconds gauge');
    for (const q of ['p50', 'p99', 'max']) lines.push(`iqa_event_loop_delay_seconds{quantile="${q === 'max' ? '1' : q === 'p50' ? '0.5' : '0.99'}"} ${eld[q] / 1000}`);
    lines.push('# HELP iqa_event_loop_utilization Fraction of time the event loop was busy since the last reset.', '# TYPE iqa_event_loop_utilization gauge');
    lines.push(`iqa_event_loop_utilization ${performance.eventLoopUtilization(this.elu).utilization}`);
    return lines.join('\n') + '\n';
  }
}

/**
 * Builds the Fastify app (not listening). Options:
 *   bodyLimit        largest request body / uploaded file in bytes (default 16 MiB)
 *   timeoutMs        per-request scoring deadline, wired to the call's AbortSignal (default 10 s)
 *   limitInputPixels largest decoded image in pixels (default 40 MP): ERR_TOO_LARGE before decoding
 *   defaultMetric    metric when ?metric= is absent (default brisque when registered, else sharpness)
 *   videoBodyLimit   largest uploaded video in bytes (default 256 MiB), streamed to a temporary file
 *   maxVideoSeconds  longest video /video/score accepts (default 600 s): ERR_TOO_LARGE before scoring
 *   videoTimeoutMs   scoring deadline of a video (default 120 s)
 *   metricsReset     expose POST /metrics/reset (benchmarks read one load level at a time)
 *   logger           Fastify logger option (default false)
 */
export function buildServer(options = {}) {
  const bodyLimit = options.bodyLimit ?? 16 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limitInputPixels = options.limitInputPixels ?? 40_000_000;
  const defaultMetric = options.defaultMetric ?? DEFAULT_METRIC;
  const videoBodyLimit = options.videoBodyLimit ?? 256 * 1024 * 1024;
  const maxVideoSeconds = options.maxVideoSeconds ?? 600;
  const videoTimeoutMs = options.videoTimeoutMs ?? 120_000;
  // Routes take every name the registry resolves (registered metrics and models in the model directories).
  const entryOf = (name) => {
    try {
      return resolveMetric(name);
    } catch (e) {
      if (e instanceof IqaError && e.code === 'ERR_INPUT') return undefined;
      throw e;
    }
  };
  if (entryOf(defaultMetric)?.kind !== 'nr') throw new IqaError('ERR_INPUT', `default metric '${defaultMetric}' is not a registered no-reference metric (known: ${Object.keys(metricRegistry).join(', ')})`);
  const metrics = new ServerMetrics();

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // Bounds slow uploads (the scoring deadline starts once the body is in).
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
  app.decorate('iqaMetrics', metrics);
  app.addHook('onClose', async () => metrics.eld.disable());
  // Load the default metric (its model, for BRISQUE) before the first request instead of during it.
  app.addHook('onReady', async () => {
    const entry = entryOf(defaultMetric);
    const data = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await entry.fn({ data, width: 64, height: 64, channels: 3 }, entry.options({})).catch(() => undefined);
  });

  app.register(multipart, { limits: { fileSize: bodyLimit, files: 2, fields: 2, parts: 4 } });
  // Raw uploads: the body arrives as one Buffer (bounded by bodyLimit).
  app.addContentTypeParser(['application/octet-stream', /^image\/[\w.+-]+$/], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.observe(route, reply.statusCode, reply.elapsedTime);
  });

  app.setErrorHandler((err, req, reply) => {
    let code;
    let status;
    let message = err.message;
    if (isIqaCode(err.code)) {
      code = err.code;
      status = err instanceof IqaError && err.statusCode ? err.statusCode : STATUS_BY_CODE[code];
    } else if (err.statusCode === 413) {
      code = 'ERR_TOO_LARGE';
      status = 413;
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE')
        message = `request body larger than the ${req.routeOptions?.url === '/video/score' ? videoBodyLimit : bodyLimit}-byte limit`;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify/multipart client errors (unsupported media type, malformed multipart, ...).
      code = 'ERR_INPUT';
      status = err.statusCode;
    } else {
      code = 'ERR_INTERNAL';
      status = 500;
      req.log.error(err);
    }
    metrics.error(code);
    reply.code(status).send({ error: { code, message } });
  });

  app.setNotFoundHandler((req, reply) => {
    metrics.error('ERR_INPUT');
    reply.code(404).send({ error: { code: 'ERR_INPUT', message: `no route ${req.method} ${req.url}` } });
  });

  function lookup(name, kind) {
    const entry = entryOf(name);
    if (!entry) throw new IqaError('ERR_INPUT', `unknown metric '${name}' (known: ${Object.keys(metricRegistry).join(', ')})`);
    if (entry.kind !== kind) throw new IqaError('ERR_INPUT', kind === 'nr' ? `'${name}' is a full-reference metric: use POST /compare` : `'${name}' is a no-reference metric: use POST /score`);
    return entry;
  }

  /**
   * Runs `call(signal)` under the request deadline; a client that hangs up aborts it too.
   * A deadline hit becomes ERR_ABORTED (503) with a message that says so.
   */
  async function withDeadline(reply, call, deadlineMs = timeoutMs) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort('timeout'), deadlineMs);
    const onClose = () => {
      if (!reply.raw.writableEnded) ac.abort('client closed the connection');
    };
    reply.raw.once('close', onClose);
    try {
      return await call(ac.signal);
    } catch (e) {
      if (ac.signal.reason === 'timeout' && e?.code === 'ERR_ABORTED') throw new IqaError('ERR_ABORTED', `scoring exceeded the ${deadlineMs} ms request timeout`);
      throw e;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  }

  /** Reads multipart file parts named in `names` into Buffers; any other part is an input error. */
  async function readFiles(req, names) {
    const files = {};
    for await (const part of req.parts()) {
      if (part.type !== 'file' || !names.includes(part.fieldname)) {
        if (part.type === 'file') part.file.resume();
        throw new IqaError('ERR_INPUT', `unexpected multipart field '${part.fieldname}' (expected file fields: ${names.join(', ')})`);
      }
      if (files[part.fieldname]) throw new IqaError('ERR_INPUT', `multipart file field '${part.fieldname}' sent twice`);
      files[part.fieldname] = await part.toBuffer();
    }
    for (const n of names) if (!files[n]) throw new IqaError('ERR_INPUT', `missing multipart file field '${n}'`);
    return files;
  }

  app.post('/score', async (req, reply) => {
    const name = req.query.metric ?? defaultMetric;
    const entry = lookup(name, 'nr');
    const image = req.isMultipart() ? (await readFiles(req, ['file'])).file : req.body;
    if (!Buffer.isBuffer(image)) throw httpError(req.headers['content-type'] ? 415 : 400, 'ERR_INPUT', 'send the image as the request body (Content-Type image/* or application/octet-stream) or as multipart field `file`');
    const t0 = performance.now();
    const score = await withDeadline(reply, (signal) => entry.fn(image, { ...entry.options({}), signal, limitInputPixels }));
    return { metric: name, score: jsonNumber(score), ms: performance.now() - t0 };
  });

  app.post('/compare', async (req, reply) => {
    const name = req.query.metric ?? 'psnr';
    const entry = lookup(name, 'fr');
    if (!req.isMultipart()) throw httpError(415, 'ERR_INPUT', 'send multipart/form-data with file fields `ref` and `dist`');
    const { ref, dist } = await readFiles(req, ['ref', 'dist']);
    const t0 = performance.now();
    const score = await withDeadline(reply, (signal) => entry.fn(ref, dist, { ...entry.options({}), signal, limitInputPixels }));
    return { metric: name, score: jsonNumber(score), ms: performance.now() - t0 };
  });

  const positiveParam = (v, name) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new IqaError('ERR_INPUT', `${name} must be a positive integer`);
    return n;
  };

  // A video is streamed to a temporary file (never held in memory), its duration checked, then
  // its frames scored with a no-reference metric and pooled over time.
  app.post('/video/score', async (req, reply) => {
    const name = req.query.metric ?? defaultMetric;
    lookup(name, 'nr');
    const step = positiveParam(req.query.step, 'step');
    const maxFrames = positiveParam(req.query.maxFrames, 'maxFrames');
    if (!req.isMultipart()) throw httpError(415, 'ERR_INPUT', 'send multipart/form-data with a file field `file`');
    const dir = await mkdtemp(join(tmpdir(), 'iqa-video-'));
    try {
      const path = join(dir, 'upload');
      let received = false;
      for await (const part of req.parts({ limits: { fileSize: videoBodyLimit, files: 1, fields: 0, parts: 1 } })) {
        if (part.type !== 'file' || part.fieldname !== 'file') throw new IqaError('ERR_INPUT', `unexpected multipart field '${part.fieldname}' (expected the file field 'file')`);
        await pipeline(part.file, createWriteStream(path));
        received = true;
      }
      if (!received) throw new IqaError('ERR_INPUT', "missing multipart file field 'file'");
      const info = await probeVideo(path, { limitInputPixels });
      if (info.duration > maxVideoSeconds) throw new IqaError('ERR_TOO_LARGE', `the video lasts ${info.duration.toFixed(1)} s, over the ${maxVideoSeconds} s limit`);
      const t0 = performance.now();
      const r = await withDeadline(reply, (signal) => videoQuality(path, { metric: name, step, maxFrames, signal, limitInputPixels }), videoTimeoutMs);
      const pooled = Object.fromEntries(Object.entries(r.pooled).map(([k, x]) => [k, jsonNumber(x)]));
      return { metric: name, frames: r.frames, info, pooled, ms: performance.now() - t0 };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  let v; // versions() asks the addon and ONNX Runtime: once is enough
  app.get('/health', async () => {
    v ??= versions();
    return { status: 'ok', iqaNode: v.iqaNode, opencv: v.opencv, metrics: Object.keys(metricRegistry), defaultMetric, uptimeS: process.uptime() };
  });

  // The registry's cards: what /score and /compare accept, with licences and options.
  app.get('/models', async () => ({ models: registryCards() }));

  app.get('/metrics', async (req, reply) => {
    const wantsJson = req.query.format === 'json' || /application\/json/.test(req.headers.accept ?? '');
    if (wantsJson) return metrics.toJSON();
    reply.type('text/plain; version=0.0.4');
    return metrics.toPrometheus();
  });

  if (options.metricsReset) {
    app.post('/metrics/reset', async () => {
      metrics.reset();
      return { reset: true };
    });
  }

  return app;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const num = (v) => (v === undefined || v === '' ? undefined : Number(v));
  const app = buildServer({
    logger: process.env.IQA_LOG !== '0',
    bodyLimit: num(process.env.IQA_BODY_LIMIT),
    videoBodyLimit: num(process.env.IQA_VIDEO_BODY_LIMIT),
    maxVideoSeconds: num(process.env.IQA_VIDEO_MAX_SECONDS),
    timeoutMs: num(process.env.IQA_TIMEOUT_MS),
    limitInputPixels: num(process.env.IQA_LIMIT_PIXELS),
    defaultMetric: process.env.IQA_METRIC || undefined,
    metricsReset: process.env.IQA_METRICS_RESET === '1',
  });
  const port = Number(arg('port', process.env.PORT ?? 3000));
  const host = arg('host', process.env.HOST ?? '127.0.0.1');
  const address = await app.listen({ port, host });
  // One machine-readable line for scripts that start the server on an ephemeral port.
  process.stdout.write(JSON.stringify({ listening: address }) + '\n');
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => app.close().then(() => process.exit(0)));
}
