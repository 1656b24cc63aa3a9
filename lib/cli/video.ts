// `iqa video compare|score`: per-frame or pooled records as JSONL or CSV, a progress bar
// (frames/s, ETA) on a TTY, --resume for `video score` over many videos.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { concurrency as setConcurrency } from '../core/config';
import { IqaError, toIqaError } from '../core/errors';
import { compareVideos, probeVideo, VIDEO_FR_METRICS, type VideoFrMetric } from '../video/compare';
import type { Pooled } from '../video/pooling';
import { videoQuality } from '../video/quality';
import type { FrameSelection, VideoInput } from '../video/source';
import { zooCards } from '../deep/zoo';
import { resolveMetric } from '../registry';
import { metricOptionFlags } from './metric-options';
import { csvField, jsonLine } from './output';
import { nonNegativeNumber, positiveInt } from './parsers';
import { readDone } from './score';

type VideoFormat = 'jsonl' | 'csv';

interface SelectionFlags {
  start?: number;
  end?: number;
  step?: number;
  maxFrames?: number;
  raw?: string;
  threads?: number;
  perFrame?: boolean;
  format: VideoFormat;
  out?: string;
  progress?: boolean;
}

const POOLED_KEYS: (keyof Pooled)[] = ['mean', 'harmonicMean', 'min', 'max', 'p5', 'p50', 'p95'];


/** `--raw WIDTHxHEIGHT[@FPS]`: the inputs are raw yuv420p files of that geometry. */
function videoInput(path: string, raw: string | undefined): VideoInput {
  if (!raw) return path;
  const m = /^(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$/.exec(raw);
  if (!m) throw new IqaError('ERR_INPUT', `--raw must be WIDTHxHEIGHT[@FPS], got '${raw}'`);
  return { path, width: Number(m[1]), height: Number(m[2]), ...(m[3] ? { fps: Number(m[3]) } : {}) };
}

function selection(o: SelectionFlags): FrameSelection {
  return { start: o.start, end: o.end, step: o.step, maxFrames: o.maxFrames, decodeThreads: o.threads };
}


class Output {
  private fd?: number;
  private columns?: string[];
  constructor(
    private readonly format: VideoFormat,
    out: string | undefined,
    append: boolean,
    private headerWritten = false,
  ) {
    if (out) this.fd = openSync(out, append ? 'a' : 'w');
  }
  /** One flat record; CSV takes its columns from the first record. */
  write(rec: Record<string, unknown>): void {
    if (this.format === 'jsonl') return this.emit(jsonLine(rec));
    if (!this.columns) {
      this.columns = Object.keys(rec);
      if (!this.headerWritten) this.emit(this.columns.join(',') + '\n');
      this.headerWritten = true;
    }
    this.emit(this.columns.map((c) => csvField(rec[c] === undefined ? '' : String(rec[c]))).join(',') + '\n');
  }
  setColumns(cols: string[]): void {
    this.columns = cols;
    if (this.format === 'csv' && !this.headerWritten) this.emit(cols.join(',') + '\n');
    this.headerWritten = true;
  }
  private emit(text: string): void {
    if (this.fd !== undefined) writeSync(this.fd, text);
    else process.stdout.write(text);
  }
  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

function flatPooled(prefix: string, p: Pooled): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of POOLED_KEYS) o[`${prefix}${k}`] = p[k];
  return o;
}

async function progressBar(input: VideoInput, sel: FrameSelection, show: boolean) {
  if (!show) return undefined;
  const info = await probeVideo(input, sel).catch(() => undefined);
  let total = info && info.frameCount > 0 ? Math.ceil(info.frameCount / (sel.step ?? 1)) : 0;
  if (sel.maxFrames) total = total ? Math.min(total, sel.maxFrames) : sel.maxFrames;
  const bar = new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} frames | {rate} frames/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }, undefined);
  const t0 = performance.now();
  bar.start(total || 1, 0, { rate: '0' });
  return {
    update: (n: number) => bar.update(n, { rate: (n / ((performance.now() - t0) / 1000)).toFixed(0) }),
    stop: () => bar.stop(),
  };
}

async function compareCommand(ref: string, dist: string, o: SelectionFlags & { metrics: string }): Promise<number> {
  const metrics = o.metrics.split(',').map((s) => s.trim()) as VideoFrMetric[];
  const sel = selection(o);
  const refIn = videoInput(ref, o.raw), distIn = videoInput(dist, o.raw);
  const out = new Output(o.format, o.out, false);
  const bar = await progressBar(refIn, sel, (o.progress ?? true) && process.stderr.isTTY === true);
  const t0 = performance.now();
  let frames = 0;
  try {
    if (o.perFrame) {
      for await (const f of compareVideos.stream(refIn, distIn, { ...sel, metrics, onProgress: (n) => bar?.update(n) })) {
        out.write({ input: dist, ref, frame: f.index, time: f.time, ...f.values });
        frames++;
      }
    } else {
      const r = await compareVideos(refIn, distIn, { ...sel, metrics, onProgress: (n) => bar?.update(n) });
      frames = r.frames;
      const rec: Record<string, unknown> = { input: dist, ref, frames: r.frames, unmatchedRef: r.unmatchedFrames.ref, unmatchedDist: r.unmatchedFrames.dist };
      if (r.ffmpeg.psnr) Object.assign(rec, { psnr_y: r.ffmpeg.psnr.y, psnr_u: r.ffmpeg.psnr.u, psnr_v: r.ffmpeg.psnr.v, psnr_avg: r.ffmpeg.psnr.average });
      if (r.ffmpeg.ssim) Object.assign(rec, { ssim_y: r.ffmpeg.ssim.y, ssim_u: r.ffmpeg.ssim.u, ssim_v: r.ffmpeg.ssim.v, ssim_all: r.ffmpeg.ssim.all });
      for (const [col, p] of Object.entries(r.pooled)) Object.assign(rec, flatPooled(`${col}_`, p));
      out.write(rec);
    }
  } finally {
    bar?.stop();
    out.close();
  }
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`iqa video compare: ${frames} frames in ${secs.toFixed(2)} s (${(frames / secs).toFixed(0)} frames/s)\n`);
  return 0;
}

async function scoreCommand(paths: string[], o: SelectionFlags & { metric: string; option?: string[]; variant?: string; model?: string; range?: string; resume?: boolean; vsfaTau?: number; vsfaBeta?: number }): Promise<number> {
  if (o.resume && !o.out) throw new IqaError('ERR_INPUT', '--resume needs --out FILE');
  if (o.resume && o.perFrame) throw new IqaError('ERR_INPUT', '--resume works on pooled records (one per video), not with --per-frame');
  const previous = o.resume ? readDone(o.out as string, o.format) : { done: new Set<string>(), failed: 0 };
  const todo = paths.filter((p) => !previous.done.has(p));
  const out = new Output(o.format, o.out, !!o.resume, !!o.resume && previous.done.size > 0);
  const sel = selection(o);
  const options = [...(o.option ?? []), ...(['variant', 'model', 'range'] as const).filter((k) => o[k] !== undefined).map((k) => `${k}=${o[k]}`)];
  // The metric and its options are checked once, before any video: a mistake there is a usage error.
  // A video model (card kind 'video', e.g. vsfa) takes --model as its manifest; an image metric's
  // options go to its card.
  const videoModel = zooCards().get(o.metric)?.kind === 'video';
  if (!videoModel) {
    const entry = resolveMetric(o.metric);
    if (entry.kind !== 'nr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a full-reference metric: use iqa video compare`);
    entry.options({ option: options });
  } else if (o.option?.length || o.variant !== undefined || o.range !== undefined) {
    throw new IqaError('ERR_INPUT', `'${o.metric}' is a video model: it takes --model MANIFEST only`);
  }
  const vsfa = { tau: o.vsfaTau, beta: o.vsfaBeta };
  const metric = videoModel ? { metric: o.metric, model: o.model } : { metric: o.metric, options };
  const pooledColumns = ['input', 'metric', 'frames', 'score', ...POOLED_KEYS, 'vsfa', 'error_code', 'error_message'];
  if (!o.perFrame) out.setColumns(pooledColumns);
  let failed = 0;
  const show = (o.progress ?? true) && process.stderr.isTTY === true;
  try {
    for (const path of todo) {
      const input = videoInput(path, o.raw);
      const bar = await progressBar(input, sel, show);
      try {
        if (o.perFrame) {
          for await (const f of videoQuality.stream(input, { ...sel, ...metric, vsfa, onProgress: (n) => bar?.update(n) })) {
            out.write({ input: path, metric: o.metric, frame: f.index, time: f.time, score: f.error ? undefined : f.score, error_code: f.error?.code, error_message: f.error?.message });
            if (f.error) failed++;
          }
        } else {
          const r = await videoQuality(input, { ...sel, ...metric, vsfa, onProgress: (n) => bar?.update(n) });
          out.write({ input: path, metric: o.metric, frames: r.frames, score: r.score, ...r.pooled });
        }
      } catch (e) {
        const err = toIqaError(e);
        failed++;
        out.write(o.format === 'jsonl' ? { input: path, metric: o.metric, error: { code: err.code, message: err.message } } : { input: path, metric: o.metric, error_code: err.code, error_message: err.message });
      } finally {
        bar?.stop();
      }
    }
  } finally {
    out.close();
  }
  process.stderr.write(`iqa video score: ${todo.length - failed} videos scored, ${failed} failed${previous.done.size ? `, skipped ${paths.length - todo.length} already in ${o.out}` : ''}\n`);
  return failed + previous.failed > 0 ? 1 : 0;
}

function selectionFlags(c: Command): Command {
  return c
    .option('--start <seconds>', 'first frame at or after this time', nonNegativeNumber)
    .option('--end <seconds>', 'stop before this time', nonNegativeNumber)
    .option('--step <n>', 'every n-th frame', positiveInt)
    .option('--max-frames <n>', 'at most n frames', positiveInt)
    .option('--raw <WxH[@fps]>', 'the inputs are raw yuv420p files of this size')
    .option('--threads <n>', 'decoding threads per video and scoring threads', positiveInt)
    .option('--per-frame', 'one record per frame (default: one pooled record)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <file>', 'write records to a file instead of stdout')
    .option('--no-progress', 'no progress bar (it is shown only on a TTY anyway)');
}

export function registerVideo(program: Command): void {
  const video = program.command('video').description('video quality: full-reference comparison and per-frame no-reference scores');
  selectionFlags(
    video
      .command('compare')
      .description("compare a distorted video with its reference frame by frame (PSNR and SSIM as ffmpeg's filters, MS-SSIM, GMSD)")
      .argument('<ref>', 'reference video')
      .argument('<dist>', 'distorted video')
      .option('--metrics <list>', `comma-separated: ${VIDEO_FR_METRICS.join(', ')}`, 'psnr,ssim'),
  ).action(async (ref: string, dist: string, o: SelectionFlags & { metrics: string; threads?: number }) => {
    if (o.threads) setConcurrency(o.threads);
    process.exitCode = await compareCommand(ref, dist, o);
  });
  metricOptionFlags(
    selectionFlags(
      video
        .command('score')
        .description('score the frames of videos with a no-reference metric and pool them over time (mean, harmonic mean, percentiles, VSFA)')
        .argument('<videos...>', 'video files')
        .option('--metric <name>', 'no-reference metric of the registry, or a video model (vsfa)', 'brisque')
        .option('--resume', 'skip videos already recorded in --out (and append)')
        .option('--vsfa-tau <n>', "VSFA pooling's τ (frames)", positiveInt)
        .option('--vsfa-beta <x>', "VSFA pooling's β", nonNegativeNumber),
    ),
  ).action(async (paths: string[], o: SelectionFlags & { metric: string; threads?: number }) => {
    if (o.threads) setConcurrency(o.threads);
    process.exitCode = await scoreCommand(paths, o);
  });
}
