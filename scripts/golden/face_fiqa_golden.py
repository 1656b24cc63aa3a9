#!/usr/bin/env python3
"""Goldens for the whole face-quality pipeline with the CR-FIQA, SDD-FIQA and EQFace descriptors on
their seeded tiny fixtures (test/fixtures/face/{crfiqa,sddfiqa,eqface}-tiny, written by
tools/export/<method>.py --weights random --seed 14 --layers 1,1,1,1 --widths 8,16,16,16
--embedding 32 [--hidden 16] --name <method>-tiny).

Reference path, independent of iqa-node's runner: cv2.FaceDetectorYN landmarks -> skimage Umeyama +
OpenCV 4.x's fixed-point warpAffine (face_golden.warp_affine_cv4, numpy; the pip cv2 5.1's float warp
is recorded beside it as rawOpencv5Warp) to ArcFace 112 -> each author's own test-time preprocessing -> PyTorch (the seeded
networks rebuilt from tools/export/fiqa_models.py) -> the author's readout -> mapping:
  CR-FIQA  (evaluation/FaceModel.py + QualityModel.py): cv2 BGR -> RGB, CHW, div 255, sub 0.5,
           div 0.5; the `qs` output.
  SDD-FIQA (quality/eval.py): PIL RGB, Resize((112, 112)), ToTensor, Normalize(0.5, 0.5); the
           regressed output.
  EQFace   (test_quality.py): cv2.resize to 112, [..., ::-1], (x - 127.5) / 128; backbone(fc=True)
           -> quality network with its Softmax -> column 0; x 100 for 0-100.
Also each network alone on the committed aligned pattern crops (identical input pixels).
"""
import json
import os
import sys

import cv2
import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
from face_golden import ARCFACE, align, photos  # noqa: E402
from face_magface_golden import IMAGES  # noqa: E402
from fiqa_models import CRFIQA, EQFace, SDDFIQA, seeded  # noqa: E402

TINY = dict(layers=[1, 1, 1, 1], widths=[8, 16, 16, 16])
NETS = {
    "crfiqa": seeded(CRFIQA(embedding=32, **TINY), 14),
    "sddfiqa": seeded(SDDFIQA(**TINY), 14),
    "eqface": seeded(EQFace(embedding=32, hidden=16, **TINY), 14),
}


def crfiqa(bgr):
    x = torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32))
    x = x.div(255).sub(0.5).div(0.5)
    return float(NETS["crfiqa"](x)[1][0, 0])


def sddfiqa(bgr):
    img = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    x = T.Compose([T.Resize((112, 112)), T.ToTensor(), T.Normalize(mean=[0.5] * 3, std=[0.5] * 3)])(img)[None]
    return float(NETS["sddfiqa"](x).squeeze())


def eqface(bgr):
    c = cv2.resize(bgr, (112, 112))[..., ::-1].transpose(2, 0, 1)[None].astype(np.float32)
    net = NETS["eqface"]
    _, flat = net.backbone(torch.from_numpy((c - 127.5) / 128.0))
    return float(torch.softmax(net.quality(flat), dim=1)[0, 0])


READOUTS = {"crfiqa": crfiqa, "sddfiqa": sddfiqa, "eqface": eqface}


def quality(method, raw):
    return min(100.0, max(0.0, raw * 100 if method == "eqface" else raw))


def main():
    cases = []
    with torch.no_grad():
        for rel, img, detections in photos(IMAGES):
            out = []
            for f in detections:
                _, crop = align(img, f["landmarks"], ARCFACE, (112, 112), cv4=True)
                _, crop5 = align(img, f["landmarks"], ARCFACE, (112, 112))
                rec = {"box": f["box"]}
                for m, fn in READOUTS.items():
                    rec[m] = {"raw": fn(crop), "quality": quality(m, fn(crop)), "rawOpencv5Warp": fn(crop5)}
                out.append(rec)
            # shrunk: detected on a 640 copy (cv2 5.1's resize): landmarks differ from iqa-node's by ~1e-4 px
            cases.append({"image": rel, "shrunk": max(img.shape[:2]) > 640, "faces": out})
            print(rel, [{m: round(r[m]["raw"], 5) for m in READOUTS} for r in out])
        golden = os.path.join(ROOT, "test", "golden", "face")
        aligned = []
        for png in sorted(p for p in os.listdir(golden) if p.startswith("align-") and p.endswith(".arcface112.png")):
            c = cv2.imread(os.path.join(golden, png), cv2.IMREAD_COLOR)
            aligned.append({"crop": png, **{m: fn(c) for m, fn in READOUTS.items()}})
    meta = {"torch": torch.__version__, "opencv": cv2.__version__, "fixtures": {m: f"test/fixtures/face/{m}-tiny" for m in READOUTS}}
    with open(os.path.join(golden, "fiqa.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases, "aligned": aligned}, f, indent=1)


if __name__ == "__main__":
    main()
