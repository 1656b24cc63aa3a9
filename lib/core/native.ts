// Loads the compiled addon (a prebuild when one matches, else build/Release) and, lazily,
// ONNX Runtime. Only this file knows how the addon is found.
// Plain 'fs'/'path', not 'node:': the ssim.js and image-ssim drop-ins load this file, and Jest 26
// (which ssim.js's own suite uses) cannot resolve 'node:'-prefixed builtins.
import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { IqaError, toIqaError } from './errors';

export interface NativeBatchResult {
  scores: Float64Array;
  values: (Float64Array | null)[];
  errors: ({ code: string; message: string } | null)[];
}
export interface OrtRuntimeInfo {
  libraryPath: string;
  version: string;
  apiVersion: number;
  providers: string[];
}
export interface NativeAddon {
  versions(): { opencv: string; libsvm: string; threads: number; cpus: number; napi: number };
  loadOrt(path: string): OrtRuntimeInfo;
  ortInfo(): OrtRuntimeInfo | null;
  listMetrics(): { name: string; fullReference: boolean; higherIsBetter: boolean; description: string }[];
  createNr(name: string, options: object): unknown;
  createFr(name: string, options: object): unknown;
  scoreNr(handle: unknown, inputs: object[], decode: object, mode: 'score' | 'features', abort?: unknown): Promise<NativeBatchResult>;
  scoreFr(handle: unknown, refs: object[], dists: object[], decode: object, abort?: unknown): Promise<NativeBatchResult>;
  preprocess(input: object, decode: object, ops: object): Promise<object>;
  encode(input: object, decode: object, opts: object): Promise<Buffer>;
  trainBrisque(inputs: object[], names: string[], labels: number[], options: object, decode: object): Promise<object>;
  createAbortFlag(): unknown;
  triggerAbort(flag: unknown): void;
  setThreads(n: number): number;
}

/** The package root: the nearest folder above this file holding package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new IqaError('ERR_INTERNAL', 'cannot find the iqa-node package root');
    dir = up;
  }
  return dir;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const load = require('node-gyp-build') as (dir: string) => NativeAddon;
      addon = load(packageRoot());
    } catch (e) {
      throw new IqaError('ERR_INTERNAL', `cannot load the iqa-node native addon: ${(e as Error).message}`, { cause: e });
    }
  }
  return addon;
}

/** Where ONNX Runtime will be loaded from: option, IQA_ORT_LIBRARY, then onnxruntime-node's copy. */
export function ortLibraryPath(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.IQA_ORT_LIBRARY) return process.env.IQA_ORT_LIBRARY;
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    throw new IqaError(
      'ERR_DEVICE',
      'deep models need ONNX Runtime, which is not installed: run `npm install onnxruntime-node` (an optional peer dependency of iqa-node, 1.21 or later), or set IQA_ORT_LIBRARY to a libonnxruntime.so',
    );
  }
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const lib = process.platform === 'darwin' ? 'libonnxruntime.1.dylib' : 'libonnxruntime.so.1';
  for (const napi of ['napi-v6', 'napi-v3']) {
    const p = join(pkgDir, 'bin', napi, process.platform, arch, lib);
    if (existsSync(p)) return p;
  }
  throw new IqaError('ERR_DEVICE', `onnxruntime-node has no ${lib} for ${process.platform}-${arch}`);
}

/** Loads ONNX Runtime once per process (the first successful path wins). */
export function loadOrt(libraryPath?: string): OrtRuntimeInfo {
  const n = native();
  const current = n.ortInfo();
  if (current) return current;
  try {
    return n.loadOrt(ortLibraryPath(libraryPath));
  } catch (e) {
    throw toIqaError(e);
  }
}
