#!/usr/bin/env python3
"""Goldens for the MTCNN detector (native/core/face/mtcnn.cpp on models/face/mtcnn/*.onnx) from
facenet-pytorch's own MTCNN (pip install --no-deps facenet-pytorch; its pnet/rnet/onet weights):
MTCNN(keep_all=True, select_largest=False).detect(rgb, landmarks=True) with its defaults (min face
20, thresholds 0.6/0.7/0.7, factor 0.709), on the image shrunk as iqa-node's detectors shrink it
(longer side at most 640, cv2.resize bilinear), coordinates scaled back. Plus a 3 x 2 mosaic of
six LFW photos (as stored, built the same way by the test from the decoded files), several
faces in one image.
"""
import json
import os
import sys

import cv2
import facenet_pytorch
import numpy as np
import torch
from facenet_pytorch import MTCNN

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from face_golden import SHARED  # noqa: E402

IMAGES = [("data/faces/serfiq_test_img.jpeg", 640), ("data/faces/serfiq_test_img2.jpeg", 640), ("data/faces/serfiq_test_img.jpeg", 0),
          ("data/faces/lfw-aligned/1-Harry_Belafonte_1.jpg", 640), ("data/faces/lfw-aligned/10-Brent_Coles_2.jpg", 640),
          ("data/faces/lfw-aligned/2-Elijah_Wood_1.jpg", 640), ("data/faces/lfw-aligned/20-Dominique_de_Villepin_2.jpg", 640),
          ("data/faces/lfw-aligned/100-David_McCullough_3.jpg", 640)]


MOSAIC = ["1-Harry_Belafonte_1.jpg", "10-Brent_Coles_2.jpg", "2-Elijah_Wood_1.jpg", "20-Dominique_de_Villepin_2.jpg", "100-David_McCullough_3.jpg", "1-Harry_Belafonte_1.jpg"]


def mosaic():
    tiles = [cv2.imread(os.path.join(SHARED, "data/faces/lfw-aligned", n), cv2.IMREAD_COLOR) for n in MOSAIC]
    return np.concatenate([np.concatenate(tiles[:3], axis=1), np.concatenate(tiles[3:], axis=1)], axis=0)


def main():
    det = MTCNN(keep_all=True, select_largest=False, device="cpu")
    cases = []
    for rel, max_side in IMAGES + [("mosaic", 640), ("mosaic", 200)]:
        path = os.path.join(SHARED, rel)
        if rel != "mosaic" and not os.path.exists(path):
            continue
        img = mosaic() if rel == "mosaic" else cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        scale = 1.0
        if max_side > 0 and max(w, h) > max_side:
            scale = max_side / max(w, h)
            img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
        with torch.no_grad():
            boxes, probs, points = det.detect(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), landmarks=True)
        faces = []
        for b, p, l in zip(boxes if boxes is not None else [], probs if probs is not None else [], points if points is not None else []):
            faces.append({"box": [float(b[0]) / scale, float(b[1]) / scale, float(b[2] - b[0]) / scale, float(b[3] - b[1]) / scale],
                          "landmarks": [float(v) / scale for v in np.asarray(l).ravel()], "score": float(p)})
        cases.append({"image": rel, "maxSide": max_side, "faces": faces})
        print(rel, max_side, [(round(f["score"], 4), [round(v, 1) for v in f["box"]]) for f in faces])
    with open(os.path.join(ROOT, "test", "golden", "face", "mtcnn.json"), "w") as f:
        json.dump({"mosaic": MOSAIC, "meta": {"facenet_pytorch": getattr(facenet_pytorch, "__version__", "2.6.0"), "torch": torch.__version__, "opencv": cv2.__version__}, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
