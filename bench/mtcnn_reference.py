"""The anchor side of bench/face-mtcnn.mjs: facenet-pytorch's MTCNN.detect (its own PyTorch nets,
CPU, torch threads as given) on each image shrunk as iqa-node shrinks it (longer side <= MAX_SIDE,
cv2.resize bilinear; 0: full size), after one warm-up call. Prints one JSON line: ms per image
and the boxes of the last image (in its original coordinates).
Usage: python bench/mtcnn_reference.py ROUNDS MAX_SIDE THREADS IMAGE...
"""
import json
import sys
import time

import cv2
import torch
from facenet_pytorch import MTCNN


def main():
    rounds, max_side, threads, images = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    torch.set_num_threads(threads)
    det = MTCNN(keep_all=True, select_largest=False, device="cpu")
    imgs, scales = [], []
    for p in images:
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        s = 1.0
        if max_side > 0 and max(w, h) > max_side:
            s = max_side / max(w, h)
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
        scales.append(s)
        imgs.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    with torch.no_grad():
        det.detect(imgs[0])
        t0 = time.perf_counter()
        for _ in range(rounds):
            for img in imgs:
                boxes, _ = det.detect(img)
    ms = (time.perf_counter() - t0) * 1000 / (rounds * len(imgs))
    print(json.dumps({"msPerImage": ms, "torch": torch.__version__, "threads": torch.get_num_threads(), "lastBoxes": [] if boxes is None else (boxes / scales[-1]).tolist()}))


if __name__ == "__main__":
    main()
