#!/usr/bin/env node
// Package size and cold start against sharp, in one run: packs iqa-node (with the prebuild in
// prebuilds/, made by `npm run prebuilds` if missing), installs the tarball into one empty
// project and sharp (from the npm registry) into another, then reports the tarball sizes, each
// project's installed node_modules (the package and everything it pulls in), and the time from
// require() to the first result in a fresh process (median of N): iqa-node's default BRISQUE on a
// 512x512 JPEG against sharp's stats() on the same file. onnxruntime-node is an optional peer
// dependency (only the deep models need it): a third project installs it next to the tarball, at
// the lockfile's version. Target (issue 17): installed size within 2x of sharp + its libvips
// package; first score < 150 ms.
//   node bench/install-size.mjs [--runs N] [--image FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('runs', 7));
const image = arg('image', join(root, 'samples/aqua_jpeg-q10.jpg'));
if (!existsSync(image)) throw new Error(`no image ${image} (bash scripts/setup.sh makes the samples)`);

function duBytes(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of readdirSync(p)) total += duBytes(join(p, e));
  return total;
}
const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const npm = (args, cwd, env = {}) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });

const work = mkdtempSync(join(tmpdir(), 'iqa-size-'));
try {
  if (!existsSync(join(root, 'prebuilds/linux-x64'))) execFileSync('bash', [join(root, 'scripts/prebuild.sh')], { cwd: root, stdio: 'inherit' });
  const ours = join(work, npm(['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop());
  const sharpTgz = join(work, npm(['pack', '--silent', 'sharp', '--pack-destination', work], work).trim().split('\n').pop());
  const projects = {};
  const ortVersion = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages['node_modules/onnxruntime-node'].version;
  const installs = [
    ['iqa-node', [ours]],
    ['iqa-node-with-ort', [ours, `onnxruntime-node@${ortVersion}`]],
    ['sharp', ['sharp']],
  ];
  for (const [name, specs] of installs) {
    const dir = join(work, name);
    mkdirSync(dir);
    npm(['init', '-y'], dir);
    npm(['install', '--no-audit', '--no-fund', '--omit=dev', ...specs], dir, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    projects[name] = dir;
  }
  if (existsSync(join(projects['iqa-node'], 'node_modules/onnxruntime-node'))) throw new Error('npm installed the optional peer onnxruntime-node unasked');
  const modules = (dir) => join(dir, 'node_modules');
  const top = (dir, pkgs) => pkgs.reduce((s, p) => s + (existsSync(join(modules(dir), p)) ? duBytes(join(modules(dir), p)) : 0), 0);
  const rows = [
    ['tarball', statSync(ours).size, statSync(sharpTgz).size],
    ['the package alone, installed', top(projects['iqa-node'], ['iqa-node']), top(projects.sharp, ['sharp'])],
    ['with its native libraries (own, inside / @img/sharp-libvips-linux-x64 + @img/sharp-linux-x64)', top(projects['iqa-node'], ['iqa-node']), top(projects.sharp, ['sharp', '@img'])],
    ['whole node_modules, `npm install iqa-node` / `npm install sharp`', duBytes(modules(projects['iqa-node'])), duBytes(modules(projects.sharp))],
    [`whole node_modules with the optional peer onnxruntime-node ${ortVersion} (deep models)`, duBytes(modules(projects['iqa-node-with-ort'])), duBytes(modules(projects.sharp))],
  ];
  console.log('| size | iqa-node | sharp | ratio |');
  console.log('|---|---|---|---|');
  for (const [what, a, b] of rows) console.log(`| ${what} | ${mb(a)} | ${mb(b)} | ${(a / b).toFixed(2)}x |`);
  const ortBins = join(modules(projects['iqa-node-with-ort']), 'onnxruntime-node/bin/napi-v6');
  if (existsSync(ortBins)) console.log(`onnxruntime-node's binaries by platform: ${readdirSync(ortBins).map((p) => `${p} ${mb(duBytes(join(ortBins, p)))}`).join(', ')}`);

  // Cold start: a fresh process per run, timed from before require() to the first result.
  const scripts = {
    'iqa-node': `const t0 = process.hrtime.bigint(); const iqa = require('iqa-node'); const t1 = process.hrtime.bigint();
      iqa.brisque(process.argv[1]).then((s) => console.log(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6, firstMs: Number(process.hrtime.bigint() - t0) / 1e6, value: s })));`,
    sharp: `const t0 = process.hrtime.bigint(); const sharp = require('sharp'); const t1 = process.hrtime.bigint();
      sharp(process.argv[1]).stats().then((s) => console.log(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6, firstMs: Number(process.hrtime.bigint() - t0) / 1e6, value: s.entropy })));`,
  };
  const times = { 'iqa-node': [], sharp: [] };
  for (let i = 0; i < runs; i++) {
    for (const name of ['iqa-node', 'sharp']) {
      const r = spawnSync(process.execPath, ['-e', scripts[name], image], { cwd: projects[name], encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      times[name].push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
  }
  console.log(`\ncold start on ${image}, ${runs} fresh processes each, alternating; medians:`);
  console.log('| | require() ms | require() to first result ms |');
  console.log('|---|---|---|');
  for (const name of ['iqa-node', 'sharp']) {
    const t = times[name];
    console.log(`| ${name} (${name === 'sharp' ? 'stats()' : 'brisque()'}) | ${median(t.map((x) => x.requireMs)).toFixed(1)} | ${median(t.map((x) => x.firstMs)).toFixed(1)} |`);
  }
  const first = median(times['iqa-node'].map((x) => x.firstMs));
  console.log(`target: first score < 150 ms: ${first.toFixed(1)} ms, ${first < 150 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
