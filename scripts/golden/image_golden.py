#!/usr/bin/env python3
"""Writes the image fixtures and the golden values of the conversion path.

References (independent of iqa-node's code):
  decode, cvtColor, resize (area/bilinear/bicubic) -> opencv-python
  MATLAB rgb2gray                                   -> the coefficients MathWorks documents, in numpy
  MATLAB imresize (bicubic, antialias)              -> pyiqa.matlab_utils.imresize (torch)
  crop / NCHW packing                               -> numpy
Run: /path/to/python scripts/golden/image_golden.py   (numpy, opencv-python-headless, torch, pyiqa)
"""
import json
import os

import cv2
import numpy as np
import torch
from pyiqa.matlab_utils import imresize

import pyiqa.matlab_utils.resize as pyiqa_resize

# pyiqa's cast_input() always casts to float32 (its dtype test is always true), which limits the
# reference to ~1e-6 relative precision; keep the input's float64 instead.
pyiqa_resize.cast_input = lambda x: (x, None)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "test", "fixtures", "images")
os.makedirs(FIX, exist_ok=True)
rng = np.random.default_rng(20261126)

H, W = 29, 37
yy, xx = np.mgrid[0:H, 0:W]
base = np.stack([128 + 90 * np.sin(xx / 5.0 + c) * np.cos(yy / 7.0) for c in range(3)], axis=-1)
bgr8 = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).round().astype(np.uint8)
bgra8 = np.dstack([bgr8, (np.arange(H * W).reshape(H, W) % 256).astype(np.uint8)])
gray8 = cv2.cvtColor(bgr8, cv2.COLOR_BGR2GRAY)
bgr16 = (bgr8.astype(np.uint16) * 257 + rng.integers(0, 200, bgr8.shape)).astype(np.uint16)

fixtures = {
    "rgb8.png": (bgr8, []),
    "rgba8.png": (bgra8, []),
    "gray8.png": (gray8, []),
    "rgb16.png": (bgr16, []),
    "rgb8.bmp": (bgr8, []),
    "rgb8.tiff": (bgr8, []),
    "rgb8.webp": (bgr8, [cv2.IMWRITE_WEBP_QUALITY, 101]),  # >100: lossless
    "rgb8.jpg": (bgr8, [cv2.IMWRITE_JPEG_QUALITY, 90]),
}
golden = {"decode": {}}
for name, (img, params) in fixtures.items():
    path = os.path.join(FIX, name)
    ok, buf = cv2.imencode(os.path.splitext(name)[1], img, params)
    assert ok
    buf.tofile(path)
    dec = cv2.imread(path, cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    golden["decode"][name] = {
        "width": int(dec.shape[1]), "height": int(dec.shape[0]),
        "channels": 1 if dec.ndim == 2 else int(dec.shape[2]),
        "dtype": str(dec.dtype), "data": dec.reshape(-1).tolist(),
        # libjpeg versions may differ by one level on some pixels
        "tolerance": 1 if name.endswith(".jpg") else 0,
    }

# MATLAB rgb2gray: Y = 0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B, uint8 rounding.
def matlab_gray(bgr):
    y = 0.298936021293775 * bgr[..., 2].astype(np.float64) + 0.587043074451121 * bgr[..., 1] + 0.114020904255103 * bgr[..., 0]
    return np.floor(y + 0.5)

golden["rgb2gray_matlab"] = matlab_gray(bgr8).astype(np.uint8).reshape(-1).tolist()
golden["rgb2gray_opencv"] = cv2.cvtColor(bgr8, cv2.COLOR_BGR2GRAY).reshape(-1).tolist()

f64 = bgr8.astype(np.float64) / 255.0
golden["resize"] = {}
for interp, flag in [("area", cv2.INTER_AREA), ("bilinear", cv2.INTER_LINEAR), ("bicubic", cv2.INTER_CUBIC)]:
    for (w, h) in [(18, 14), (50, 41)]:
        r = cv2.resize(f64, (w, h), interpolation=flag)
        golden["resize"][f"{interp}_{w}x{h}"] = r.reshape(-1).tolist()

gray_f = matlab_gray(bgr8)
golden["imresize_matlab"] = {}
def matlab_imresize(img, h, w):
    """pyiqa's port always resizes rows first; MATLAB resizes the dimension with the smaller
    scale first. One dimension at a time (the other at scale 1, an identity) gives MATLAB's order."""
    t = torch.from_numpy(img)[None, None]
    sr, sc = h / img.shape[0], w / img.shape[1]
    if sr <= sc:
        t = imresize(t, sizes=(h, img.shape[1]), antialiasing=True)
        t = imresize(t, sizes=(h, w), antialiasing=True)
    else:
        t = imresize(t, sizes=(img.shape[0], w), antialiasing=True)
        t = imresize(t, sizes=(h, w), antialiasing=True)
    return t.squeeze().numpy()

for (w, h) in [(19, 15), (13, 9), (60, 47)]:
    golden["imresize_matlab"][f"{w}x{h}"] = matlab_imresize(gray_f, h, w).reshape(-1).tolist()
# imresize(img, 0.5) as BRISQUE/NIQE call it: scale exactly 0.5 on both axes, size ceil(0.5 n).
half = imresize(torch.from_numpy(gray_f)[None, None], scale=0.5, antialiasing=True).squeeze().numpy()
golden["imresize_matlab_half"] = {"width": int(half.shape[1]), "height": int(half.shape[0]), "data": half.reshape(-1).tolist()}

golden["crop"] = {"x": 5, "y": 3, "width": 11, "height": 7, "data": bgr8[3:10, 5:16].reshape(-1).tolist()}

# NCHW packing with ImageNet normalisation: (rgb / 255 - mean) / std, channels first.
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
rgb = bgr8[..., ::-1].astype(np.float64) / 255.0
golden["tensor_imagenet"] = ((rgb - mean) / std).transpose(2, 0, 1).reshape(-1).tolist()
golden["tensor_gray"] = (gray8.astype(np.float64) / 255.0 - 0.5).reshape(-1).tolist()

with open(os.path.join(ROOT, "test", "golden", "image.json"), "w") as f:
    json.dump(golden, f)
print("wrote", len(fixtures), "fixtures and test/golden/image.json")
