#!/usr/bin/env python3
"""Goldens for the whole face-quality pipeline with MagFace / OFIQ-UQS descriptors on the seeded
tiny iResNet fixture (test/fixtures/face/magface-tiny, written by tools/export/magface.py
--weights random --seed 14 --layers 1,1,1,1 --widths 8,16,16,16 --embedding 32).

Reference path, independent of iqa-node: cv2.FaceDetectorYN landmarks -> skimage Umeyama +
cv2.warpAffine (ArcFace 112, or OFIQ 616 -> 192 -> crop) -> BGR / 255 -> PyTorch (the same
seeded network rebuilt from tools/export/magface_model.py) -> L2 norm -> mapping
(MagFace: linear [10, 110] -> [0, 100]; OFIQ: round(100 / (1 + exp((23 - norm) / 2.6)))).
Also the network alone on the committed aligned pattern crops (identical input pixels).
"""
import json
import math
import os
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
from face_golden import ARCFACE, OFIQ, SHARED, align, detect  # noqa: E402
from magface_model import IResNet, seeded  # noqa: E402

IMAGES = ["data/faces/serfiq_test_img.jpeg", "data/faces/serfiq_test_img2.jpeg",
          "data/faces/lfw-aligned/1-Harry_Belafonte_1.jpg", "data/faces/lfw-aligned/10-Brent_Coles_2.jpg",
          "data/faces/lfw-aligned/2-Elijah_Wood_1.jpg", "data/faces/lfw-aligned/20-Dominique_de_Villepin_2.jpg"]


def main():
    model = seeded(IResNet([1, 1, 1, 1], [8, 16, 16, 16], 32, stem=8), 14).eval()
    cases = []
    for rel in IMAGES:
        path = os.path.join(SHARED, rel)
        if not os.path.exists(path):
            continue
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        faces = detect(img, 640)
        out = []
        for f in faces:
            rec = {"box": f["box"]}
            for name, tmpl, canvas, resize, crop in (("arcface112", ARCFACE, (112, 112), None, None), ("ofiq616", OFIQ, (616, 616), (192, 192), (40, 33, 112, 112))):
                _, c = align(img, f["landmarks"], tmpl, canvas, resize, crop)
                x = torch.from_numpy(c.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)  # BGR, [0, 1]
                with torch.no_grad():
                    norm = float(model(x).norm())
                rec[name] = norm
            rec["magfaceQuality"] = min(100.0, max(0.0, (rec["arcface112"] - 10) / 100 * 100))
            rec["ofiqQuality"] = min(100, max(0, round(100 / (1 + math.exp((23.0 - rec["ofiq616"]) / 2.6)))))
            out.append(rec)
        cases.append({"image": rel, "faces": out})
        print(rel, [(round(r["arcface112"], 4), round(r["ofiq616"], 4), r["ofiqQuality"]) for r in out])
    # The network alone on identical pixels: the aligned pattern crops (face_golden.py) as inputs.
    golden = os.path.join(ROOT, "test", "golden", "face")
    aligned = []
    for png in sorted(p for p in os.listdir(golden) if p.startswith("align-") and p.endswith(".png")):
        c = cv2.imread(os.path.join(golden, png), cv2.IMREAD_COLOR)
        x = torch.from_numpy(c.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)
        with torch.no_grad():
            aligned.append({"crop": png, "norm": float(model(x).double().norm())})
    with open(os.path.join(golden, "magface.json"), "w") as f:
        json.dump({"meta": {"torch": torch.__version__, "opencv": cv2.__version__, "fixture": "test/fixtures/face/magface-tiny"}, "cases": cases, "aligned": aligned}, f, indent=1)


if __name__ == "__main__":
    main()
