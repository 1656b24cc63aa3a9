#!/usr/bin/env node
// The `iqa` command line (commander). Contract: ../shared/DESIGN.md "CLI contract".
import { Command, Option } from 'commander';
import { IqaError, toIqaError } from '../core/errors';
import { DEFAULT_NR_METRIC, registryCards, resolveMetric, type MetricCliOptions } from '../registry';
import { trainBrisque } from '../nr/brisque-train';
import { versions } from '../core/versions';
import { metricOptionFlags } from './metric-options';
import { cardStatus, registerModels } from './models';
import { scoreCommand, type ScoreCommandOptions } from './score';
import { registerQueueCommands } from './queue';
import { registerTrainNiqe } from './train-niqe';
import { registerEval } from './eval';
import { registerVideo } from './video';
import { registerFace } from './face';
import { positiveInt } from './parsers';


type CompareCliOptions = MetricCliOptions & { metric: string; format: 'json' | 'text'; autoOrient?: boolean; failOn?: 'error' | 'warning' };

async function compareCommand(ref: string, dist: string, o: CompareCliOptions): Promise<number> {
  const entry = resolveMetric(o.metric);
  if (entry.kind !== 'fr') throw new IqaError('ERR_INPUT', `'${o.metric}' is a no-reference metric: use iqa score`);
  const score = await entry.fn(ref, dist, { ...entry.options(o), autoOrient: o.autoOrient, failOn: o.failOn });
  if (o.format === 'json') process.stdout.write(JSON.stringify({ metric: o.metric, score: Number.isFinite(score) ? score : String(score) }) + '\n');
  else process.stdout.write(`${o.metric}: ${score}\n`);
  return 0;
}

function doctorCommand(o: { json?: boolean; ortLibrary?: string }): number {
  const v = versions({ ortLibrary: o.ortLibrary });
  const cards = registryCards();
  const report = { ...v, metrics: cards.map((c) => c.name), models: cards.map((c) => ({ name: c.name, kind: c.kind, ...cardStatus(c) })) };
  if (o.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const ort = 'error' in v.onnxruntime && v.onnxruntime.error ? `unavailable (${v.onnxruntime.error})` : `${(v.onnxruntime as { version: string }).version} from ${(v.onnxruntime as { libraryPath: string }).libraryPath}`;
    const providers = 'providers' in v.onnxruntime ? v.onnxruntime.providers.join(', ') : '-';
    process.stdout.write(
      [
        `iqa-node     ${v.iqaNode} (Node ${v.node}, N-API ${v.napi})`,
        `OpenCV       ${v.opencv}`,
        `libsvm       ${v.libsvm}`,
        `ONNX Runtime ${ort}`,
        `providers    ${providers} (compiled into the library; CUDA also needs its provider library and drivers)`,
        `threads      ${v.threads.batch} per batch, ${v.threads.cpus} CPUs, libuv pool ${v.threads.libuvPool}`,
        `metrics      ${report.models.map((m) => (m.present ? m.name : `${m.name} (${m.detail})`)).join(', ')}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('iqa').description('Perceptual image quality assessment').showHelpAfterError();
  metricOptionFlags(
    program
      .command('score')
      .description('score images or folders (recursive) with a no-reference metric')
      .argument('<paths...>', 'image files or folders')
      .option('--metric <name>', 'metric', DEFAULT_NR_METRIC)
      .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'table']).default('jsonl'))
      .option('--out <file>', 'write results to a file instead of stdout')
      .option('--concurrency <n>', 'threads per batch', positiveInt)
      .option('--batch <n>', 'images per native call', positiveInt)
      .option('--resume', 'skip inputs already recorded in --out (and append)')
      .option('--no-progress', 'no progress bar (it is shown only on a TTY anyway)')
      .option('--limit-input-pixels <n>', 'largest image in pixels (0: no limit)', (v) => Number(v))
      .option('--no-auto-orient', 'score the stored pixel order, not the EXIF orientation')
      .option('--fail-on <level>', "'warning': a file the codec warned about (e.g. corrupt JPEG data) is an ERR_DECODE item; default 'error'"),
  ).action(async (paths: string[], o: ScoreCommandOptions) => {
    process.exitCode = await scoreCommand(paths, o);
  });
  metricOptionFlags(
    program
      .command('compare')
      .description('compare a distorted image with its reference')
      .argument('<ref>', 'reference image')
      .argument('<dist>', 'distorted image')
      .requiredOption('--metric <name>', 'full-reference metric')
      .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'))
      .option('--no-auto-orient', 'compare the stored pixel order, not the EXIF orientation')
      .option('--fail-on <level>', "'warning': an image the codec warned about (e.g. corrupt JPEG data) is ERR_DECODE (exit 2); default 'error'"),
  ).action(async (ref: string, dist: string, o: CompareCliOptions) => {
    process.exitCode = await compareCommand(ref, dist, o);
  });
  const train = program.command('train').description('fit a model from images');
  registerTrainNiqe(train);
  train
    .command('brisque')
    .description('fit a BRISQUE epsilon-SVR (grid search over C, gamma, epsilon by K-fold cross-validated SROCC); writes MODEL and MODEL.range')
    .requiredOption('--labels <csv>', "labels CSV with 'image' and 'mos' columns")
    .requiredOption('--images <dir>', 'folder the image names are relative to')
    .requiredOption('--out <model>', 'model file to write (the range goes to MODEL.range)')
    .option('--folds <k>', 'cross-validation folds', positiveInt, 5)
    .addOption(new Option('--variant <name>', 'feature variant').choices(['opencv', 'original']).default('opencv'))
    .option('--json', 'print the result as JSON')
    .action(async (o: { labels: string; images: string; out: string; folds: number; variant: 'opencv' | 'original'; json?: boolean }) => {
      const r = await trainBrisque({ labels: o.labels, images: o.images, out: o.out, folds: o.folds, variant: o.variant });
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else
        process.stdout.write(
          [
            `model        ${r.model} (${r.supportVectors} support vectors), range ${r.range}`,
            `images       ${r.images} used, ${r.failed.length} failed${r.failed.length ? ': ' + r.failed.slice(0, 5).map((f) => `${f.image} (${f.message})`).join('; ') : ''}`,
            `chosen       C=${r.c} gamma=${r.gamma} epsilon=${r.epsilon.toPrecision(4)} of ${r.gridPoints} grid points`,
            `${r.folds}-fold CV   SROCC ${r.cvSrocc.toFixed(4)} ± ${r.cvSroccSd.toFixed(4)}, PLCC ${r.cvPlcc.toFixed(4)} ± ${r.cvPlccSd.toFixed(4)} (mean ± sd over folds)`,
            `time         ${r.totalSeconds.toFixed(1)} s (features ${r.featureSeconds.toFixed(1)} s, search ${r.searchSeconds.toFixed(1)} s)`,
            '',
          ].join('\n'),
        );
      process.exitCode = r.failed.length > 0 && r.images === 0 ? 1 : 0;
    });
  registerEval(program);
  program
    .command('doctor')
    .description('report native library versions, execution providers and threads')
    .option('--json', 'machine-readable output')
    .option('--ort-library <path>', 'ONNX Runtime library to load (default: IQA_ORT_LIBRARY or onnxruntime-node)')
    .action((o: { json?: boolean; ortLibrary?: string }) => {
      process.exitCode = doctorCommand(o);
    });
  registerQueueCommands(program);
  registerModels(program);
  registerVideo(program);
  registerFace(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = toIqaError(e);
    process.stderr.write(`iqa: ${err.code}: ${err.message}\n`);
    process.exitCode = 2;
  }
}

if (require.main === module) void main();
