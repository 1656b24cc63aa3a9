#!/usr/bin/env python3
"""PyTorch reference pipeline for bench/hyperiqa-cpu.mjs: the authors' test transform (PIL decode,
Resize((512, 384)), K RandomCrop(224), ToTensor, Normalize), HyperNet on the K crops of an image as
one batch, the authors' TargetNet; prints one JSON line with the timings.

  python bench/hyperiqa_torch.py --state STATE.pt --crops 10 --threads 2 IMAGE...
"""
import argparse
import json
import os
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'export'))
from hyperiqa_model import FULL, HyperNet, reference_scores  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--state', required=True)
    ap.add_argument('--crops', type=int, default=10)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('images', nargs='+')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    net = HyperNet(FULL)
    net.load_state_dict(torch.load(a.state, map_location='cpu'))
    net.eval()
    tf = T.Compose([T.Resize((512, 384)), T.RandomCrop(224), T.ToTensor(),
                    T.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])
    torch.manual_seed(0)

    def score(path):
        img = Image.open(path).convert('RGB')
        batch = torch.stack([tf(img) for _ in range(a.crops)])
        with torch.no_grad():
            return float(reference_scores(net, batch).mean())

    for p in a.images[:a.warmup]:
        score(p)
    t0 = time.perf_counter()
    scores = [score(p) for p in a.images]
    dt = time.perf_counter() - t0
    print(json.dumps({'seconds': dt, 'images': len(a.images), 'crops': len(a.images) * a.crops,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__, 'meanScore': sum(scores) / len(scores)}))


if __name__ == '__main__':
    main()
