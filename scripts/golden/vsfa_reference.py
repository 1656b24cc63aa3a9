#!/usr/bin/env python3
"""Golden VSFA scores from an independent PyTorch re-implementation of the authors' test procedure
(lidq92/VSFA test_demo.py + CNNfeatures.py + VSFA.py), for test/golden/vsfa_*.json.

Procedure (as the authors run it): every frame decoded to RGB24 by the ffmpeg command line (what
skvideo.io.vread does), PIL image -> torchvision ToTensor -> Normalize(ImageNet mean, std), frames in
batches of 32 through ResNet-50's children[:-2], stopping after child 7 (layer4); per frame
adaptive_avg_pool2d(1) and torch.std over the flattened map (unbiased) concatenated; head: Linear ->
GRU (h0 = 0) -> Linear per frame; TP pooling with max_pool1d / avg_pool1d exactly as VSFA.py writes
it; the video score is the mean.

Weights come from a state file written by tools/export/export_vsfa.py --save-state (the same
weights the ONNX graphs were made from; this script never reads the graphs).

  python scripts/golden/vsfa_reference.py --state S.pt --config tiny VIDEO [VIDEO ...] > golden.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms


def vread(path):
    probe = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
                            '-of', 'csv=p=0', path], capture_output=True, text=True, check=True).stdout.strip().split(',')
    w, h = int(probe[0]), int(probe[1])
    raw = subprocess.run(['ffmpeg', '-v', 'error', '-i', path, '-f', 'image2pipe', '-pix_fmt', 'rgb24', '-vcodec', 'rawvideo', '-'],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def global_std_pool2d(x):
    return torch.std(x.view(x.size()[0], x.size()[1], -1, 1), dim=2, keepdim=True)


class Extractor(nn.Module):
    def __init__(self, children, last):
        super().__init__()
        self.features = nn.Sequential(*children)
        self.last = last

    def forward(self, x):
        for ii, model in enumerate(self.features):
            x = model(x)
            if ii == self.last:
                return F.adaptive_avg_pool2d(x, 1), global_std_pool2d(x)


def extractor_for(config, state):
    if config == 'full':
        import torchvision
        children = list(torchvision.models.resnet50(weights=None).children())[:-2]
        last = 7
    else:
        children = [nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU()]
        last = 3
    ex = Extractor(children, last)
    ex.features.load_state_dict({k[len('trunk.'):]: v for k, v in state.items() if k.startswith('trunk.')})
    return ex.eval()


def get_features(video, extractor, batch=32):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    frames = torch.stack([transform(Image.fromarray(f)) for f in video])
    means, stds = [], []
    with torch.no_grad():
        for start in range(0, len(frames), batch):
            m, s = extractor(frames[start:start + batch])
            means.append(m)
            stds.append(s)
    return torch.cat((torch.cat(means), torch.cat(stds)), 1).squeeze(3).squeeze(2)


def TP(q, tau=12, beta=0.5):
    q = torch.unsqueeze(torch.t(q), 0)
    qm = -float('inf') * torch.ones((1, 1, tau - 1))
    qp = 10000.0 * torch.ones((1, 1, tau - 1))
    l = -F.max_pool1d(torch.cat((qm, -q), 2), tau, stride=1)
    m = F.avg_pool1d(torch.cat((q * torch.exp(-q), qp * torch.exp(-qp)), 2), tau, stride=1)
    n = F.avg_pool1d(torch.cat((torch.exp(-q), torch.exp(-qp)), 2), tau, stride=1)
    return beta * (m / n) + (1 - beta) * l


class Head(nn.Module):
    def __init__(self, state):
        super().__init__()
        red, feat = state['fc0.weight'].shape
        hid = state['rnn.weight_hh_l0'].shape[1]
        self.fc0 = nn.Linear(feat, red)
        self.rnn = nn.GRU(red, hid, batch_first=True)
        self.q = nn.Linear(hid, 1)
        self.hidden = hid
        self.load_state_dict(state)

    def forward(self, x):
        out, _ = self.rnn(self.fc0(x), torch.zeros(1, x.size(0), self.hidden))
        return self.q(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--state', required=True)
    ap.add_argument('--config', choices=['full', 'tiny'], required=True)
    ap.add_argument('--max-frames', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: its default)')
    ap.add_argument('videos', nargs='+')
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    st = torch.load(args.state, map_location='cpu', weights_only=True)
    extractor = extractor_for(args.config, st['features'])
    head = Head(st['temporal']).eval()
    out = {'config': args.config, 'videos': {}}
    for path in args.videos:
        t0 = time.perf_counter()
        video = vread(path)
        if args.max_frames:
            video = video[:args.max_frames]
        feats = get_features(video, extractor)
        with torch.no_grad():
            q = head(feats.unsqueeze(0))[0]
            score = torch.mean(TP(q)).item()
        seconds = time.perf_counter() - t0  # decode + features + head + pooling (benchmarks read it)
        out['videos'][path.split('/')[-1]] = {'frames': int(len(video)), 'quality': [float(v) for v in q[:, 0]], 'score': score, 'seconds': seconds}
        print(f'{path}: {len(video)} frames, score {score:.6f}', file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
