#!/usr/bin/env python3
"""Golden for the dlib ResNet export (tools/export/dlib_resnet.py): dlib's own
compute_face_descriptor on generated 150x150 chips (a pattern and a smooth image; no photograph is
committed), written to test/golden/face/dlib.json with the chips as PNG. test/face-dlib.test.ts runs
them through faceQuality(..., {aligned: true, embeddings: true}) when the exported model is present.

Needs the PyPI wheels dlib-bin and face-recognition-models.
"""
import importlib.util
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from face_golden import recogniser_chips  # noqa: E402


def main():
    import dlib
    models = os.path.join(os.path.dirname(importlib.util.find_spec("face_recognition_models").origin), "models")
    rec = dlib.face_recognition_model_v1(os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat"))
    out = os.path.join(ROOT, "test", "golden", "face")
    chips = recogniser_chips(150, "dlib")
    cases = []
    for name, bgr in chips.items():
        cv2.imwrite(os.path.join(out, name), bgr)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        d = np.array(rec.compute_face_descriptor(rgb))
        cases.append({"chip": name, "embedding": d.tolist(), "norm": float(np.linalg.norm(d))})
        print(name, float(np.linalg.norm(d)))
    with open(os.path.join(out, "dlib.json"), "w") as f:
        json.dump({"meta": {"dlib": dlib.__version__}, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
