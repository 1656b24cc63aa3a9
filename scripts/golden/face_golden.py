#!/usr/bin/env python3
"""Goldens for face detection and alignment (test/face.test.ts), from independent references:

* detection: OpenCV's cv2.FaceDetectorYN (opencv-python >= 4.8 decodes the 2023 YuNet layout the
  shipped model has; Debian's OpenCV 4.6 only knows the older layout) on the same ONNX file, on
  the image resized as our detector resizes it (longer side > maxSide -> cv2.resize bilinear),
  coordinates scaled back to the original image;
* alignment: skimage.transform.SimilarityTransform.estimate (Umeyama) from five landmarks to
  the ArcFace 112 template (and OFIQ's 616 template), cv2.warpAffine bilinear with zero border,
  OFIQ's 616 -> 192 -> crop (40, 33, 112, 112). The source is a generated pattern
  (test/golden/face/pattern.png: checkerboard, gradients, rings) so that no photograph is copied
  into the repository; the landmark sets are the detector's on the face photos, mapped into the
  pattern's frame, plus rotated and mirrored ones.

Usage: python3 scripts/golden/face_golden.py  (reads ../shared, writes test/golden/face/)
"""
import json
import os
import sys

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
OUT = os.path.join(ROOT, "test", "golden", "face")
MODEL = os.path.join(ROOT, "models", "face", "yunet_n_dynamic.onnx")

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]])
OFIQ = np.array([[251, 272], [364, 272], [308, 336], [262, 402], [355, 402]], dtype=np.float64)

CASES = [
    # (image under ../shared, maxSide)
    ("data/faces/serfiq_test_img.jpeg", 0),
    ("data/faces/serfiq_test_img.jpeg", 640),
    ("data/faces/serfiq_test_img2.jpeg", 640),
    ("data/faces/lfw-aligned/1-Harry_Belafonte_1.jpg", 640),
    ("data/faces/lfw-aligned/10-Brent_Coles_2.jpg", 640),
    ("data/faces/lfw-aligned/100-David_McCullough_3.jpg", 640),
    ("data/calibration/ref_dir/" + sorted(os.listdir(os.path.join(SHARED, "data/calibration/ref_dir")))[0], 640),
]
SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K = 0.6, 0.3, 5000


def detect(img, max_side):
    h, w = img.shape[:2]
    scale = 1.0
    if max_side > 0 and max(w, h) > max_side:
        scale = max_side / max(w, h)
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
    det = cv2.FaceDetectorYN.create(MODEL, "", (img.shape[1], img.shape[0]), SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K)
    _, faces = det.detect(img)
    out = []
    for f in faces if faces is not None else []:
        out.append({"box": [float(v) / scale for v in f[:4]], "landmarks": [float(v) / scale for v in f[4:14]], "score": float(f[14])})
    return out


def photos(images, max_side=640):
    """(relative path, BGR image, detections) of each of `images` that ../shared holds."""
    for rel in images:
        path = os.path.join(SHARED, rel)
        if os.path.exists(path):
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            yield rel, img, detect(img, max_side)


def warp_affine_cv4(img, m, size):
    """OpenCV 4.x's warpAffine (INTER_LINEAR, constant 0 border, 8-bit) in numpy: the inverse map
    in double, source positions in fixed point (cvRound(. * 1024) + 16, >> 5: 1/32 px), bilinear
    weights (32 - f) * (32 - g) * 32 ... summing to 2^15, (sum + 2^14) >> 15; outside neighbours 0.
    OpenCV 5's float warp (the pip cv2 here) differs from it by a level on ~15% of a face crop's
    samples; Debian's 4.6 (iqa-node's) is this one."""
    M = np.array(m, dtype=np.float64).reshape(6).copy()
    d = M[0] * M[4] - M[1] * M[3]
    d = 1.0 / d if d != 0 else 0.0
    M[0], M[4] = M[4] * d, M[0] * d
    M[1] *= -d
    M[3] *= -d
    M[2], M[5] = -M[0] * M[2] - M[1] * M[5], -M[3] * M[2] - M[4] * M[5]
    w, h = size
    xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    x = (np.rint((M[1] * ys + M[2]) * 1024).astype(np.int64)[:, None] + 16 + np.rint(M[0] * xs * 1024).astype(np.int64)[None, :]) >> 5
    y = (np.rint((M[4] * ys + M[5]) * 1024).astype(np.int64)[:, None] + 16 + np.rint(M[3] * xs * 1024).astype(np.int64)[None, :]) >> 5
    xi, fx, yi, fy = x >> 5, x & 31, y >> 5, y & 31
    src = img.astype(np.int64)

    def at(yy, xx):
        inside = (xx >= 0) & (xx < img.shape[1]) & (yy >= 0) & (yy < img.shape[0])
        return np.where(inside[..., None], src[np.clip(yy, 0, img.shape[0] - 1), np.clip(xx, 0, img.shape[1] - 1)], 0)

    acc = (at(yi, xi) * ((32 - fx) * (32 - fy) * 32)[..., None] + at(yi, xi + 1) * (fx * (32 - fy) * 32)[..., None]
           + at(yi + 1, xi) * ((32 - fx) * fy * 32)[..., None] + at(yi + 1, xi + 1) * (fx * fy * 32)[..., None])
    return ((acc + (1 << 14)) >> 15).astype(np.uint8)


def align(img, landmarks, template, canvas, resize=None, crop=None, cv4=False):
    """skimage Umeyama + warpAffine (cv2's, or OpenCV 4.x's fixed point when `cv4`)."""
    t = SimilarityTransform()
    t.estimate(np.array(landmarks, dtype=np.float64).reshape(5, 2), template)
    m = t.params[:2]
    out = warp_affine_cv4(img, m, canvas) if cv4 else cv2.warpAffine(img, m, canvas, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if resize:
        out = cv2.resize(out, resize, interpolation=cv2.INTER_LINEAR)
    if crop:
        x, y, w, h = crop
        out = out[y:y + h, x:x + w]
    return m, out


def pattern(w=640, h=480):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    checker = ((x // 16 + y // 16) % 2) * 90
    rings = 60 * (np.sin(np.hypot(x - 300, y - 220) / 6.0) > 0)
    b = checker + x / w * 100
    g = checker + rings + y / h * 60
    r = rings + (x + y) / (w + h) * 150 + 40
    return np.clip(np.round(np.stack([b, g, r], axis=-1)), 0, 255).astype(np.uint8)


def recogniser_chips(size, prefix):
    """Two generated size x size BGR chips for the recogniser goldens (no photograph is committed): a
    cut of pattern() and a smooth colour field; {f"{prefix}-chip-pattern.png": ..., ...-smooth.png}."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    smooth = np.stack([128 + 100 * np.sin(x / 11), 128 + 90 * np.cos(y / 13), 128 + 80 * np.sin((x + y) / 17)], axis=-1)
    return {f"{prefix}-chip-pattern.png": pattern()[100:100 + size, 200:200 + size],
            f"{prefix}-chip-smooth.png": np.clip(np.round(smooth), 0, 255).astype(np.uint8)}


def landmark_sets(detections):
    sets = []
    for d in detections:
        for f in d["faces"]:
            p = np.array(f["landmarks"]).reshape(5, 2)
            # into the pattern's frame: centred at (320, 240), eye distance ~ 90 px
            eye = np.linalg.norm(p[1] - p[0])
            q = (p - p.mean(axis=0)) * (90.0 / eye) + [320, 240]
            sets.append(q.ravel().tolist())
    base = np.array(sets[0]).reshape(5, 2)
    for deg, mirror, s, t in ((25, False, 1.4, (40, -30)), (-60, False, 0.5, (-100, 60)), (10, True, 2.2, (0, 0))):
        a = np.deg2rad(deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        q = (base - [320, 240]) @ rot.T * s + [320, 240] + t
        if mirror:  # a reflected configuration (Umeyama's d = -1 branch)
            q[:, 0] = 640 - q[:, 0]
        sets.append(q.ravel().tolist())
    return sets


def main():
    if not os.path.isdir(SHARED):
        sys.exit("../shared is missing")
    os.makedirs(OUT, exist_ok=True)
    detections, alignments = [], []
    for rel, max_side in CASES:
        img = cv2.imread(os.path.join(SHARED, rel), cv2.IMREAD_COLOR)
        faces = detect(img, max_side)
        detections.append({"image": rel, "maxSide": max_side, "scoreThreshold": SCORE_THRESHOLD, "nmsThreshold": NMS_THRESHOLD, "faces": faces})
    src = pattern()
    cv2.imwrite(os.path.join(OUT, "pattern.png"), src)
    for i, lm in enumerate(landmark_sets(detections)):
        for name, tmpl, canvas, resize, crop in (("arcface112", ARCFACE, (112, 112), None, None), ("ofiq616", OFIQ, (616, 616), (192, 192), (40, 33, 112, 112))):
            m, crop_img = align(src, lm, tmpl, canvas, resize, crop)
            png = f"align-{i}.{name}.png"
            cv2.imwrite(os.path.join(OUT, png), crop_img)
            alignments.append({"image": "pattern.png", "template": name, "landmarks": lm, "matrix": m.tolist(), "crop": png})
    meta = {"opencv": cv2.__version__, "skimage": __import__("skimage").__version__, "model": os.path.basename(MODEL)}
    with open(os.path.join(OUT, "detect.json"), "w") as f:
        json.dump({"meta": meta, "cases": detections}, f, indent=1)
    with open(os.path.join(OUT, "align.json"), "w") as f:
        json.dump({"meta": meta, "cases": alignments}, f, indent=1)
    for d in detections:
        print(d["image"], d["maxSide"], len(d["faces"]), [round(x["score"], 3) for x in d["faces"]])


if __name__ == "__main__":
    main()
