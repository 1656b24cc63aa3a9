// The self-contained HTML report of `iqa eval`: no scripts, no network, inline SVG and data URIs.
import type { Evaluation } from '..';
import { preprocess } from '../../core/preprocess';
import { encodePng } from './png';

export interface ReportItem {
  name: string;
  image?: string;
  score: number;
  mos: number;
  mapped: number;
  group?: string;
}

export interface ReportInput {
  title: string;
  metric: string;
  labels: string;
  scoreKind: 'mos' | 'dmos';
  evaluation: Evaluation;
  items: ReportItem[];
  skipped: number;
  failed: number;
  seconds?: number;
  /** How many outliers to show (default 12). */
  outliers?: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (v: number | null | undefined, d = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const ci = (c: [number, number] | null) => (c ? `[${fmt(c[0])}, ${fmt(c[1])}]` : '–');

/** The fitted mapping as a function, from its published parameters. */
function mappingFn(m: Evaluation['mapping']): ((x: number) => number) | null {
  if (!m) return null;
  const b = m.params;
  if (m.model === 'logistic5') return (x) => b[0] * (0.5 - 1 / (1 + Math.exp(b[1] * (x - b[2])))) + b[3] * x + b[4];
  return (x) => (b[0] - b[1]) / (1 + Math.exp(-(x - b[2]) / b[3])) + b[1];
}

function niceTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= step0) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Scatter of score vs MOS with the fitted curve, as an SVG string. */
export function scatterSvg(items: ReportItem[], mapping: Evaluation['mapping'], metric: string, scoreKind: string): string {
  const groups = [...new Set(items.map((i) => i.group).filter((g): g is string => g !== undefined))];
  // The legend of distortion types goes right of the plot, never over points.
  const W = groups.length ? 900 : 720, H = 460, L = 64, R = groups.length ? 196 : 16, T = 16, B = 52;
  const xs = items.map((i) => i.score);
  const ys = items.map((i) => i.mos);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const padX = (x1 - x0) * 0.03, padY = (y1 - y0) * 0.05;
  [x0, x1, y0, y1] = [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const colour = (g?: string) => (g === undefined || groups.length === 0 ? '#1f77b4' : PALETTE[groups.indexOf(g) % PALETTE.length]);
  const r = items.length > 2000 ? 1.8 : items.length > 300 ? 2.5 : 3.5;
  const parts: string[] = [];
  parts.push(`<svg id="scatter" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(metric)} against ${scoreKind.toUpperCase()}">`);
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="#fff" stroke="#999"/>`);
  for (const t of niceTicks(x0, x1)) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${sx(t)}" y="${H - B + 16}" text-anchor="middle" class="tick">${t}</text>`);
  for (const t of niceTicks(y0, y1)) parts.push(`<line x1="${L}" x2="${W - R}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end" class="tick">${t}</text>`);
  parts.push(`<g class="points" fill-opacity="0.55">`);
  for (const it of items) parts.push(`<circle cx="${sx(it.score).toFixed(1)}" cy="${sy(it.mos).toFixed(1)}" r="${r}" fill="${colour(it.group)}"><title>${esc(it.name)}: ${fmt(it.score)} / ${fmt(it.mos)}</title></circle>`);
  parts.push(`</g>`);
  const f = mappingFn(mapping);
  if (f) {
    const pts: string[] = [];
    for (let k = 0; k <= 200; k++) {
      const x = x0 + ((x1 - x0) * k) / 200;
      const y = f(x);
      if (Number.isFinite(y)) pts.push(`${sx(x).toFixed(1)},${Math.max(T - 50, Math.min(H + 50, sy(y))).toFixed(1)}`);
    }
    parts.push(`<clipPath id="plot"><rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}"/></clipPath>`);
    parts.push(`<polyline id="fit" clip-path="url(#plot)" points="${pts.join(' ')}" fill="none" stroke="#d62728" stroke-width="2.5"/>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">${esc(metric)} score</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${scoreKind.toUpperCase()}</text>`);
  if (groups.length) groups.forEach((g, i) => parts.push(`<circle cx="${W - R + 14}" cy="${T + 8 + i * 15}" r="4" fill="${colour(g)}"/><text x="${W - R + 22}" y="${T + 12 + i * 15}" class="legend">${esc(g)}</text>`));
  parts.push(`</svg>`);
  return parts.join('\n');
}

async function thumbnail(path: string, max = 112): Promise<string | null> {
  try {
    const full = await preprocess(path);
    const scale = Math.min(1, max / Math.max(full.width, full.height));
    const width = Math.max(1, Math.round(full.width * scale));
    const height = Math.max(1, Math.round(full.height * scale));
    const img = await preprocess(path, { resize: { width, height, interp: 'area' } });
    const src = img.data;
    if (!(src instanceof Uint8Array)) return null;
    const ch = img.channels;
    // OpenCV order (BGR/BGRA) to PNG order (RGB/RGBA).
    const out = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i += ch) {
      if (ch >= 3) {
        out[i] = src[i + 2];
        out[i + 1] = src[i + 1];
        out[i + 2] = src[i];
        if (ch === 4) out[i + 3] = src[i + 3];
      } else out[i] = src[i];
    }
    return `data:image/png;base64,${encodePng(out, width, height, ch as 1 | 3 | 4).toString('base64')}`;
  } catch {
    return null;
  }
}

/** Renders the report. Thumbnails of the worst outliers are decoded and encoded here. */
export async function renderReport(r: ReportInput): Promise<string> {
  const e = r.evaluation;
  const rows: [string, number | null, [number, number] | null, string][] = [
    ['PLCC (5-parameter logistic)', e.plcc, e.plccCi, 'Pearson correlation of the mapped scores with the subjective scores'],
    ['PLCC (raw)', e.plccRaw, e.plccRawCi, 'no mapping'],
    ['SROCC', e.srocc, e.sroccCi, 'Spearman, average ranks for ties'],
    ['KROCC', e.krocc, e.kroccCi, "Kendall's tau-b"],
    ['RMSE', e.rmse, e.rmseCi, `after the mapping, in ${r.scoreKind.toUpperCase()} units`],
    ['MAE', e.mae, e.maeCi, 'after the mapping'],
    ['PLCC (4-parameter logistic)', e.plcc4, null, ''],
  ];
  const worst = r.items
    .filter((i) => Number.isFinite(i.mapped))
    .map((i) => ({ ...i, err: i.mapped - i.mos }))
    .sort((a, b) => Math.abs(b.err) - Math.abs(a.err))
    .slice(0, r.outliers ?? 12);
  const thumbs = await Promise.all(worst.map((w) => (w.image ? thumbnail(w.image) : Promise.resolve(null))));
  const groupTable = e.groups?.length
    ? `<h2>By distortion type</h2><table class="num"><thead><tr><th>type</th><th>n</th><th>PLCC (global mapping)</th><th>PLCC raw</th><th>SROCC</th><th>KROCC</th><th>RMSE</th></tr></thead><tbody>${e.groups
        .map((g) => `<tr><td class="l">${esc(g.group)}</td><td>${g.n}</td><td>${fmt(g.plcc)}</td><td>${fmt(g.plccRaw)}</td><td>${fmt(g.srocc)}</td><td>${fmt(g.krocc)}</td><td>${fmt(g.rmse)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const mappingText = e.mapping ? `${e.mapping.model}: b = [${e.mapping.params.map((v) => v.toPrecision(6)).join(', ')}]` : 'no mapping could be fitted';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(r.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px} .meta{color:#666}
table{border-collapse:collapse;margin:8px 0} th,td{padding:4px 10px;border-bottom:1px solid #e3e3e3;text-align:right} td.l,th.l{text-align:left}
.tick,.legend{font-size:11px;fill:#555} svg text{font-size:12px}
.outliers{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.outliers figure{margin:0;padding:6px;border:1px solid #ddd;border-radius:4px} .outliers img{display:block;max-width:100%;margin:auto}
.outliers figcaption{font-size:12px;word-break:break-all} .warn{color:#a05a00}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p class="meta">metric <b>${esc(r.metric)}</b> · labels ${esc(r.labels)} · n = ${e.n}${r.skipped ? ` · ${r.skipped} missing images skipped` : ''}${r.failed ? ` · ${r.failed} images failed to score` : ''}${r.seconds !== undefined ? ` · ${r.seconds.toFixed(1)} s` : ''}</p>
<h2>Agreement</h2>
<table id="numbers"><thead><tr><th class="l">measure</th><th>value</th><th>95% CI (bootstrap${e.bootstrap ? `, ${e.bootstrap.samples} resamples, seed ${e.bootstrap.seed}` : ''})</th><th class="l">note</th></tr></thead><tbody>
${rows.map(([k, v, c, note]) => `<tr><td class="l">${k}</td><td>${fmt(v)}</td><td>${ci(c)}</td><td class="l">${esc(note)}</td></tr>`).join('\n')}
</tbody></table>
<p class="meta">Correlations keep their sign${e.abs ? ' (here reported as magnitudes, --abs)' : ': a lower-is-better metric shows negative values'}. Mapping ${esc(mappingText)}.</p>
${e.warnings.length ? `<p class="warn">${e.warnings.map(esc).join('<br>')}</p>` : ''}
<h2>Prediction against ${r.scoreKind.toUpperCase()}</h2>
${scatterSvg(r.items, e.mapping, r.metric, r.scoreKind)}
${groupTable}
<h2>Worst outliers (largest |mapped score − ${r.scoreKind.toUpperCase()}|)</h2>
<div class="outliers">
${worst.map((w, i) => `<figure>${thumbs[i] ? `<img src="${thumbs[i]}" alt="${esc(w.name)}">` : '<div class="meta">(no thumbnail)</div>'}<figcaption>${esc(w.name)}<br>score ${fmt(w.score)} · ${r.scoreKind.toUpperCase()} ${fmt(w.mos)} · mapped ${fmt(w.mapped)}${w.group ? `<br>${esc(w.group)}` : ''}</figcaption></figure>`).join('\n')}
</div>
<p class="meta">Generated by iqa-node ${new Date().toISOString()}.</p>
</body></html>
`;
}
