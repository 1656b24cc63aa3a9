#!/usr/bin/env python3
"""Golden values for the first two metrics, from independent references:
  sharpness: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
  psnr:      skimage.metrics.peak_signal_noise_ratio(ref, dist, data_range=255)
on the image fixtures and, when present, the calibration images in ../shared.
"""
import glob
import json
import os

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data", "calibration")
out = {"sharpness": {}, "psnr": {}}

def sharp(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

for p in sorted(glob.glob(os.path.join(ROOT, "test/fixtures/images/rgb8.*"))):
    if p.endswith((".png", ".bmp", ".tiff", ".webp")):
        out["sharpness"]["fixtures/" + os.path.basename(p)] = sharp(p)
for p in sorted(glob.glob(os.path.join(SHARED, "dist_dir", "*.bmp"))):
    name = os.path.basename(p)
    out["sharpness"]["calibration/" + name] = sharp(p)
    ref = cv2.imread(os.path.join(SHARED, "ref_dir", name), cv2.IMREAD_COLOR)
    dist = cv2.imread(p, cv2.IMREAD_COLOR)
    out["psnr"]["calibration/" + name] = float(peak_signal_noise_ratio(ref, dist, data_range=255))

with open(os.path.join(ROOT, "test/golden/metrics_basic.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(out, indent=1))
