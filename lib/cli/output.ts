import type { ErrorCode } from '../core/errors';

export type Format = 'jsonl' | 'csv' | 'table';

export interface ScoreRecord {
  input: string;
  metric: string;
  score?: number;
  /** A model's named extra outputs (manifest head.extras), JSONL only. */
  extras?: Record<string, number>;
  error?: { code: ErrorCode; message: string };
}

/** One JSONL line. JSON has no Infinity: a non-finite number (PSNR of identical images) is written as a string. */
export function jsonLine(o: unknown): string {
  return JSON.stringify(o, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function header(format: Format): string {
  if (format === 'csv') return 'input,metric,score,error_code,error_message\n';
  if (format === 'table') return `${'score'.padStart(12)}  input\n`;
  return '';
}

export function formatRecord(r: ScoreRecord, format: Format): string {
  if (format === 'jsonl') {
    const o: Record<string, unknown> = { input: r.input, metric: r.metric };
    if (r.error) o.error = r.error;
    else o.score = r.score;
    if (!r.error && r.extras) o.extras = r.extras;
    return jsonLine(o);
  }
  if (format === 'csv') {
    return [csvField(r.input), r.metric, r.error ? '' : String(r.score), r.error?.code ?? '', csvField(r.error?.message ?? '')].join(',') + '\n';
  }
  const score = r.error ? r.error.code : (r.score as number).toFixed(4);
  return `${score.padStart(12)}  ${r.input}${r.error ? `  (${r.error.message})` : ''}\n`;
}
