// The deep models' registry cards: one JSON file per model in the package's models/zoo/
// (schema: models/card.schema.json). Read once, validated, and used by the registry and by
// the "not found" errors of Model.load, which name the command that produces the files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IqaError } from '../core/errors';
import { packageRoot } from '../core/native';
import { validateSchema, type Schema } from '../core/schema';
import type { MetricCard } from '../registry/card';

let cards: Map<string, MetricCard> | undefined;

/** Every card in models/zoo, by name (validated; a broken card is a packaging bug: ERR_INTERNAL). */
export function zooCards(): Map<string, MetricCard> {
  if (cards) return cards;
  const dir = join(packageRoot(), 'models', 'zoo');
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'models', 'card.schema.json'), 'utf8')) as Schema;
  const found = new Map<string, MetricCard>();
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  for (const f of files) {
    const card = JSON.parse(readFileSync(join(dir, f), 'utf8')) as MetricCard;
    const errs = validateSchema(card, schema, schema, `models/zoo/${f}`);
    if (card.name !== f.slice(0, -5)) errs.push(`models/zoo/${f}: name '${card.name}' differs from the file name`);
    // Only a model that cannot be built (available: 'why') may lack the tool that makes its files.
    if (!card.import && typeof card.available !== 'string') errs.push(`models/zoo/${f}: 'import' is required unless 'available' says why the model cannot be built`);
    if (errs.length) throw new IqaError('ERR_INTERNAL', `invalid model card:\n  ${errs.join('\n  ')}`);
    found.set(card.name, card);
  }
  cards = found;
  return found;
}

/** The card whose manifest (or name) is `manifest`. */
export function cardForManifest(manifest: string): MetricCard | undefined {
  for (const c of zooCards().values()) if (c.manifest === manifest || c.name === manifest) return c;
  return undefined;
}

/** The shell command that produces a model's files from its checkpoint. */
export function importCommand(card: MetricCard): string {
  return `iqa models import ${card.name} --checkpoint FILE`;
}

/** For "model not found" errors: how to produce that model, when a card knows it. */
export function importHint(manifest: string): string {
  let card: MetricCard | undefined;
  try {
    card = cardForManifest(manifest);
  } catch {
    return '';
  }
  if (!card) return '';
  return `\n${card.title} weights are not bundled (${card.licence}${card.commercialUse ? '' : ', non-commercial'}); checkpoint: ${card.import?.checkpoint}.\nProduce the model files with:\n  ${importCommand(card)}\n(it runs ${card.import?.script}; or pass --model PATH/TO/MANIFEST.json)`;
}
