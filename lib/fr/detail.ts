// Full-reference metrics with quality maps: defineFrMetric plus `.detail()`, which also returns
// the per-channel scores and, on request, the metric's quality maps.
import { decodeOptions } from '../core/config';
import { toNativeInput, type ImageInput } from '../core/input';
import { native } from '../core/native';
import { admitted, defineFrMetric, handleFor, type CallOptions, type FrMetricFunction, type NativeOptions } from '../core/run';

/** One quality map, row-major, `width * height` values. */
export interface QualityMap {
  data: Float64Array;
  width: number;
  height: number;
}

export interface FrDetailResult {
  score: number;
  /** Per-channel scores: one for grey, R,G,B for `channels: 'rgb'` (score = their mean). */
  channels: Float64Array;
  /** Quality maps when `maps: true` (one per channel; MS-SSIM: five per channel, finest first). */
  maps: QualityMap[];
}

export interface FrMapMetricFunction<O> extends FrMetricFunction<O> {
  detail(ref: ImageInput, dist: ImageInput, opts?: O & CallOptions & { maps?: boolean }): Promise<FrDetailResult>;
}

interface NativeFr {
  frDetail(handle: unknown, ref: object, dist: object, decode: object, wantMaps: boolean): Promise<FrDetailResult>;
}

export function defineFrMapMetric<O extends object>(name: string, toNative: (o: O | undefined) => NativeOptions): FrMapMetricFunction<O> {
  const fn = defineFrMetric<O>(name, toNative);
  const detail = (ref: ImageInput, dist: ImageInput, opts?: O & CallOptions & { maps?: boolean }) =>
    admitted(opts, async () => {
      const handle = handleFor('fr', name, toNative(opts));
      const n = native() as unknown as NativeFr;
      return n.frDetail(handle, toNativeInput(ref), toNativeInput(dist), decodeOptions(opts), opts?.maps === true);
    });
  return Object.assign(fn, { detail });
}
