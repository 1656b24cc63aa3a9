// BRISQUE speed: OpenCV's cv::quality::QualityBRISQUE vs iqa-node's (variant opencv), and
// batch scaling over cores.
//  1. One core, per image: native/tools/brisque_bench times both on the same decoded 512x512
//     BIQ2021 images in one process (cv::setNumThreads(1)) and checks they agree.
//  2. Batch: brisque.batch() over N pre-decoded images (raw pixels, so JPEG decoding is not
//     timed) with concurrency 1 vs all cores.
//  3. Whole process, decode included, on one core (taskset -c 0 for both): `iqa score --metric
//     brisque --concurrency 1` over all the BIQ2021 JPEGs against native/tools/
//     opencv_brisque_files (cv::imread + QualityBRISQUE), scores compared.
// Usage: node bench/brisque.mjs [perImageCount=100] [batchCount=1000] [wholeCount=all]
// Needs ../shared/data/biq2021 and a built addon (npm run build); builds the tool if missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { brisque, preprocess, concurrency } = require(join(root, 'dist/cjs/index.js'));
const imagesDir = join(root, '..', 'shared', 'data', 'biq2021', 'images');
if (!existsSync(imagesDir)) {
  console.error(`no ${imagesDir}: the benchmark needs the shared BIQ2021 images`);
  process.exit(1);
}
const perImage = Number(process.argv[2] ?? 100);
const batchCount = Number(process.argv[3] ?? 1000);
const names = readdirSync(imagesDir).sort();
const paths = names.map((n) => join(imagesDir, n));

// 1. per-image, one core, same decoded images, both implementations in one process
const build = join(root, 'build-tools');
const tool = join(build, 'brisque_bench');
if (!existsSync(tool)) {
  execFileSync('cmake', ['-S', root, '-B', build, '-DIQA_BUILD_TOOLS=ON', '-DIQA_BUILD_ADDON=OFF', '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'inherit' });
  execFileSync('cmake', ['--build', build, '--target', 'brisque_bench', '-j', '2'], { stdio: 'inherit' });
}
const model = '/usr/share/opencv4/quality/brisque_model_live.yml';
const range = '/usr/share/opencv4/quality/brisque_range_live.yml';
const one = JSON.parse(execFileSync(tool, [model, range, '3'], { input: paths.slice(0, perImage).join('\n') + '\n', encoding: 'utf8' }));
console.log(`one core, ${one.images} images ${one.width}x${one.height}, best of ${one.repeats} passes:`);
console.log(`  OpenCV QualityBRISQUE  ${one.opencv_ms.toFixed(2)} ms/image`);
console.log(`  iqa-node brisque       ${one.iqa_ms.toFixed(2)} ms/image`);
console.log(`  speedup                ${one.speedup.toFixed(2)}x   (max |score difference| ${one.max_abs_diff})`);

// 2. batch over cores on pre-decoded images
const decoded = [];
for (const p of paths.slice(0, Math.min(batchCount, paths.length))) decoded.push(await preprocess(p));
while (decoded.length < batchCount) decoded.push(decoded[decoded.length % paths.length]);
const raw = decoded.map((d) => ({ data: d.data, width: d.width, height: d.height, channels: d.channels, order: d.order }));
await brisque.batch(raw.slice(0, 8)); // warm-up: model load, thread pool
async function timeBatch(threads) {
  concurrency(threads);
  const t0 = process.hrtime.bigint();
  const s = await brisque.batch(raw);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (s.some((v) => Number.isNaN(v)) && s.filter((v) => Number.isNaN(v)).length > 1) throw new Error('unexpected failures in batch');
  return ms;
}
const all = cpus().length;
const t1 = await timeBatch(1);
const tn = await timeBatch(all);
concurrency(0);
console.log(`batch of ${raw.length} decoded images:`);
console.log(`  1 thread               ${(t1 / 1000).toFixed(2)} s (${(t1 / raw.length).toFixed(2)} ms/image)`);
console.log(`  ${all} threads              ${(tn / 1000).toFixed(2)} s (${(tn / raw.length).toFixed(2)} ms/image)`);
console.log(`  scaling                ${(t1 / tn).toFixed(2)}x on ${all} cores`);

// 3. whole process: decode + score every file, one core each, the same files
const wholeCount = Number(process.argv[4] ?? paths.length);
const wholeTool = join(build, 'opencv_brisque_files');
if (!existsSync(wholeTool)) {
  execFileSync('cmake', ['-S', root, '-B', build, '-DIQA_BUILD_TOOLS=ON', '-DIQA_BUILD_ADDON=OFF', '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'inherit' });
  execFileSync('cmake', ['--build', build, '--target', 'opencv_brisque_files', '-j', '2'], { stdio: 'inherit' });
}
const wholePaths = paths.slice(0, wholeCount);
const pinned = existsSync('/usr/bin/taskset') ? ['taskset', ['-c', '0']] : null;
// `iqa score` exits 1 when an input fails (BIQ2021 has one flat image BRISQUE rejects).
const runPinned = (cmd, args, input) => {
  const t0 = process.hrtime.bigint();
  const r = pinned ? spawnSync(pinned[0], [...pinned[1], cmd, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 }) : spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout, s };
};
const anchor = runPinned(wholeTool, [model, range], wholePaths.join('\n') + '\n');
const anchorScores = JSON.parse(anchor.out).scores;
const cli = join(root, 'dist/cjs/cli/index.js');
const ours = runPinned(process.execPath, [cli, 'score', '--metric', 'brisque', '--concurrency', '1', '--no-progress', ...wholePaths], '');
let maxDiff = 0;
let compared = 0;
for (const line of ours.out.trim().split('\n')) {
  const r = JSON.parse(line);
  if (typeof r.score !== 'number' || !(r.input in anchorScores)) continue;
  maxDiff = Math.max(maxDiff, Math.abs(r.score - anchorScores[r.input]));
  compared++;
}
console.log(`whole process, ${wholePaths.length} JPEG files, decode included, one core${pinned ? ' (taskset -c 0)' : ''}:`);
console.log(`  cv::imread + QualityBRISQUE      ${anchor.s.toFixed(2)} s (${((anchor.s * 1000) / wholePaths.length).toFixed(2)} ms/image)`);
console.log(`  iqa score --metric brisque       ${ours.s.toFixed(2)} s (${((ours.s * 1000) / wholePaths.length).toFixed(2)} ms/image, node start included)`);
console.log(`  speedup                          ${(anchor.s / ours.s).toFixed(2)}x   (max |score difference| ${maxDiff.toExponential(2)} over ${compared} images)`);
