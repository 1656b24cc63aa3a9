#!/usr/bin/env python3
"""The anchor of scripts/eval/face-verification.mjs: dlib's own pipeline on the same LFW crops
(frontal detector with 2 upsamplings, or the whole crop when it finds nothing; 5-point shape
predictor; compute_face_descriptor on dlib's own face chip), the same pairs rule (every
same-identity pair plus as many seeded different-identity pairs), cosine scores, AUC.
Needs the PyPI wheels dlib-bin and face-recognition-models.

  python scripts/eval/face_verification_dlib.py [DIR]
"""
import argparse
import importlib.util
import os
import re
import sys

import cv2
import dlib
import numpy as np
from scipy.stats import mannwhitneyu

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from face_verification_facenet import LFW, name_pairs, read_pairs  # noqa: E402
M = os.path.join(os.path.dirname(importlib.util.find_spec("face_recognition_models").origin), "models")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir_arg", nargs="?")
    p.add_argument("--dir")
    p.add_argument("--pairs")
    p.add_argument("--rule", choices=["all", "distinct-images"], default="all")
    args = p.parse_args()
    d = args.dir or args.dir_arg or LFW
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(os.path.join(M, "shape_predictor_5_face_landmarks.dat"))
    rec = dlib.face_recognition_model_v1(os.path.join(M, "dlib_face_recognition_resnet_model_v1.dat"))
    files = sorted(f for f in os.listdir(d) if re.search(r"\.(jpe?g|png)$", f, re.I))
    emb, found = {}, 0
    for f in files:
        rgb = np.ascontiguousarray(cv2.imread(os.path.join(d, f))[:, :, ::-1])
        ds = sorted(det(rgb, 2), key=lambda r: -r.area())  # the largest face
        found += len(ds) > 0
        box = ds[0] if len(ds) else dlib.rectangle(0, 0, rgb.shape[1] - 1, rgb.shape[0] - 1)
        emb[f] = np.array(rec.compute_face_descriptor(rgb, sp(rgb, box)))
    pairs = read_pairs(args.pairs) if args.pairs else name_pairs(files, args.rule)
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    g = [cos(emb[a], emb[b]) for a, b, s in pairs if s]
    im = [cos(emb[a], emb[b]) for a, b, s in pairs if not s]
    auc = mannwhitneyu(g, im).statistic / len(g) / len(im)
    what = f"pairs from {os.path.basename(args.pairs)}" if args.pairs else f"rule {args.rule}"
    print(f"dlib's own pipeline: {len(files)} images ({found} found by its detector), {what}, {len(g)} genuine + {len(im)} impostor pairs: AUC {auc:.4f}")


if __name__ == "__main__":
    main()
