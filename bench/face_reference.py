"""The anchor side of bench/face.mjs: the same work as OFIQ does it (OFIQ itself cannot be built
here): per image, OpenCV DNN's FaceDetectorYN on the same YuNet ONNX, skimage Umeyama + cv2
warpAffine to OFIQ's 616 template -> 192 -> crop 112, then ONNX Runtime with a default
SessionOptions (OFIQ's ONNXRTSegmentation: default threads, CPU) at batch 1 on the same iResNet50.
Prints one JSON line: ms per image and the raw norms.
Usage: python bench/face_reference.py DETECTOR.onnx MODEL.onnx ROUNDS IMAGE...
"""
import json
import math
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort
from skimage.transform import SimilarityTransform

OFIQ = np.array([[251, 272], [364, 272], [308, 336], [262, 402], [355, 402]], dtype=np.float64)


def main():
    detector, model, rounds, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    imgs = [cv2.imread(p, cv2.IMREAD_COLOR) for p in images]
    norms = []

    def one(img):
        h, w = img.shape[:2]
        s = 640 / max(w, h) if max(w, h) > 640 else 1.0
        small = cv2.resize(img, (round(w * s), round(h * s))) if s != 1.0 else img
        det = cv2.FaceDetectorYN.create(detector, "", (small.shape[1], small.shape[0]), 0.6, 0.3, 5000)
        _, faces = det.detect(small)
        out = []
        for f in faces if faces is not None else []:
            t = SimilarityTransform()
            t.estimate(f[4:14].reshape(5, 2).astype(np.float64) / s, OFIQ)
            crop = cv2.resize(cv2.warpAffine(img, t.params[:2], (616, 616), borderValue=0), (192, 192))[33:145, 40:152]
            x = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
            e = sess.run(None, {"input": x})[0]
            out.append(float(np.linalg.norm(e)))
        return out

    for img in imgs:  # warm-up
        one(img)
    t0 = time.perf_counter()
    for _ in range(rounds):
        for img in imgs:
            norms = one(img)
    ms = (time.perf_counter() - t0) * 1000 / (rounds * len(imgs))
    print(json.dumps({"msPerImage": ms, "lastNorms": norms, "ort": ort.__version__, "opencv": cv2.__version__}))


if __name__ == "__main__":
    main()
