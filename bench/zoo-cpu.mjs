// Deep no-reference zoo on CPU: each model's PyTorch reference (the authors' test-time procedure,
// eager, image by image: bench/zoo_torch.py) against ours (Model.scoreMany: native decode, grey,
// patches/crops, normalisation, ORT with patches of several images batched) on the same files
// with the same threads, in one run; prints images/s, the ratio, peak memory and the score
// agreement. Models: cnniqa (the authors' LIVE weights when ../shared has them, else seeded) and
// wadiqam-nr (seeded full-size weights: no authors' checkpoint is reachable here; ~0.1 GFLOP per
// patch, so it gets `--wadiqam-images` images, default 10); wadiqam-fr (full-reference, seeded
// full-size weights, twice the NR work per patch: the five calibration (reference, distorted)
// pairs of 512x384, 192 patch pairs each; Model.scorePairsSettled against the PyTorch FR reference).
//
// dbcnn (seeded full size, the whole 512x512 image, --dbcnn-images, default 5) and nima (idealo MobileNet with
// Keras' seeded weights; the reference is Keras itself, torch backend) and koniqplusplus (seeded full-size
// ResNeXt-101 32x8d weights, one 480 x 640 pass per image: `--koniqpp-images`, default 5) too; and
// norm-in-norm (seeded ResNeXt-101 32x8d IQAModel, 498 x 664: `--koniqpp-images`), koncept512 (Keras'
// InceptionResNetV2 with seeded weights, the reference is Keras itself: `--koniqpp-images`) and deepbiq
// (seeded AlexNet fc7 + a seeded scikit-learn SVR, one 224 crop: `--images`); deepbiq-features5 (the same
// net and SVR on five crops, fc7 averaged before the SVR: manifest aggregate 'feature-mean');
// wadiqam-nr-pyiqa / wadiqam-fr-pyiqa (pyiqa's own WaDIQaM module, seeded, as the reference; ours
// exported from the checkpoint it writes with --weights pyiqa; NR `--wadiqam-images`, FR the pairs);
// nima-vgg16-ava-pyiqa / nima-koniq-pyiqa (pyiqa's own NIMA through create_metric, seeded, as the
// reference; ours exported from the checkpoint it writes with export_nima.py --weights pyiqa: `--nima-pyiqa-images`, default 10);
// tres (seeded full-size ResNet-50 + transformer, the authors' Resize((512, 384)) and 50 seeded
// 224 crops per image, 50 forward passes of the crop graph per image: `--tres-images`, default 3);
// and graphiqa (seeded full-size ResNet-50 + graph heads, 25 crops of the 384 x 512 resize, the
// authors' one crop per forward: `--koniqpp-images`); musiq (seeded full-size weights; 193 + 256 = 449
// tokens per 512x512 image, bucket 512: `--koniqpp-images`); diqa (seeded full-size weights, the whole
// 512x512 image through TF-style grey + high-pass and the fully convolutional net: `--koniqpp-images`).
//
//   node bench/zoo-cpu.mjs [--images 100] [--wadiqam-images 10] [--dbcnn-images 5] [--koniqpp-images 5] [--tres-images 3] [--nima-pyiqa-images 10] [--threads 2] [--max-batch N (default: the library's)] [--only NAME]
// Needs dist/ (npm run build:ts), /work/pyenv (or IQA_PYTHON) with torch + onnx + onnxruntime,
// and ../shared/data/biq2021. Exports are cached in $IQA_BENCH_CACHE (/tmp/iqa-bench).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({
  options: { images: { type: 'string', default: '100' }, 'wadiqam-images': { type: 'string', default: '10' }, 'dbcnn-images': { type: 'string', default: '5' }, 'koniqpp-images': { type: 'string', default: '5' }, 'tres-images': { type: 'string', default: '3' }, 'nima-pyiqa-images': { type: 'string', default: '10' }, threads: { type: 'string', default: '2' }, 'max-batch': { type: 'string', default: '0' }, only: { type: 'string' } },
});
const N = Number(o.images);
const THREADS = Number(o.threads);
const MAX_BATCH = Number(o['max-batch']); // 0: the library's default (16 on CPU)
const { Model } = await import(join(root, 'dist/esm/index.mjs'));
const python = process.env.IQA_PYTHON ?? (existsSync('/work/pyenv/bin/python') ? '/work/pyenv/bin/python' : 'python3');
const cache = process.env.IQA_BENCH_CACHE ?? join(tmpdir(), 'iqa-bench');
const shared = join(root, '..', 'shared');
const imagesDir = join(shared, 'data', 'biq2021', 'images');
if (!existsSync(imagesDir)) {
  console.error(`no ${imagesDir}: the benchmark needs the shared BIQ2021 images`);
  process.exit(1);
}
const allFiles = readdirSync(imagesDir).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(imagesDir, f));

const models = [
  {
    name: 'cnniqa',
    images: N,
    checkpoint: join(shared, 'models', 'cnniqa', 'CNNIQA-LIVE'),
    export: (dir, ck) => [join(root, 'tools/export/export_cnniqa.py'), ...(ck ? ['--checkpoint', ck] : ['--weights', 'random', '--seed', '0']), '--out-dir', dir],
  },
  {
    name: 'wadiqam',
    images: Number(o['wadiqam-images']),
    checkpoint: '', // none reachable: seeded full-size weights
    export: (dir) => [join(root, 'tools/export/export_wadiqam.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir],
  },
  {
    name: 'dbcnn',
    images: Number(o['dbcnn-images']),
    checkpoint: '', // no fine-tuned weights reachable: seeded full-size VGG-16 + S-CNN
    export: (dir) => [join(root, 'tools/export/export_dbcnn.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir, '--name', 'manifest'],
  },
  {
    name: 'nima',
    images: N,
    // Keras' seeded idealo model: the reference writes the weights file (h5) that ours is exported from.
    writes: 'weights.h5',
    export: (dir) => [join(root, 'tools/export/export_nima.py'), '--checkpoint', join(dir, 'weights.h5'), '--out-dir', dir, '--name', 'manifest'],
  },
  {
    name: 'koniqplusplus',
    images: Number(o['koniqpp-images']),
    checkpoint: '', // none reachable: seeded full-size weights
    manifest: 'koniqplusplus.json',
    export: (dir) => [join(root, 'tools/export/export_koniqplusplus.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir],
  },
  {
    name: 'norm-in-norm',
    images: Number(o['koniqpp-images']),
    checkpoint: '', // Baidu pan only: seeded full-size weights
    manifest: 'norm-in-norm.json',
    export: (dir) => [join(root, 'tools/export/export_norm_in_norm.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir],
  },
  {
    name: 'koncept512',
    images: Number(o['koniqpp-images']),
    writes: 'weights.h5', // Keras' seeded model: the reference writes the weights file ours is exported from
    manifest: 'koncept512.json',
    export: (dir) => [join(root, 'tools/export/export_koncept512.py'), '--checkpoint', join(dir, 'weights.h5'), '--out-dir', dir],
  },
  {
    name: 'deepbiq',
    images: N,
    writes: 'svr_mode.pkl', // the reference fits the seeded SVR (and its scaler) that ours converts
    manifest: 'deepbiq.json',
    export: (dir) => [join(root, 'tools/export/export_deepbiq.py'), '--weights', 'random', '--seed', '0', '--svr', join(dir, 'svr_mode.pkl'), '--scaler', join(dir, 'svr_process.pkl'), '--out-dir', dir],
  },
  {
    name: 'rankiqa',
    images: Number(o['dbcnn-images']),
    checkpoint: '', // the authors' .caffemodel files are on Baidu pan / Google Drive: seeded full size
    state: 'seeded.caffemodel', // the export saves the seeded .caffemodel that the reference loads
    manifest: 'manifest.json',
    export: (dir) => [join(root, 'tools/export/export_rankiqa.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir, '--name', 'manifest', '--save-caffemodel', join(dir, 'seeded.caffemodel')],
  },
  {
    name: 'tres',
    images: Number(o['tres-images']),
    checkpoint: '', // the authors' checkpoint is on Google Drive: seeded full-size weights
    state: 'state.pt', // the export saves the seeded state dict that the reference loads
    manifest: 'manifest.json',
    export: (dir) => [join(root, 'tools/export/export_tres.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir, '--name', 'manifest', '--save-state', join(dir, 'state.pt')],
  },
  {
    name: 'graphiqa',
    images: Number(o['koniqpp-images']),
    checkpoint: '', // none published: seeded full-size weights
    manifest: 'graphiqa.json',
    export: (dir) => [join(root, 'tools/export/export_graphiqa.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir],
  },
  {
    name: 'musiq',
    images: Number(o['koniqpp-images']),
    checkpoint: '', // the official .npz are on GCS, not reachable: seeded full-size weights
    manifest: 'musiq.json',
    // Pillow bicubic scales on both sides: the TF Gaussian reference would need tensorflow.
    export: (dir) => [join(root, 'tools/export/export_musiq.py'), '--weights', 'random', '--seed', '0', '--resize', 'pil-bicubic', '--out-dir', dir],
  },
  {
    name: 'diqa',
    images: Number(o['koniqpp-images']),
    checkpoint: '', // none published: seeded full-size weights, saved as the re-implementation's .h5 for the reference
    state: 'diqa.h5',
    export: (dir) => [join(root, 'tools/export/export_diqa.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir, '--write-h5', join(dir, 'diqa.h5')],
  },
  {
    name: 'wadiqam-fr',
    pairs: true, // items are [reference, distorted] pairs: the calibration set
    checkpoint: '',
    export: (dir) => [join(root, 'tools/export/export_wadiqam_fr.py'), '--weights', 'random', '--seed', '0', '--out-dir', dir],
  },
  {
    name: 'deepbiq-features5',
    images: N,
    writes: 'svr_mode.pkl', // as deepbiq: five seeded crops, fc7 averaged before the SVR
    manifest: 'deepbiq.json',
    export: (dir) => [join(root, 'tools/export/export_deepbiq.py'), '--weights', 'random', '--seed', '0', '--svr', join(dir, 'svr_mode.pkl'), '--scaler', join(dir, 'svr_process.pkl'), '--crops', '5', '--pool', 'features', '--out-dir', dir],
  },
  {
    name: 'wadiqam-nr-pyiqa',
    images: Number(o['wadiqam-images']),
    writes: 'pyiqa.pth', // pyiqa's own module, seeded: the reference writes the checkpoint ours is exported from
    export: (dir) => [join(root, 'tools/export/export_wadiqam.py'), '--weights', 'pyiqa', '--checkpoint', join(dir, 'pyiqa.pth'), '--out-dir', dir],
  },
  {
    name: 'wadiqam-fr-pyiqa',
    pairs: true,
    writes: 'pyiqa.pth',
    export: (dir) => [join(root, 'tools/export/export_wadiqam_fr.py'), '--weights', 'pyiqa', '--checkpoint', join(dir, 'pyiqa.pth'), '--out-dir', dir],
  },
  ...[
    ['nima-vgg16-ava-pyiqa', 'vgg16', '10', 'ava'],
    ['nima-koniq-pyiqa', 'inception_resnet_v2', '1', 'koniq'],
  ].map(([name, arch, classes, dataset]) => ({
    name,
    images: Number(o['nima-pyiqa-images']),
    writes: 'checkpoint.pth', // pyiqa's own NIMA, seeded: the reference writes the checkpoint ours is exported from
    manifest: `${name}.json`,
    export: (dir) => [join(root, 'tools/export/export_nima.py'), '--weights', 'pyiqa', '--arch', arch, '--classes', classes, '--dataset', dataset, '--checkpoint', join(dir, 'checkpoint.pth'), '--out-dir', dir, '--name', name],
  })),
].filter((m) => !o.only || m.name === o.only);
const calibration = ['I03', 'I04', 'I06', 'I08', 'I19'].map((n) => ['ref_dir', 'dist_dir'].map((d) => join(shared, 'data', 'calibration', d, `${n}.bmp`)));

const rows = [];
for (const m of models) {
  const files = m.pairs ? calibration : allFiles.slice(0, m.images);
  const ck = m.checkpoint && existsSync(m.checkpoint) ? m.checkpoint : undefined;
  // The cache key includes the export command and the export tools' sources: a stale export (older
  // tools, other weights) once disagreed with the reference by 2.3 without saying why.
  const tools = readdirSync(join(root, 'tools/export')).filter((f) => f.endsWith('.py')).sort().map((f) => readFileSync(join(root, 'tools/export', f)));
  const key = createHash('sha256').update(JSON.stringify(m.export('DIR', ck))).update(Buffer.concat(tools)).digest('hex').slice(0, 12);
  const dir = join(cache, `${m.name}-${ck ? 'authors' : 'seed0'}-${key}`);
  const weightsArgs = ck ? ['--checkpoint', ck] : m.writes || m.state ? ['--checkpoint', join(dir, m.writes ?? m.state)] : ['--seed', '0'];
  const torchArgs = [join(root, 'bench/zoo_torch.py'), '--model', m.name, ...weightsArgs, '--threads', String(THREADS), ...files.map((f) => (m.pairs ? f.join(':') : f))];
  if (m.writes && !existsSync(join(dir, m.writes))) {
    mkdirSync(dir, { recursive: true });
    execFileSync(python, [...torchArgs.slice(0, -files.length), m.pairs ? files[0].join(':') : files[0]], { stdio: ['ignore', 'ignore', 'inherit'] }); // writes the weights
  }
  const manifest = join(dir, m.manifest ?? 'manifest.json');
  if (!existsSync(manifest)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(python, m.export(dir, ck), { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const ref = JSON.parse(execFileSync(python, torchArgs, { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop());

  const rssBefore = process.memoryUsage().rss;
  const model = await Model.load(manifest, { intraOpThreads: THREADS, ...(MAX_BATCH ? { maxBatch: MAX_BATCH } : {}) });
  const scoreAll = async (items) => (m.pairs ? (await model.scorePairsSettled(items)).scores : model.scoreMany(items));
  await scoreAll(files.slice(0, 2)); // warm-up, as the reference's
  const t = performance.now();
  const ours = await scoreAll(files);
  const seconds = (performance.now() - t) / 1000;
  const rssAfter = process.memoryUsage().rss;
  await model.close();
  const maxDelta = Math.max(...ours.map((s, i) => Math.abs(s - ref.scores[i])));
  rows.push({
    model: m.name,
    weights: ck ? 'authors' : 'seeded',
    images: files.length,
    threads: THREADS,
    torchImagesPerSecond: ref.imagesPerSecond,
    oursImagesPerSecond: files.length / seconds,
    ratio: files.length / seconds / ref.imagesPerSecond,
    torchPeakRssMiB: ref.maxRssMiB,
    oursRssGrowthMiB: (rssAfter - rssBefore) / 2 ** 20,
    maxScoreDelta: maxDelta,
  });
}

console.log(`BIQ2021 images (512x512 JPEG; wadiqam-fr: calibration BMP pairs 512x384), ${THREADS} threads, decode included on both sides`);
console.log('model             weights  images  pytorch img/s  ours img/s  ratio   pytorch peak RSS  ours RSS growth  max |score delta|');
for (const r of rows)
  console.log(
    `${r.model.padEnd(17)} ${r.weights.padEnd(8)} ${String(r.images).padStart(6)} ${r.torchImagesPerSecond.toFixed(2).padStart(13)} ${r.oursImagesPerSecond.toFixed(2).padStart(11)} ${(r.ratio.toFixed(2) + 'x').padStart(6)}   ${(r.torchPeakRssMiB.toFixed(0) + ' MiB').padStart(16)} ${(r.oursRssGrowthMiB.toFixed(0) + ' MiB').padStart(16)}  ${r.maxScoreDelta.toExponential(1)}`,
  );
console.log(JSON.stringify(rows));
