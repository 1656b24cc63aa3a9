// A small image-quality HTTP service on Fastify, embedding iqa-node.
//
//   POST /score?metric=NAME      body: image bytes (Content-Type image/* or application/octet-stream),
//                                or multipart/form-data with one file field `file`
//                                -> {"metric":"brisque","score":23.4,"ms":6.1}
//   POST /compare?metric=psnr    multipart/form-data with file fields `ref` and `dist`
//   POST /video/score?metric=NAME body: a video file (Content-Type video/*), spooled to a temp file;
//                                a no-reference metric per frame, or a video model (vsfa); optional
//                                &step=N &maxFrames=N -> {"metric","frames","score","pooled","info","ms"}
//   GET  /health                 liveness: 200 {"status":"ok",...} while the process runs
//   GET  /ready                  readiness: 200 {"ready":true}, 503 {"ready":false} while draining or
//                                while the admission queue is full
//   GET  /metrics                Prometheus text format (JSON with ?format=json or Accept: application/json)
//
// Errors are {"error":{"code":"ERR_DECODE","message":"..."}} with a status from the IqaError code
// (ERR_INPUT 400, ERR_TOO_LARGE 413, ERR_DECODE 422, ERR_ABORTED 503 on timeout, ERR_BUSY 503
// with Retry-After when the admission limits are reached, ...).
//
// Admission: every scoring route goes through one shared Limiter (maxInFlight scoring calls
// running, maxQueued waiting): they all run on the same native threads. Beyond it a request is
// answered 503 ERR_BUSY at once, before its body is read (and, for a client that sends Expect:
// 100-continue, before the body is even sent); an admitted request holds its place while its body
// comes in, so none is shed after its upload.
// SIGTERM/SIGINT drain: /ready turns 503, the listener stops accepting, requests already admitted
// finish (new ones on open connections get 503 + Connection: close); work still running after
// the grace period is aborted (503), then the process exits 0.
//
// Run: node examples/server/server.mjs [--port 3000] [--host 127.0.0.1]
// Env: IQA_BODY_LIMIT (bytes), IQA_BODY_POOL_BYTES, IQA_VIDEO_BODY_LIMIT (bytes), IQA_VIDEO_TIMEOUT_MS, IQA_VIDEO_MAX_SECONDS, IQA_TIMEOUT_MS, IQA_LIMIT_PIXELS, IQA_METRIC, IQA_METRICS_RESET=1, IQA_LOG=0,
//      IQA_MAX_IN_FLIGHT, IQA_MAX_QUEUED, IQA_GRACE_MS, IQA_ORT_SPINNING=1.
// With --port 0 it prints {"listening":"http://127.0.0.1:PORT"} once it accepts connections.
//
// Scoring runs in native threads (iqa-node never scores on the event loop), so the handler only
// moves bytes; the event-loop delay is measured here and exported on /metrics to show it.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as perfConstants, createHistogram, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { ERROR_CODES, faceQuality, IqaError, Limiter, metricRegistry, probeVideo, registryCards, resolveMetric, versions, videoQuality } from 'iqa-node';
import { parseMultipart } from './multipart.mjs';
import { BodyPool } from './body-pool.mjs';

/** HTTP status for each IqaError code. */
export const STATUS_BY_CODE = {
  ERR_INPUT: 400,
  ERR_TOO_LARGE: 413,
  ERR_DECODE: 422,
  ERR_ABORTED: 503,
  ERR_BUSY: 503,
  ERR_DEVICE: 503,
  ERR_MODEL: 500,
  ERR_INTERNAL: 500,
};

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// monitorEventLoopDelay records the interval between timer ticks; the delay is that minus the
// resolution (as @fastify/under-pressure does). 1 ms keeps the sampling error small.
const ELD_RESOLUTION_MS = 1;
// GC pause kinds as perf_hooks reports them (scavenge = young generation; mark-compact = full).
const GC_KINDS = { [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact', [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks' };

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
  constructor(limiter, bodyPool) {
    this.limiter = limiter;
    this.bodyPool = bodyPool;
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.eld.enable();
    // GC pauses stop the event loop too: counted beside its delay to tell the two causes apart.
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcPauses.count++;
        this.gcPauses.totalMs += e.duration;
        this.gcPauses.maxMs = Math.max(this.gcPauses.maxMs, e.duration);
        const kind = GC_KINDS[e.detail?.kind] ?? 'other';
        this.gcPauses.byKind[kind] = (this.gcPauses.byKind[kind] ?? 0) + 1;
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.reset();
  }

  reset() {
    this.since = Date.now();
    this.requests = new Map(); // "route status" -> count
    this.errors = new Map(); // code -> count
    this.routes = new Map(); // route -> { hist (µs), buckets[], sum, count }
    // Scoring routes' 503s alone (shed or aborted), from the parsed request to the response: the server's part of a
    // client's 503 latency (the rest is the network stack and the client's own scheduling).
    this.unavailable = createHistogram();
    this.eld.reset();
    this.elu = performance.eventLoopUtilization();
    this.gcPauses = { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
    this.admission0 = this.limiter.stats();
  }

  /** The limiter's state, with its counters since the last reset. */
  admission() {
    const a = this.limiter.stats();
    return { ...a, admitted: a.admitted - this.admission0.admitted, rejected: a.rejected - this.admission0.rejected, abortedWhileQueued: a.abortedWhileQueued - this.admission0.abortedWhileQueued };
  }

  route(name) {
    let r = this.routes.get(name);
    if (!r) {
      r = { hist: createHistogram(), buckets: new Array(LATENCY_BUCKETS_S.length).fill(0), sum: 0, count: 0 };
      this.routes.set(name, r);
    }
    return r;
  }

  observe(route, status, ms, scoring = false) {
    const key = `${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const r = this.route(route);
    r.hist.record(Math.max(1, Math.round(ms * 1000)));
    r.sum += ms / 1000;
    r.count++;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (ms / 1000 <= LATENCY_BUCKETS_S[i]) r.buckets[i]++;
    if (scoring && status === 503) this.unavailable.record(Math.max(1, Math.round(ms * 1000)));
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
    return { since: new Date(this.since).toISOString(), requests, errors: Object.fromEntries(this.errors), latencyMs: latency, unavailableLatencyMs: { count: this.unavailable.count, p50: this.unavailable.count ? this.unavailable.percentile(50) / 1000 : 0, p99: this.unavailable.count ? this.unavailable.percentile(99) / 1000 : 0, max: this.unavailable.count ? this.unavailable.max / 1000 : 0 }, eventLoopDelayMs: this.eventLoopDelayMs(), eventLoopUtilization: performance.eventLoopUtilization(this.elu).utilization, gcPauses: this.gcPauses, admission: this.admission(), bodyPool: this.bodyPool?.toJSON() ?? null, rssBytes: process.memoryUsage.rss() };
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
    const a = this.admission();
    lines.push('# HELP iqa_admission_in_flight Scoring calls running.', '# TYPE iqa_admission_in_flight gauge', `iqa_admission_in_flight ${a.inFlight}`);
    lines.push('# HELP iqa_admission_queued Scoring calls waiting for a slot.', '# TYPE iqa_admission_queued gauge', `iqa_admission_queued ${a.queued}`);
    lines.push('# HELP iqa_admission_rejected_total Scoring calls shed with ERR_BUSY since the last reset.', '# TYPE iqa_admission_rejected_total counter', `iqa_admission_rejected_total ${a.rejected}`);
    return lines.join('\n') + '\n';
  }
}

// A rejected body is still read (and dropped) up to this much, so that the client, still sending,
// reads the 413 instead of a reset connection; past it the connection is destroyed.
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body into one Buffer of at most `limit` bytes: taken from `pool` by its
 * Content-Length (each socket chunk copied once, no chunk list, no concatenation; given back when
 * the response closes, see body-pool.mjs), the chunk itself when a chunked body came in one piece,
 * else one concatenation.
 */
function readBody(req, payload, limit, tooLarge, done, pool) {
  const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
  const discard = (err) => {
    let dropped = 0;
    payload.removeAllListeners('data');
    payload.on('data', (c) => {
      dropped += c.length;
      if (dropped > MAX_DISCARD_BYTES) req.socket.destroy();
    });
    payload.resume();
    // Handed on as the body, not as a parser error: Fastify closes the connection after a parser
    // error, and a client still sending would see a reset instead of the 413.
    done(null, { bodyError: err });
  };
  if (declared > limit) return discard(tooLarge());
  let whole = null;
  if (Number.isSafeInteger(declared) && pool) {
    const lease = pool.take(declared);
    whole = lease.buffer;
    req.releaseBody = lease.release;
  } else if (Number.isSafeInteger(declared)) whole = Buffer.allocUnsafe(declared);
  const chunks = [];
  let received = 0;
  const cleanup = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
  };
  function onData(chunk) {
    if (received + chunk.length > limit || (whole && received + chunk.length > whole.length)) {
      cleanup();
      return discard(received + chunk.length > limit ? tooLarge() : httpError(400, 'ERR_INPUT', 'request body longer than its Content-Length'));
    }
    if (whole) chunk.copy(whole, received);
    else chunks.push(chunk);
    received += chunk.length;
  }
  function onEnd() {
    cleanup();
    if (whole && received !== whole.length) return done(httpError(400, 'ERR_INPUT', 'request body shorter than its Content-Length'));
    done(null, whole ?? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)));
  }
  function onError(e) {
    cleanup();
    done(Object.assign(e, { statusCode: 400 }));
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
}

/**
 * Streams a request body into a new temp file of at most `limit` bytes (videos are too large to
 * hold in memory and libavformat reads files): `done(null, {file})`, or a bodyError as readBody.
 */
function spoolBody(req, payload, limit, tooLarge, done) {
  const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
  const dir = mkdtempSync(join(tmpdir(), 'iqa-upload-'));
  const file = join(dir, 'upload');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  let failed = false;
  const fail = (err) => {
    failed = true;
    remove();
    payload.unpipe();
    payload.resume(); // drop the rest, so the client reads the answer instead of a reset
    done(null, { bodyError: err });
  };
  if (declared > limit) return fail(tooLarge());
  const out = createWriteStream(file);
  let received = 0;
  payload.on('data', (c) => {
    if (failed) return;
    received += c.length;
    if (received > limit) {
      out.destroy();
      fail(tooLarge());
    }
  });
  payload.on('error', (e) => {
    out.destroy();
    remove();
    done(Object.assign(e, { statusCode: 400 }));
  });
  out.on('error', (e) => {
    remove();
    done(e);
  });
  out.on('finish', () => {
    if (failed) return;
    done(null, { file, remove });
  });
  payload.pipe(out);
}

/**
 * Builds the Fastify app (not listening). Options:
 *   bodyLimit        largest request body / uploaded file in bytes (default 16 MiB)
 *   videoBodyLimit   largest uploaded video in bytes (default 256 MiB; spooled to a temp file)
 *   videoTimeoutMs   per-video scoring deadline (default 120 s)
 *   videoMaxSeconds  longest video accepted, by its header, and the time range scored (default 600)
 *   videoMaxFrames   most frames scored per video (default 3000; ?maxFrames= may ask for fewer)
 *   timeoutMs        per-request scoring deadline, wired to the call's AbortSignal; time spent
 *                    queued for admission counts (default 10 s)
 *   limitInputPixels largest decoded image in pixels (default 40 MP): ERR_TOO_LARGE before decoding
 *   defaultMetric    metric when ?metric= is absent (default brisque when registered, else sharpness)
 *   maxInFlight      scoring calls running at once, all routes together (default: the cores)
 *   maxQueued        scoring calls waiting for a slot; beyond it 503 ERR_BUSY (default 2 x maxInFlight)
 *   limiter          an iqa-node Limiter to share with other work in the process (instead of the two above)
 *   retryAfterS      Retry-After of a 503 (default 1)
 *   bodyPoolBytes    request-body buffers kept for reuse, in bytes (default 64 MiB; 0: none), so that
 *                    uploads do not drive full garbage collections (examples/server/body-pool.mjs)
 *   ortSpinning      let deep models' ONNX Runtime threads spin between runs (default false: they
 *                    would compete with the event loop for the cores)
 *   graceMs          drain(): how long admitted work may finish before it is aborted (default 10 s)
 *   metricsReset     expose POST /metrics/reset (benchmarks read one load level at a time)
 *   logger           Fastify logger option (default false)
 * The app is decorated with `drain()` (what SIGTERM runs) and `iqaLimiter`.
 */
export function buildServer(options = {}) {
  const bodyLimit = options.bodyLimit ?? 16 * 1024 * 1024;
  const videoBodyLimit = options.videoBodyLimit ?? 256 * 1024 * 1024;
  const videoTimeoutMs = options.videoTimeoutMs ?? 120_000;
  const videoMaxSeconds = options.videoMaxSeconds ?? 600;
  const videoMaxFrames = options.videoMaxFrames ?? 3000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limitInputPixels = options.limitInputPixels ?? 40_000_000;
  const defaultMetric = options.defaultMetric ?? DEFAULT_METRIC;
  const retryAfterS = options.retryAfterS ?? 1;
  const graceMs = options.graceMs ?? 10_000;
  const maxInFlight = options.maxInFlight ?? availableParallelism();
  const limiter = options.limiter ?? new Limiter({ maxInFlight, maxQueued: options.maxQueued ?? 2 * maxInFlight });
  // Routes take every name the registry resolves (registered metrics and models in the model directories).
  const entryOf = (name) => {
    try {
      return resolveMetric(name);
    } catch (e) {
      if (e instanceof IqaError && e.code === 'ERR_INPUT') return undefined;
      throw e;
    }
  };
  // ONNX Runtime's idle threads spin between runs by default; in a server they take the cores from
  // the event loop and from the next requests' decoding. Deep models therefore run with
  // allowSpinning false unless ortSpinning (bench/results/server-load-2026-12-07b.txt).
  const ortSpinning = options.ortSpinning ?? false;
  const callOptions = (entry) => entry.options(!ortSpinning && entry.card.options?.allowSpinning ? { option: { allowSpinning: false } } : {});
  // Deep models that have scored here, for /metrics' `models` (each one's shared Model and its settings).
  const usedModels = new Map();
  if (entryOf(defaultMetric)?.kind !== 'nr') throw new IqaError('ERR_INPUT', `default metric '${defaultMetric}' is not a registered no-reference metric (known: ${Object.keys(metricRegistry).join(', ')})`);
  // bodyPoolBytes 0: every body a fresh Buffer (as before the pool).
  const bodyPool = options.bodyPoolBytes === 0 ? undefined : new BodyPool({ maxPooledBytes: options.bodyPoolBytes ?? 64 * 1024 * 1024, maxBufferBytes: Math.min(bodyLimit, 8 * 1024 * 1024) });
  const metrics = new ServerMetrics(limiter, bodyPool);
  // Fires when the drain's grace period is over: every scoring call still running is aborted.
  const drainAbort = new AbortController();
  let draining = false;
  let openRequests = 0;
  let requestsIdle;

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // Bounds slow uploads (the scoring deadline starts once the body is in).
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });
  app.decorate('iqaMetrics', metrics);
  app.decorate('iqaLimiter', limiter);
  app.addHook('onClose', async () => {
    metrics.eld.disable();
    metrics.gc.disconnect();
  });
  // Load the default metric (its model, for BRISQUE) before the first request instead of during it.
  app.addHook('onReady', async () => {
    const entry = entryOf(defaultMetric);
    const data = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    await entry.fn({ data, width: 64, height: 64, channels: 3 }, callOptions(entry)).catch(() => undefined);
  });

  // Bodies arrive as one Buffer (bounded by bodyLimit): raw images as is, multipart split into
  // views of it (examples/server/multipart.mjs), so image bytes reach native code uncopied.
  const tooLarge = () => new IqaError('ERR_TOO_LARGE', `request body larger than the ${bodyLimit}-byte limit`);
  app.addContentTypeParser(['application/octet-stream', /^image\/[\w.+-]+$/], (req, payload, done) => readBody(req, payload, bodyLimit, tooLarge, done, bodyPool));
  app.addContentTypeParser('multipart/form-data', (req, payload, done) =>
    readBody(
      req,
      payload,
      bodyLimit,
      tooLarge,
      (err, body) => {
        if (err || body.bodyError) return done(err, body);
        try {
          done(null, { multipart: parseMultipart(body, req.headers['content-type']) });
        } catch (e) {
          done(e);
        }
      },
      bodyPool,
    ),
  );

  const tooLargeVideo = () => new IqaError('ERR_TOO_LARGE', `video larger than the ${videoBodyLimit}-byte limit`);
  app.addContentTypeParser(/^video\/[\w.+-]+$/, (req, payload, done) => spoolBody(req, payload, videoBodyLimit, tooLargeVideo, done));

  // Why a scoring request is shed now (draining, or the limiter full), or undefined to admit it.
  const DRAINING = 'the server is shutting down';
  const busyMessage = () => `busy: ${limiter.inFlight} scoring calls running and ${limiter.queued + limiter.reserved} waiting; retry later`;
  const shedReason = () => (draining ? DRAINING : limiter.saturated ? busyMessage() : undefined);
  const busy = (reply, message) => {
    metrics.error('ERR_BUSY');
    reply.header('retry-after', String(retryAfterS));
    if (draining) reply.header('connection', 'close');
    return reply.code(503).send({ error: { code: 'ERR_BUSY', message } });
  };

  // Expect: 100-continue: a full (or draining) server answers 503 before the client sends its
  // body, so a shed upload costs neither bandwidth nor the allocations of reading it. Otherwise
  // the client is told to continue and the request goes to Fastify as usual (Node would send the
  // 100 itself without this listener, before the onRequest hook below could shed it).
  const scoringPaths = new Set();
  app.addHook('onRoute', (route) => {
    if (route.config?.scoring) scoringPaths.add(route.url);
  });
  app.server.on('checkContinue', (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const message = scoringPaths.has(path) ? shedReason() : undefined;
    if (message) {
      const t0 = performance.now();
      metrics.error('ERR_BUSY');
      const body = JSON.stringify({ error: { code: 'ERR_BUSY', message } });
      // Connection: close, as the body was never asked for: a client that sends it anyway does so on a closing connection.
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': String(retryAfterS), connection: 'close' });
      res.end(body);
      metrics.observe(path, 503, performance.now() - t0, true);
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  app.addHook('onRequest', async (req, reply) => {
    openRequests++;
    reply.raw.once('close', () => {
      req.releaseBody?.();
      if (--openRequests === 0) requestsIdle?.();
    });
    if (!req.routeOptions?.config?.scoring) return;
    // Shed before the body is read: a full server answers in the time it takes to parse headers.
    // An admitted request holds its place while its body comes in (Limiter.reserve), so that the
    // decision is final: no request is shed after its upload.
    if (draining) return busy(reply, DRAINING);
    const reservation = limiter.reserve();
    if (!reservation) return busy(reply, busyMessage());
    req.iqaReservation = reservation;
    reply.raw.once('close', () => reservation.release());
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.observe(route, reply.statusCode, reply.elapsedTime, req.routeOptions?.config?.scoring === true);
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
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `request body larger than the ${bodyLimit}-byte limit`;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify client errors (unsupported media type, malformed JSON, ...).
      code = 'ERR_INPUT';
      status = err.statusCode;
    } else {
      code = 'ERR_INTERNAL';
      status = 500;
      req.log.error(err);
    }
    metrics.error(code);
    if (status === 503) reply.header('retry-after', String(retryAfterS));
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
   * Runs `call(signal)` under the request deadline; a client that hangs up, or the end of the
   * drain's grace period, aborts it too. Those become ERR_ABORTED (503) with a message that says why.
   */
  async function withDeadline(reply, call, deadlineMs = timeoutMs) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort('timeout'), deadlineMs);
    const onClose = () => {
      if (!reply.raw.writableEnded) ac.abort('client closed the connection');
    };
    const onDrain = () => ac.abort('shutdown');
    reply.raw.once('close', onClose);
    drainAbort.signal.addEventListener('abort', onDrain, { once: true });
    try {
      return await call(ac.signal);
    } catch (e) {
      if (e?.code === 'ERR_ABORTED' && ac.signal.reason === 'timeout') throw new IqaError('ERR_ABORTED', `scoring exceeded the ${deadlineMs} ms request timeout`);
      if (e?.code === 'ERR_ABORTED' && ac.signal.reason === 'shutdown') throw new IqaError('ERR_ABORTED', `the server shut down before scoring finished (${graceMs} ms grace period)`);
      throw e;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      drainAbort.signal.removeEventListener('abort', onDrain);
    }
  }

  /** The file parts named in `names` of a parsed multipart body; any other part is an input error. */
  function formFiles(body, names) {
    const files = {};
    for (const part of body.multipart) {
      if (part.filename === undefined || !names.includes(part.name)) throw new IqaError('ERR_INPUT', `unexpected multipart field '${part.name}' (expected file fields: ${names.join(', ')})`);
      if (files[part.name]) throw new IqaError('ERR_INPUT', `multipart file field '${part.name}' sent twice`);
      files[part.name] = part.data;
    }
    for (const n of names) if (!files[n]) throw new IqaError('ERR_INPUT', `missing multipart file field '${n}'`);
    return files;
  }
  const isMultipart = (req) => Array.isArray(req.body?.multipart);

  /**
   * A scoring route: `inputs(req)` gives the images, the entry of ?metric= (of `kind`) scores them
   * through the shared limiter under the request deadline. Every scoring route is one of these,
   * so admission, shedding, draining and the response shape are the same for all.
   */
  function scoringRoute(path, { kind, metric, inputs, score = (entry, images, opts) => entry.fn(...images, opts) }) {
    app.post(path, { config: { scoring: true } }, async (req, reply) => {
      const name = req.query.metric ?? metric;
      const entry = lookup(name, kind);
      if (req.body?.bodyError) throw req.body.bodyError;
      const images = inputs(req);
      const t0 = performance.now();
      const value = await withDeadline(reply, (signal) => limiter.run(signal, () => score(entry, images, { ...callOptions(entry), signal, limitInputPixels }), req.iqaReservation));
      if (typeof entry.fn.model === 'function' && !usedModels.has(entry.card.name)) usedModels.set(entry.card.name, entry);
      return { metric: name, score: jsonNumber(value), ms: performance.now() - t0 };
    });
  }

  scoringRoute('/score', {
    kind: 'nr',
    metric: defaultMetric,
    inputs: (req) => {
      const image = isMultipart(req) ? formFiles(req.body, ['file']).file : req.body;
      if (!Buffer.isBuffer(image)) throw httpError(req.headers['content-type'] ? 415 : 400, 'ERR_INPUT', 'send the image as the request body (Content-Type image/* or application/octet-stream) or as multipart field `file`');
      return [image];
    },
  });

  scoringRoute('/compare', {
    kind: 'fr',
    metric: 'psnr',
    inputs: (req) => {
      if (!isMultipart(req)) throw httpError(415, 'ERR_INPUT', 'send multipart/form-data with file fields `ref` and `dist`');
      const { ref, dist } = formFiles(req.body, ['ref', 'dist']);
      return [ref, dist];
    },
  });

  const positiveQuery = (req, key) => {
    const v = req.query[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new IqaError('ERR_INPUT', `?${key}= must be a positive integer`);
    return n;
  };

  // One video per request, admitted as one scoring call: its frames are scored in chunks off the
  // event loop, and the spooled file is removed whatever happens.
  app.post('/video/score', { config: { scoring: true } }, async (req, reply) => {
    try {
      const name = req.query.metric ?? defaultMetric;
      const card = registryCards().find((c) => c.name === name);
      if (card?.kind !== 'video') lookup(name, 'nr');
      if (req.body?.bodyError) throw req.body.bodyError;
      if (!req.body?.file) throw httpError(req.headers['content-type'] ? 415 : 400, 'ERR_INPUT', 'send the video as the request body with Content-Type video/*');
      const step = positiveQuery(req, 'step');
      const maxFrames = Math.min(positiveQuery(req, 'maxFrames') ?? videoMaxFrames, videoMaxFrames);
      const t0 = performance.now();
      const r = await withDeadline(
        reply,
        (signal) =>
          limiter.run(
            signal,
            async () => {
              const info = await probeVideo(req.body.file, { limitInputPixels });
              if (info.duration > videoMaxSeconds) throw new IqaError('ERR_TOO_LARGE', `video is ${info.duration.toFixed(1)} s long; the limit is ${videoMaxSeconds} s`);
              return videoQuality(req.body.file, { metric: name, step, maxFrames, end: videoMaxSeconds, signal, limitInputPixels });
            },
            req.iqaReservation,
          ),
        videoTimeoutMs,
      );
      const pooled = Object.fromEntries(Object.entries(r.pooled).map(([k, x]) => [k, jsonNumber(x)]));
      return { metric: name, frames: r.frames, score: jsonNumber(r.score), pooled, info: r.info, ms: performance.now() - t0 };
    } finally {
      req.body?.remove?.();
    }
  });

  // Face quality: ?method=NAME (a face descriptor in the model directories; omitted: detection
  // only), ?maxFaces=N. One record per face, or failure NO_FACE; crops and embeddings stay out.
  app.post('/face/score', { config: { scoring: true } }, async (req, reply) => {
    if (req.body?.bodyError) throw req.body.bodyError;
    const image = isMultipart(req) ? formFiles(req.body, ['file']).file : req.body;
    if (!Buffer.isBuffer(image)) throw httpError(req.headers['content-type'] ? 415 : 400, 'ERR_INPUT', 'send the image as the request body (Content-Type image/* or application/octet-stream) or as multipart field `file`');
    const method = req.query.method;
    if (method !== undefined && !/^[a-z0-9][a-z0-9._-]*$/i.test(method)) throw new IqaError('ERR_INPUT', 'method must be a model name (letters, digits, . _ -)');
    const maxFaces = positiveQuery(req, 'maxFaces');
    const t0 = performance.now();
    const r = await withDeadline(reply, (signal) => limiter.run(signal, () => faceQuality(image, { method, maxFaces, signal, limitInputPixels }), req.iqaReservation));
    return { method: method ?? null, faces: r.faces.map(({ crop: _c, embedding: _e, ...f }) => f), failure: r.failure, ms: performance.now() - t0 };
  });

  let v; // versions() asks the addon and ONNX Runtime: once is enough
  app.get('/health', async () => {
    v ??= versions();
    return { status: 'ok', draining, iqaNode: v.iqaNode, opencv: v.opencv, metrics: Object.keys(metricRegistry), defaultMetric, uptimeS: process.uptime() };
  });

  // Readiness: whether a load balancer should send this instance more work now.
  app.get('/ready', async (_req, reply) => {
    const ready = !draining && !limiter.saturated;
    reply.code(ready ? 200 : 503);
    return { ready, draining, inFlight: limiter.inFlight, queued: limiter.queued, reserved: limiter.reserved, maxInFlight: limiter.maxInFlight, maxQueued: limiter.maxQueued };
  });

  // The registry's cards: what /score and /compare accept, with licences and options.
  app.get('/models', async () => ({ models: registryCards() }));

  // The loaded deep models as they run: device, threads' spinning, batches and rows so far.
  const modelsJson = async () => {
    const out = {};
    for (const [name, entry] of usedModels) {
      const i = (await entry.fn.model(callOptions(entry))).info();
      out[name] = { device: i.device, allowSpinning: i.allowSpinning, maxBatch: i.maxBatch, batches: i.batches, rows: i.rows };
    }
    return out;
  };

  app.get('/metrics', async (req, reply) => {
    const wantsJson = req.query.format === 'json' || /application\/json/.test(req.headers.accept ?? '');
    if (wantsJson) return { ...metrics.toJSON(), models: await modelsJson() };
    reply.type('text/plain; version=0.0.4');
    return metrics.toPrometheus();
  });

  if (options.metricsReset) {
    app.post('/metrics/reset', async () => {
      metrics.reset();
      return { reset: true };
    });
  }

  /**
   * Graceful shutdown: readiness off, stop accepting connections, let the requests already in
   * finish for up to `grace` ms, abort what is still running (those answer 503), then close.
   * Resolves with what happened; idempotent.
   */
  let drained;
  app.decorate('drain', (grace = graceMs) => {
    drained ??= (async () => {
      const t0 = performance.now();
      draining = true;
      // Stops listening; idle keep-alive connections are closed, busy ones once they answer.
      app.server.close();
      const requestsDone = new Promise((resolve) => {
        requestsIdle = resolve;
        if (openRequests === 0) resolve();
      });
      let timer;
      const graceOver = new Promise((resolve) => (timer = setTimeout(() => resolve('grace'), grace)));
      const first = await Promise.race([requestsDone.then(() => 'done'), graceOver]);
      clearTimeout(timer);
      if (first === 'grace') {
        drainAbort.abort();
        // Aborted calls answer 503 at once; a request still reading its body is cut off after 1 s.
        await Promise.race([requestsDone, new Promise((r) => setTimeout(r, 1000))]);
      }
      await app.close();
      return { abortedAfterGrace: first === 'grace', ms: performance.now() - t0 };
    })();
    return drained;
  });

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
    videoTimeoutMs: num(process.env.IQA_VIDEO_TIMEOUT_MS),
    videoMaxSeconds: num(process.env.IQA_VIDEO_MAX_SECONDS),
    timeoutMs: num(process.env.IQA_TIMEOUT_MS),
    limitInputPixels: num(process.env.IQA_LIMIT_PIXELS),
    defaultMetric: process.env.IQA_METRIC || undefined,
    metricsReset: process.env.IQA_METRICS_RESET === '1',
    maxInFlight: num(process.env.IQA_MAX_IN_FLIGHT),
    maxQueued: num(process.env.IQA_MAX_QUEUED),
    graceMs: num(process.env.IQA_GRACE_MS),
    ortSpinning: process.env.IQA_ORT_SPINNING === '1',
    bodyPoolBytes: num(process.env.IQA_BODY_POOL_BYTES),
  });
  const port = Number(arg('port', process.env.PORT ?? 3000));
  const host = arg('host', process.env.HOST ?? '127.0.0.1');
  const address = await app.listen({ port, host });
  // One machine-readable line for scripts that start the server on an ephemeral port.
  process.stdout.write(JSON.stringify({ listening: address }) + '\n');
  const shutdown = (sig) => {
    process.stdout.write(JSON.stringify({ draining: sig }) + '\n');
    app.drain().then(
      (r) => {
        process.stdout.write(JSON.stringify({ drained: r }) + '\n');
        process.exit(0);
      },
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => shutdown(sig));
}
