// The model card every metric and model carries, and the validation of user options against it.
import { IqaError } from '../core/errors';

export type MetricKind = 'nr' | 'fr' | 'face' | 'video';

/** One option a metric takes: its type, allowed values and default. */
export interface OptionSpec {
  type: 'string' | 'number' | 'integer' | 'boolean';
  enum?: (string | number)[];
  default?: string | number | boolean | null;
  /** Smallest allowed value (numbers). */
  minimum?: number;
  description: string;
}

export interface MetricCard {
  name: string;
  kind: MetricKind;
  /** Method and paper, e.g. "BRISQUE (Mittal et al. 2012)". */
  title: string;
  direction: 'higher' | 'lower';
  /** Score range, or null where it is unbounded or depends on the model file. */
  range: [number, number] | null;
  reference: {
    paper: string;
    /** The independent implementation this project's numbers are checked against. */
    checkedAgainst: string;
  };
  /** Licence of what the default path uses (code for classical metrics, the checkpoint for deep models). */
  licence: string;
  commercialUse: boolean;
  options: Record<string, OptionSpec>;
  /** Files the metric needs beyond the package (deep models: their manifest and ONNX graphs). */
  files?: { name: string; description: string }[];
  /** Deep models: the manifest name looked up in the model directories. */
  manifest?: string;
  /** Deep models: how users produce the files from the official checkpoint. */
  import?: { script: string; checkpoint: string; args?: string[]; requires?: string[] };
  /** true, or the reason the method cannot be used from this package. */
  available?: true | string;
  /** What was assumed where the method cannot be built faithfully (shown in the README). */
  assumptions?: string[];
  /** A note the README shows with the metric. */
  note?: string;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(card: MetricCard, key: string, spec: OptionSpec, raw: unknown): unknown {
  const bad = (why: string): never => {
    const allowed = spec.enum ? ` (one of ${spec.enum.join(', ')})` : ` (${spec.type})`;
    throw new IqaError('ERR_INPUT', `option ${key} of ${card.name}: ${why}${allowed}`);
  };
  let v: unknown = raw;
  if (spec.type === 'boolean') {
    if (typeof v === 'string') v = TRUE.has(v.toLowerCase()) ? true : FALSE.has(v.toLowerCase()) ? false : bad(`'${raw}' is not a boolean`);
    if (typeof v !== 'boolean') bad(`${JSON.stringify(raw)} is not a boolean`);
  } else if (spec.type === 'number' || spec.type === 'integer') {
    if (typeof v === 'string' && v.trim() !== '') v = Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${JSON.stringify(raw)} is not a number`);
    if (spec.type === 'integer' && !Number.isInteger(v)) bad(`${JSON.stringify(raw)} is not an integer`);
    if (spec.minimum !== undefined && (v as number) < spec.minimum) bad(`${String(v)} is below ${spec.minimum}`);
  } else if (typeof v !== 'string' || v.length === 0) bad(`${JSON.stringify(raw)} is not a non-empty string`);
  if (spec.enum && !spec.enum.includes(v as string | number)) bad(`'${String(raw)}' is not allowed`);
  return v;
}

/**
 * Checks user options (strings from the CLI, or values) against the card and returns them typed.
 * An unknown key or a bad value is ERR_INPUT naming the valid keys or values.
 */
export function validateOptions(card: MetricCard, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = Object.prototype.hasOwnProperty.call(card.options, key) ? card.options[key] : undefined;
    if (!spec) {
      const known = Object.keys(card.options);
      throw new IqaError('ERR_INPUT', `${card.name} has no option '${key}' (${known.length ? `valid: ${known.join(', ')}` : 'it takes no options'})`);
    }
    out[key] = coerce(card, key, spec, value);
  }
  return out;
}

/** Parses repeated `key=value` strings (the CLI's --option). */
export function parseOptionPairs(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new IqaError('ERR_INPUT', `--option takes key=value, got '${p}'`);
    out[p.slice(0, i).trim()] = p.slice(i + 1);
  }
  return out;
}
