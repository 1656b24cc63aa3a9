// `iqa models`: every registry entry with its card and whether its files are present;
// `iqa models show NAME`; `iqa models import NAME --checkpoint FILE` runs the model's export
// tool (tools/export/) into the model directory, after which `--metric NAME` works.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { IqaError } from '../core/errors';
import { packageRoot } from '../core/native';
import { findManifest, findManifestIn, installedManifests, installModelDir, modelDirs } from '../deep/model-dir';
import { importCommand, zooCards } from '../deep/zoo';
import { registryCards, type MetricCard } from '../registry';

interface Status {
  present: boolean;
  /** Where the files are, or what to run to make them. */
  detail: string;
}

/** Whether a card's files are present, and where (or the command that makes them). */
export function cardStatus(card: MetricCard): Status {
  if (card.available !== undefined && card.available !== true) return { present: false, detail: `unavailable: ${card.available}` };
  if (!card.manifest) return { present: true, detail: 'built in' };
  const path = findManifest(card.manifest);
  return path ? { present: true, detail: path } : { present: false, detail: `missing: ${importCommand(card)}` };
}

const direction = (c: MetricCard) => `${c.direction} is better`;
const range = (c: MetricCard) => (c.range ? `[${c.range[0]}, ${c.range[1]}]` : 'unbounded');

/** Manifests in the model directories that no card names (a user's own exports, test fixtures). */
function uncardedManifests() {
  const carded = new Set(registryCards().flatMap((c) => [c.name, c.manifest ?? c.name]));
  return installedManifests().filter((m) => !carded.has(m.name));
}

function listCommand(o: { json?: boolean }): number {
  const cards = registryCards();
  const extra = uncardedManifests();
  if (o.json) {
    process.stdout.write(JSON.stringify({ modelDirs: modelDirs(), models: cards.map((c) => ({ ...c, status: cardStatus(c) })), uncarded: extra }, null, 2) + '\n');
    return 0;
  }
  const rows = cards.map((c) => {
    const s = cardStatus(c);
    return [c.name, c.kind, direction(c), range(c), c.commercialUse ? 'yes' : 'no', s.present ? 'present' : s.detail.startsWith('unavailable') ? 'unavailable' : 'missing', c.title];
  });
  const head = ['name', 'kind', 'direction', 'range', 'commercial', 'files', 'title'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  const models = extra.filter((m) => m.kind !== 'face');
  const faces = extra.filter((m) => m.kind === 'face');
  const found = [
    ...(models.length ? ['', 'manifests without a card (usable as --metric NAME):', ...models.map((m) => `  ${m.name}  ${m.task ?? ''}  ${m.path}`)] : []),
    ...(faces.length ? ['', 'face descriptors (iqa face score --method NAME):', ...faces.map((m) => `  ${m.name}  ${m.path}`)] : []),
  ];
  process.stdout.write([line(head), ...rows.map(line), ...found, '', `model directories: ${modelDirs().join(', ')}`, 'iqa models show NAME: the whole card', ''].join('\n'));
  return 0;
}

function showCommand(name: string, o: { json?: boolean }): number {
  const card = registryCards().find((c) => c.name === name);
  if (!card) throw new IqaError('ERR_INPUT', `unknown metric or model '${name}' (known: ${registryCards().map((c) => c.name).join(', ')})`);
  const s = cardStatus(card);
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...card, status: s }, null, 2) + '\n');
    return 0;
  }
  const out = [
    `${card.name}: ${card.title}`,
    `kind         ${card.kind}, ${direction(card)}, range ${range(card)}`,
    `paper        ${card.reference.paper}`,
    `checked      ${card.reference.checkedAgainst}`,
    `licence      ${card.licence}`,
    `commercial   ${card.commercialUse ? 'allowed' : 'not allowed'}`,
    `files        ${s.detail}`,
  ];
  if (card.import) out.push(`checkpoint   ${card.import.checkpoint}`, `import       ${importCommand(card)}`);
  if (card.note) out.push(`note         ${card.note}`);
  const opts = Object.entries(card.options);
  out.push(opts.length ? 'options' : 'options      none');
  for (const [k, spec] of opts) {
    const values = spec.enum ? spec.enum.join('|') : spec.type;
    const def = spec.default !== undefined && spec.default !== null ? ` (default ${String(spec.default)})` : '';
    out.push(`  --option ${k}=${values}${def}: ${spec.description}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

function importModel(name: string, o: { checkpoint: string; python?: string; dir?: string }, extra: string[]): number {
  const card = zooCards().get(name);
  if (!card || !card.import) throw new IqaError('ERR_INPUT', `'${name}' has no export tool (models with one: ${[...zooCards().values()].filter((c) => c.import).map((c) => c.name).join(', ')})`);
  const checkpoint = resolve(o.checkpoint);
  if (!existsSync(checkpoint)) throw new IqaError('ERR_INPUT', `checkpoint not found: ${checkpoint}`);
  const script = join(packageRoot(), card.import.script);
  if (!existsSync(script)) throw new IqaError('ERR_MODEL', `export tool missing from the package: ${script}`);
  const python = o.python ?? process.env.IQA_PYTHON ?? 'python3';
  const requires = card.import.requires ?? ['torch', 'onnx', 'onnxruntime'];
  // pip names whose module is named otherwise
  const moduleName = (r: string) => ({ 'scikit-learn': 'sklearn', 'opencv-python': 'cv2', 'opencv-python-headless': 'cv2' } as Record<string, string>)[r] ?? r.replace(/-/g, '_');
  const probe = spawnSync(python, ['-c', `import ${requires.map(moduleName).join(', ')}`], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? `${python} could not be run (${probe.error.message})` : `${python} lacks a module: ${(probe.stderr || '').trim().split('\n').pop()}`;
    throw new IqaError('ERR_MODEL', `${why}\nThe export needs Python 3 with: ${requires.join(', ')}\n  ${python} -m pip install ${requires.join(' ')}\n(or --python PATH / IQA_PYTHON to use another interpreter)`);
  }
  const out = resolve(o.dir ?? installModelDir());
  mkdirSync(out, { recursive: true });
  const template = card.import.args ?? ['--checkpoint', '{checkpoint}', '--out-dir', '{out}'];
  const dest = card.import.args ? out : join(out, card.manifest ?? card.name);
  const args = [script, ...template.map((a) => a.replace('{checkpoint}', checkpoint).replace('{out}', dest)), ...extra];
  process.stderr.write(`iqa models import: ${python} ${args.join(' ')}\n`);
  const r = spawnSync(python, args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) throw new IqaError('ERR_MODEL', `the export tool failed (${r.error?.message ?? `exit ${r.status}`})`);
  // --dir may lie outside the searched model directories: look there first.
  const manifestName = card.manifest ?? card.name;
  const inModelDirs = findManifest(manifestName);
  const found = findManifestIn(out, manifestName) ?? inModelDirs;
  process.stderr.write(found ? `installed ${card.name}: ${found}${o.dir && !inModelDirs ? ` (outside the model directories: set IQA_MODEL_DIR=${out} to use it by name)` : ''}\n` : `the export finished but no manifest '${manifestName}' is in ${out}\n`);
  return found ? 0 : 1;
}

/** Adds `iqa models` (list, show, import) to the program. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('every metric and model with its card, and whether its files are present');
  models
    .command('list', { isDefault: true })
    .description('one line per metric and model')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      process.exitCode = listCommand(o);
    });
  models
    .command('show')
    .description('the whole card of one metric or model, with its options')
    .argument('<name>')
    .option('--json', 'machine-readable output')
    .action((name: string, o: { json?: boolean }) => {
      process.exitCode = showCommand(name, o);
    });
  models
    .command('import')
    .description("convert a model's official checkpoint with its export tool and install it in the model directory")
    .argument('<name>')
    .argument('[extra...]', 'arguments passed to the export tool (after --)')
    .requiredOption('--checkpoint <file>', 'the checkpoint as the authors publish it')
    .option('--python <path>', 'Python interpreter with torch (default: IQA_PYTHON or python3)')
    .option('--dir <dir>', 'install here instead of the first model directory')
    .action((name: string, extra: string[], o: { checkpoint: string; python?: string; dir?: string }) => {
      process.exitCode = importModel(name, o, extra);
    });
}
