#!/usr/bin/env python3
"""The anchor of scripts/eval/face-verification.mjs: dlib's own pipeline on the same LFW crops
(frontal detector with 2 upsamplings, or the whole crop when it finds nothing; 5-point shape
predictor; compute_face_descriptor on dlib's own face chip), the same pairs rule (every
same-identity pair plus as many seeded different-identity pairs), cosine scores, AUC.
Needs the PyPI wheels dlib-bin and face-recognition-models.

  python scripts/eval/face_verification_dlib.py [DIR]
"""
import importlib.util
import itertools
import os
import re
import sys

import cv2
import dlib
import numpy as np
from scipy.stats import mannwhitneyu

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data", "faces", "lfw-aligned")
M = os.path.join(os.path.dirname(importlib.util.find_spec("face_recognition_models").origin), "models")


def main():
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(os.path.join(M, "shape_predictor_5_face_landmarks.dat"))
    rec = dlib.face_recognition_model_v1(os.path.join(M, "dlib_face_recognition_resnet_model_v1.dat"))
    files = sorted(f for f in os.listdir(DIR) if f.endswith(".jpg"))
    emb, found = {}, 0
    for f in files:
        rgb = np.ascontiguousarray(cv2.imread(os.path.join(DIR, f))[:, :, ::-1])
        ds = det(rgb, 2)
        found += len(ds) > 0
        box = ds[0] if len(ds) else dlib.rectangle(0, 0, rgb.shape[1] - 1, rgb.shape[0] - 1)
        emb[f] = np.array(rec.compute_face_descriptor(rgb, sp(rgb, box)))
    ident = lambda f: re.match(r"^\d+-(.+)_\d+\.jpg$", f).group(1)  # noqa: E731
    same = [(a, b) for a, b in itertools.combinations(files, 2) if ident(a) == ident(b)]
    rng, diff = np.random.default_rng(1), set()
    while len(diff) < len(same):
        i, j = rng.integers(0, len(files), 2)
        if i != j and ident(files[i]) != ident(files[j]):
            diff.add((min(i, j), max(i, j)))
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    g = [cos(emb[a], emb[b]) for a, b in same]
    im = [cos(emb[files[i]], emb[files[j]]) for i, j in diff]
    auc = mannwhitneyu(g, im).statistic / len(g) / len(im)
    print(f"dlib's own pipeline: {len(files)} crops ({found} found by its detector), {len(same)} genuine + {len(diff)} impostor pairs: AUC {auc:.4f}")


if __name__ == "__main__":
    main()
