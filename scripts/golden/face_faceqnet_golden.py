#!/usr/bin/env python3
"""Goldens for the whole face-quality pipeline with the FaceQnet descriptor (template 'box') on the
seeded tiny fixture (test/fixtures/face/faceqnet-tiny, written by tools/export/faceqnet.py
--weights random --seed 14 --name faceqnet-tiny; source.h5 is the Keras model it converted).

Reference path, independent of iqa-node: cv2.FaceDetectorYN box -> corners rounded (floor(v + 0.5))
and clipped -> the authors' cv2.resize(crop, (224, 224)) (src/FaceQNet_obtainscores_Keras.py),
BGR float32 0-255 -> Keras 3 (KERAS_BACKEND=torch) loading source.h5 -> the regression output ->
the authors' clamp to [0, 1], x 100. Also the network alone on a committed 224 x 224 crop of the
face-golden pattern (identical input pixels).
"""
import json
import math
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from face_golden import photos  # noqa: E402
from face_magface_golden import IMAGES  # noqa: E402

FIXTURE = os.path.join(ROOT, "test", "fixtures", "face", "faceqnet-tiny")
OUT = os.path.join(ROOT, "test", "golden", "face")


def box_crop(img, box):
    x, y, w, h = box
    x0, y0 = max(0, math.floor(x + 0.5)), max(0, math.floor(y + 0.5))
    x1, y1 = min(img.shape[1], math.floor(x + w + 0.5)), min(img.shape[0], math.floor(y + h + 0.5))
    return cv2.resize(img[y0:y1, x0:x1], (224, 224))


def main():
    model = keras.models.load_model(os.path.join(FIXTURE, "source.h5"), compile=False)
    raw = lambda crop: float(model.predict(crop.astype(np.float32)[None], verbose=0)[0, 0])  # noqa: E731
    cases = []
    for rel, img, detections in photos(IMAGES):
        faces = []
        for f in detections:
            r = raw(box_crop(img, f["box"]))
            faces.append({"box": f["box"], "raw": r, "quality": min(1.0, max(0.0, r)) * 100})
        cases.append({"image": rel, "faces": faces})
        print(rel, [round(f["raw"], 6) for f in faces])
    pattern = cv2.resize(cv2.imread(os.path.join(OUT, "pattern.png"), cv2.IMREAD_COLOR), (224, 224))
    cv2.imwrite(os.path.join(OUT, "faceqnet-pattern224.png"), pattern)
    with open(os.path.join(OUT, "faceqnet.json"), "w") as f:
        json.dump({"meta": {"keras": keras.__version__, "backend": keras.backend.backend(), "opencv": cv2.__version__, "fixture": "test/fixtures/face/faceqnet-tiny"},
                   "cases": cases, "aligned": [{"crop": "faceqnet-pattern224.png", "raw": raw(pattern)}]}, f, indent=1)


if __name__ == "__main__":
    main()
