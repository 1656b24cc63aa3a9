import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrt, native, ortLibraryPath, packageRoot, type OrtRuntimeInfo } from './native';

export interface Versions {
  iqaNode: string;
  node: string;
  napi: number;
  opencv: string;
  libsvm: string;
  /** ONNX Runtime as loaded (or the reason it could not be). */
  onnxruntime: (OrtRuntimeInfo & { error?: undefined }) | { error: string; libraryPath?: string };
  threads: { batch: number; cpus: number; libuvPool: number };
}

/** Versions of everything native this build uses; loads ONNX Runtime to report it. */
export function versions(opts: { ortLibrary?: string } = {}): Versions {
  const v = native().versions();
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  let onnxruntime: Versions['onnxruntime'];
  try {
    onnxruntime = loadOrt(opts.ortLibrary);
  } catch (e) {
    let libraryPath: string | undefined;
    try {
      libraryPath = ortLibraryPath(opts.ortLibrary);
    } catch {
      libraryPath = undefined;
    }
    onnxruntime = { error: (e as Error).message, libraryPath };
  }
  return {
    iqaNode: pkg.version,
    node: process.versions.node,
    napi: v.napi,
    opencv: v.opencv,
    libsvm: v.libsvm,
    onnxruntime,
    threads: { batch: v.threads, cpus: v.cpus, libuvPool: Number(process.env.UV_THREADPOOL_SIZE) || 4 },
  };
}
