// `iqa face score FILES --method M`: one record per detected face (box, landmarks, detector
// score, raw and 0-100 quality, or a typed failure) as JSONL, CSV or a table; --crop-dir writes
// each aligned crop as PNG.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { IqaError } from '../core/errors';
import { expandPaths } from '../pipelines/files';
import { faceQuality, type FaceOptions, type FaceResult } from '../face/quality';
import { csvField, jsonLine } from './output';
import { registerFaceEval } from './face-eval';
import { nonNegativeInt, nonNegativeNumber, positiveInt } from './parsers';

type FaceFormat = 'jsonl' | 'csv' | 'table';

interface FaceScoreFlags {
  method?: string;
  detector?: string;
  maxFaces?: number;
  minFaceSize?: number;
  scoreThreshold?: number;
  maxSide?: number;
  aligned?: boolean;
  cropDir?: string;
  format: FaceFormat;
  batch?: number;
  intraOpThreads?: number;
}

const CSV_HEADER = 'input,face,x,y,width,height,detector_score,raw,quality,method,failure,error_code,error_message\n';

function lines(input: string, r: FaceResult | null, error: IqaError | null, format: FaceFormat): string {
  if (error || !r) {
    const e = { code: error?.code ?? 'ERR_INTERNAL', message: error?.message ?? 'no result' };
    if (format === 'jsonl') return jsonLine({ input, error: e });
    if (format === 'csv') return [csvField(input), '', '', '', '', '', '', '', '', '', '', e.code, csvField(e.message)].join(',') + '\n';
    return `${e.code.padStart(18)}  ${input}  (${e.message})\n`;
  }
  if (r.faces.length === 0) {
    if (format === 'jsonl') return jsonLine({ input, faces: 0, failure: r.failure });
    if (format === 'csv') return [csvField(input), '', '', '', '', '', '', '', '', '', r.failure?.code ?? '', '', ''].join(',') + '\n';
    return `${(r.failure?.code ?? '').padStart(18)}  ${input}\n`;
  }
  let out = '';
  for (const f of r.faces) {
    if (format === 'jsonl') {
      const { crop: _crop, ...rest } = f;
      out += jsonLine({ input, ...rest });
    } else if (format === 'csv') {
      const b = f.box;
      out += [csvField(input), f.index, b.x, b.y, b.width, b.height, f.detectorScore, f.raw ?? '', f.quality ?? '', f.method ?? '', f.failure?.code ?? '', '', ''].join(',') + '\n';
    } else {
      const q = f.failure ? f.failure.code : f.quality === null ? `det ${f.detectorScore.toFixed(3)}` : f.quality.toFixed(2);
      out += `${q.padStart(18)}  ${input}#${f.index}\n`;
    }
  }
  return out;
}

async function faceScoreCommand(paths: string[], o: FaceScoreFlags): Promise<number> {
  const opts: FaceOptions = {
    method: o.method,
    detector: o.detector,
    maxFaces: o.maxFaces,
    minFaceSize: o.minFaceSize,
    scoreThreshold: o.scoreThreshold,
    maxSide: o.maxSide,
    aligned: o.aligned,
    crops: o.cropDir !== undefined,
    intraOpThreads: o.intraOpThreads,
  };
  if (o.cropDir) mkdirSync(o.cropDir, { recursive: true });
  if (o.format === 'csv') process.stdout.write(CSV_HEADER);
  if (o.format === 'table') process.stdout.write(`${'quality'.padStart(18)}  input#face\n`);
  let failed = 0;
  const flush = async (files: string[]) => {
    const r = await faceQuality.batchSettled(files, opts);
    files.forEach((file, i) => {
      if (r.errors[i]) failed++;
      process.stdout.write(lines(file, r.results[i], r.errors[i], o.format));
      if (o.cropDir)
        for (const f of r.results[i]?.faces ?? [])
          if (f.crop) writeFileSync(join(o.cropDir, `${basename(file, extname(file))}.${f.index}.png`), f.crop);
    });
  };
  let pending: string[] = [];
  for await (const file of expandPaths(paths)) {
    pending.push(file);
    if (pending.length >= (o.batch ?? 16)) {
      await flush(pending);
      pending = [];
    }
  }
  if (pending.length) await flush(pending);
  return failed > 0 ? 1 : 0;
}

export function registerFace(program: Command): void {
  const face = program.command('face').description('face image quality: detection, alignment and a face-quality method');
  face
    .command('score')
    .description('one record per detected face: box, landmarks, detector score, quality (raw and 0-100) or a typed failure')
    .argument('<paths...>', 'image files or folders')
    .option('--method <name>', 'face descriptor (name in the model directories or a path); omitted: detection only')
    .option('--detector <path>', "'yunet' (default), 'mtcnn' or a YuNet-layout ONNX file")
    .option('--max-faces <n>', 'keep at most n faces per image (0: all)', nonNegativeInt)
    .option('--min-face-size <px>', 'faces smaller than this get FACE_TOO_SMALL', nonNegativeNumber)
    .option('--score-threshold <t>', 'detector score threshold (default 0.6)', nonNegativeNumber)
    .option('--max-side <px>', 'detect on the image resized to this longer side (default 640; 0: full size)', nonNegativeInt)
    .option('--aligned', 'inputs are already aligned crops of the method input size (no detection)')
    .option('--crop-dir <dir>', 'write each aligned crop as <name>.<face>.png')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'table']).default('jsonl'))
    .option('--batch <n>', 'images per native call (default 16)', positiveInt)
    .option('--intra-op-threads <n>', 'ONNX Runtime threads per run (0: its default)', nonNegativeInt)
    .action(async (paths: string[], o: FaceScoreFlags) => {
      process.exitCode = await faceScoreCommand(paths, o);
    });
  registerFaceEval(face);
}
