export type DatasetFormat = 'csv' | 'biq2021' | 'koniq10k' | 'tid2013' | 'livec' | 'csiq';

/** One rated image of a dataset. */
export interface LabelledImage {
  /** Name as written in the label file. */
  name: string;
  /** Resolved path of the image. */
  image: string;
  /** Subjective score (MOS, or DMOS where `Dataset.scoreKind` says so). */
  mos: number;
  /** Resolved path of the reference image (full-reference datasets). */
  ref?: string;
  /** Distortion type (TID2013, CSIQ), used for the per-type breakdown. */
  group?: string;
  /** Distortion level, when the dataset has them. */
  level?: number;
  /** Standard deviation of the ratings, when the label file gives it. */
  std?: number;
}

export interface Dataset {
  format: DatasetFormat;
  labels: string;
  /** Folder the image names were resolved against. */
  images: string;
  items: LabelledImage[];
  /** 'dmos': a higher score means worse quality (CSIQ). */
  scoreKind: 'mos' | 'dmos';
  /** Images listed in the labels but absent on disk, left out because `skipMissing` was set. */
  skipped: string[];
}

export interface LoadOptions {
  /** Label file format; by default guessed from the file name and header. */
  format?: DatasetFormat | 'auto';
  /** Image folder; each format has a default relative to the label file. */
  images?: string;
  /** Leave out (and count) images that do not exist instead of failing. */
  skipMissing?: boolean;
  /**
   * false: images need not exist (scores computed elsewhere); an absent image keeps the path it
   * would have under the image folder. Default true.
   */
  requireImages?: boolean;
  /** KonIQ-10k: 'MOS' (1-5, default) or 'MOS_zscore' (0-100). */
  scoreColumn?: string;
}
