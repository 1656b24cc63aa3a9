// `iqa face eval`: error-versus-reject (ERC) and error-versus-discard (EDC) curves of a face
// quality method, with a recognition model's embeddings deciding matches (lib/evaluation/face-erc.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { IqaError } from '../core/errors';
import { faceErc, pairsFromIdentities, type FaceErcResult, type FacePair } from '../evaluation/face-erc';
import { readFaceManifest } from '../face/manifest';
import { faceQuality, type FaceOptions, type SettledFaces } from '../face/quality';
import { expandPaths } from '../pipelines/files';
import { positiveInt } from './parsers';

interface FaceEvalFlags {
  method?: string;
  qualities?: string;
  recognizer: string;
  pairs?: string;
  identity: string;
  aligned?: boolean;
  fmr: string;
  pauc: number;
  distance: 'arccos' | 'euclidean';
  lowerIsBetter?: boolean;
  format: 'json' | 'table';
  report?: string;
  batch?: number;
}

// A curve whose area stops before the last discard fraction (0.95): a small set ran out of pairs.
const endsEarly = (to: number) => to < 0.95 - 1e-9;

// "same" as CR-FIQA's lists (1/0), deepface's master.csv (Yes/No) or true/false write it.
const SAME = /^(1|yes|true)$/i;
const SAME_OR_NOT = /^(1|0|yes|no|true|false)$/i;

/** CR-FIQA's pair_list.txt ("a b same", whitespace) or CSV "a,b,same" with an optional header (deepface's
 *  master.csv: file_x,file_y,Decision); same is 1/0, yes/no or true/false; names relative to the images. */
export function readPairs(path: string): FacePair[] {
  const out: FacePair[] = [];
  readFileSync(path, 'utf8').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const f = t.includes(',') ? t.split(',').map((s) => s.trim()) : t.split(/\s+/);
    if (i === 0 && !SAME_OR_NOT.test(f[2] ?? '')) return; // a header
    if (f.length !== 3 || !SAME_OR_NOT.test(f[2])) throw new IqaError('ERR_INPUT', `${path}:${i + 1}: expected "a b same" with same 1/0, yes/no or true/false`);
    out.push({ a: f[0], b: f[1], same: SAME.test(f[2]) });
  });
  if (out.length === 0) throw new IqaError('ERR_INPUT', `${path}: no pairs`);
  return out;
}

/** name,quality CSV (e.g. scores of another tool). */
function readQualities(path: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const [name, q] = line.split(',').map((s) => s?.trim());
    if (!name || q === undefined || !Number.isFinite(Number(q))) continue; // header or blank
    m.set(name, Number(q));
  }
  if (m.size === 0) throw new IqaError('ERR_INPUT', `${path}: no name,quality rows`);
  return m;
}

function curveSvg(r: FaceErcResult): string {
  const W = 560, H = 320, L = 50, B = 40, colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const x = (v: number) => L + (v / 0.95) * (W - L - 10), y = (v: number) => H - B - v * (H - B - 10);
  const paths = r.curves.flatMap((c, k) =>
    (['erc', 'edc'] as const).map((kind) => {
      const pts = c.rejected.map((u, i) => [u, c[kind][i]] as const).filter(([, v]) => Number.isFinite(v));
      const d = pts.map(([u, v], i) => `${i ? 'L' : 'M'}${x(u).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<path d="${d}" fill="none" stroke="${colours[k % colours.length]}" stroke-width="2"${kind === 'edc' ? ' stroke-dasharray="6 4"' : ''}><title>${kind.toUpperCase()} FMR ${c.fmr}</title></path>`;
    }),
  );
  const ticks = [0, 0.2, 0.4, 0.6, 0.8].map((v) => `<text x="${x(v)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${Math.round(v * 100)}%</text><text x="${L - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect x="${L}" y="10" width="${W - L - 10}" height="${H - B - 10}" fill="none" stroke="#999"/>${ticks.join('')}${paths.join('')}<text x="${(W + L) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">pairs rejected (lowest quality first)</text><text x="14" y="${H / 2}" font-size="12" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">FNMR</text></svg>`;
}

function reportHtml(r: FaceErcResult, title: string): string {
  const rows = r.curves
    .map((c) => `<tr><td>${c.fmr}</td><td>${c.threshold.toFixed(6)}</td><td>${c.erc[0].toFixed(4)}</td><td>${c.ercAuc.toFixed(5)}${endsEarly(c.ercAucTo) ? ` (to ${c.ercAucTo.toFixed(2)})` : ''}</td><td>${c.ercPauc.toFixed(5)}</td><td>${c.edcAuc.toFixed(5)}${endsEarly(c.edcAucTo) ? ` (to ${c.edcAucTo.toFixed(2)})` : ''}</td><td>${c.edcPauc.toFixed(5)}</td></tr>`)
    .join('');
  const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] as string);
  return `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><body style="font-family:sans-serif;max-width:720px"><h1>${esc(title)}</h1><p>${r.pairs} pairs (${r.genuine} genuine, ${r.impostor} impostor), distance ${r.distance}; solid: ERC (threshold per subset), dashed: EDC (threshold of the full set); partial AUC to ${r.paucLimit * 100}% rejected.</p>${curveSvg(r)}<table border="1" cellpadding="4" style="border-collapse:collapse"><tr><th>FMR</th><th>threshold</th><th>FNMR (all pairs)</th><th>ERC AUC</th><th>ERC pAUC</th><th>EDC AUC</th><th>EDC pAUC</th></tr>${rows}</table></body>`;
}

async function faceEvalCommand(paths: string[], o: FaceEvalFlags): Promise<number> {
  if (!o.method && !o.qualities) throw new IqaError('ERR_INPUT', 'give --method NAME (a face quality method) or --qualities CSV');
  const fmrs = o.fmr.split(',').map(Number);
  const files: string[] = [];
  for await (const f of expandPaths(paths)) files.push(f);
  if (files.length === 0) throw new IqaError('ERR_INPUT', 'no images');
  // Pairs name images by base name (as pair lists do); two images of one name would be ambiguous.
  const byName = new Map<string, string>();
  for (const f of files) {
    if (byName.has(basename(f))) throw new IqaError('ERR_INPUT', `two images are named ${basename(f)}`);
    byName.set(basename(f), f);
  }
  const identity = new RegExp(o.identity);
  const identityOf = (name: string) => {
    const m = identity.exec(name);
    if (!m) throw new IqaError('ERR_INPUT', `--identity ${o.identity} does not match ${name}`);
    return m[1] ?? m[0];
  };
  const pairs = o.pairs ? readPairs(o.pairs) : pairsFromIdentities([...byName.keys()].sort(), identityOf);
  const used = new Set(pairs.flatMap((p) => [p.a, p.b]));
  const needed = [...used].map((n) => {
    const f = byName.get(n);
    if (!f) throw new IqaError('ERR_INPUT', `the pairs name ${n}, which is not among the images`);
    return [n, f] as const;
  });
  const quality = new Map<string, number>(), embeddings = new Map<string, ArrayLike<number>>();
  const failed: { image: string; code: string; message: string }[] = [];
  const base: FaceOptions = { aligned: o.aligned, maxFaces: 1 };
  const given = o.qualities ? readQualities(o.qualities) : undefined;
  // On unaligned photos the quality method is aligned from the recogniser's detection (its five
  // landmarks), so each face is detected once; a 'box' method crops the detector box itself.
  const shareDetection = !o.aligned && !given && o.method !== undefined && readFaceManifest(o.method).manifest.align.template !== 'box';
  for (let i = 0; i < needed.length; i += o.batch ?? 16) {
    const chunk = needed.slice(i, i + (o.batch ?? 16));
    const emb = await faceQuality.batchSettled(chunk.map(([, f]) => f), { ...base, method: o.recognizer, embeddings: true });
    const q = given
      ? undefined
      : shareDetection
        ? await qualityAtLandmarks(chunk.map(([, f]) => f), emb, o.method as string)
        : await faceQuality.batchSettled(chunk.map(([, f]) => f), { ...base, method: o.method });
    chunk.forEach(([name], k) => {
      const e = emb.results[k]?.faces[0], qf = q?.results[k]?.faces[0];
      const err = emb.errors[k] ?? q?.errors[k] ?? (emb.results[k]?.failure ? new IqaError('ERR_INPUT', emb.results[k]!.failure!.code) : null);
      const value = given ? given.get(name) : (qf?.raw ?? undefined);
      if (err || !e?.embedding || value === undefined || !Number.isFinite(value)) {
        failed.push({ image: name, code: err?.code ?? 'ERR_INPUT', message: err?.message ?? (value === undefined ? 'no quality for this image' : 'no face scored') });
        return;
      }
      embeddings.set(name, e.embedding);
      quality.set(name, value);
    });
  }
  const kept = pairs.filter((p) => quality.has(p.a) && quality.has(p.b));
  const r = faceErc(kept, quality, embeddings, { fmrs, paucLimit: o.pauc, distance: o.distance, lowerIsBetter: o.lowerIsBetter });
  const out = { method: o.method ?? o.qualities, recognizer: o.recognizer, pairsGiven: pairs.length, pairsDropped: pairs.length - kept.length, imagesFailed: failed, ...r };
  if (o.report) writeFileSync(o.report, reportHtml(r, `Face quality ERC/EDC: ${out.method} with ${o.recognizer}`));
  if (o.format === 'json') process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(`${r.pairs} pairs (${r.genuine} genuine, ${r.impostor} impostor); ${out.pairsDropped} dropped (${failed.length} images without a score)\n`);
    process.stdout.write(`FMR      FNMR@0%  ${'ERC AUC'.padStart(11)}  ERC pAUC  ${'EDC AUC'.padStart(11)}  EDC pAUC\n`);
    // An area that stops before 95% rejected (a small set's curve ends early) is marked with where it stops.
    const area = (v: number, to: number) => (endsEarly(to) ? `${v.toFixed(4)}<${to.toFixed(2)}` : v.toFixed(4));
    for (const c of r.curves)
      process.stdout.write(`${String(c.fmr).padEnd(8)} ${c.erc[0].toFixed(4).padStart(7)}  ${area(c.ercAuc, c.ercAucTo).padStart(11)}  ${c.ercPauc.toFixed(4).padStart(8)}  ${area(c.edcAuc, c.edcAucTo).padStart(11)}  ${c.edcPauc.toFixed(4).padStart(8)}\n`);
    if (r.curves.some((c) => endsEarly(c.ercAucTo) || endsEarly(c.edcAucTo))) process.stdout.write('a<x: the curve ends at x rejected (no genuine or impostor pairs left); its area covers [0, x]\n');
  }
  return 0;
}

/** The quality method on each image, aligned from the face the recogniser's run detected. */
async function qualityAtLandmarks(files: string[], detected: SettledFaces, method: string): Promise<SettledFaces> {
  const out: SettledFaces = { results: files.map(() => null), errors: files.map(() => null) };
  await Promise.all(
    files.map(async (file, k) => {
      const face = detected.results[k]?.faces[0];
      if (!face) return; // the recogniser's error or NO_FACE already excludes the image
      try {
        out.results[k] = await faceQuality(file, { method, landmarks: face.landmarks });
      } catch (e) {
        out.errors[k] = e instanceof IqaError ? e : new IqaError('ERR_INTERNAL', String(e));
      }
    }),
  );
  return out;
}

export function registerFaceEval(face: Command): void {
  face
    .command('eval')
    .description('error-versus-reject (ERC) and error-versus-discard (EDC) curves of a face quality method, matches decided by a recognition model')
    .argument('<paths...>', 'face images or folders')
    .option('--method <name>', 'face quality method (descriptor name or path)')
    .option('--qualities <csv>', 'precomputed name,quality instead of --method')
    .requiredOption('--recognizer <name>', 'face recognition descriptor whose embeddings decide matches (e.g. dlib-resnet)')
    .option('--pairs <file>', 'pair list: "a b same" per line (CR-FIQA pair_list.txt) or CSV a,b,same; default: identities from file names')
    .option('--identity <regex>', 'identity of a file name (first group, else the match)', '^\\d+-(.+)_\\d+\\.\\w+$')
    .option('--aligned', 'the images are aligned crops (no detection)')
    .option('--fmr <list>', 'FMR operating points', '1e-3,1e-4')
    .option('--pauc <fraction>', 'partial AUC up to this rejected fraction', (v) => Number(v), 0.2)
    .addOption(new Option('--distance <kind>', 'arccos(cosine)/pi or squared euclidean of unit embeddings').choices(['arccos', 'euclidean']).default('arccos'))
    .option('--lower-is-better', 'lower quality values are better (e.g. an uncertainty)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'table']).default('table'))
    .option('--report <file.html>', 'write an HTML report with the curves')
    .option('--batch <n>', 'images per native call (default 16)', positiveInt)
    .action(async (paths: string[], o: FaceEvalFlags) => {
      process.exitCode = await faceEvalCommand(paths, o);
    });
}
