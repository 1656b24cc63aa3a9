// VSFA on CPU, full-size ResNet-50 features (seeded backbone, the authors' real VSFA.pt head when
// ../shared has it), every frame at full resolution, side by side in one run:
//   ours     videoQuality(path, {model}): libavcodec decode, native normalise + pack, the ORT
//            feature graph in batches of 32 frames, the GRU graph per chunk with its state
//   pytorch  scripts/golden/vsfa_reference.py: the authors' procedure (ffmpeg rgb24 frames, PIL +
//            torchvision transforms, ResNet-50 children[:-2], mean/std pooling, GRU, TP) in eager mode
// Both score the same first --frames frames, with the same thread count; scores and the ratio printed.
//
//   node bench/vsfa.mjs [--frames 32] [--threads 2] [--batch 32 (ours; the reference keeps the authors' 32)] [--video PATH]
// Needs dist/, /work/pyenv (or IQA_PYTHON) with torch + torchvision + onnx; the export (95 MB) is
// cached in $IQA_BENCH_CACHE (/tmp/iqa-bench).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const iqa = require(join(root, 'dist/cjs/index.js'));

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const FRAMES = Number(arg('frames', 32));
const THREADS = Number(arg('threads', cpus().length));
const BATCH = Number(arg('batch', 32));
const video = arg('video', join(root, '..', 'shared', 'data', 'video', 'vsfa_test.mp4'));
const head = join(root, '..', 'shared', 'models', 'vsfa', 'VSFA.pt');
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
const cache = join(process.env.IQA_BENCH_CACHE ?? join(tmpdir(), 'iqa-bench'), 'vsfa');
const manifest = join(cache, 'vsfa.json');
const state = join(cache, 'state.pt');
if (!existsSync(video)) {
  console.log(`no video at ${video} (pass --video PATH)`);
  process.exit(0);
}
if (!existsSync(manifest) || !existsSync(state)) {
  mkdirSync(cache, { recursive: true });
  const weights = existsSync(head) ? ['--checkpoint', head] : ['--weights', 'random'];
  console.log(`exporting VSFA (ResNet-50 seeded, head: ${existsSync(head) ? 'VSFA.pt' : 'seeded'}) to ${cache} ...`);
  execFileSync(python, [join(root, 'tools/export/export_vsfa.py'), ...weights, '--seed', '5', '--out-dir', cache, '--save-state', state], { stdio: ['ignore', 'inherit', 'ignore'] });
}

const info = await iqa.probeVideo(video);
console.log(`${video}: ${info.width}x${info.height}, first ${FRAMES} frames, ${THREADS} threads, our frame batch ${BATCH}`);

const t0 = performance.now();
const ours = await iqa.videoQuality(video, { model: manifest, maxFrames: FRAMES, load: { intraOpThreads: THREADS, frameBatch: BATCH } });
const oursS = (performance.now() - t0) / 1000;
const rssMb = process.memoryUsage().rss / 2 ** 20;

const ref = JSON.parse(
  execFileSync(python, [join(root, 'scripts/golden/vsfa_reference.py'), '--state', state, '--config', 'full', '--max-frames', String(FRAMES), '--threads', String(THREADS), video], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 26,
  }),
).videos[video.split('/').pop()];

const rows = [
  ['ours (ORT)', oursS, ours.score],
  ['pytorch reference', ref.seconds, ref.score],
];
console.log('pipeline            s      frames/s  score');
for (const [name, s, score] of rows) console.log(`${name.padEnd(18)} ${s.toFixed(2).padStart(6)}  ${(FRAMES / s).toFixed(3).padStart(8)}  ${score.toFixed(7)}`);
console.log(`ratio ours / pytorch: ${(ref.seconds / oursS).toFixed(2)}x frames/s; |score diff| ${Math.abs(ours.score - ref.score).toExponential(2)}; our RSS ${rssMb.toFixed(0)} MB`);
