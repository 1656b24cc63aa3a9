#!/usr/bin/env python3
"""Exports MTCNN's three networks (Zhang et al., IEEE SPL 2016) from the PyPI package
facenet-pytorch (MIT; it ships pnet.pt / rnet.pt / onet.pt in facenet_pytorch/data) to ONNX for
iqa-node's second face detector (native/core/face/mtcnn.cpp runs the cascade).

The networks are rebuilt here from the paper's layer table with the state dicts' parameter names:
  P-Net  conv3x3(3->10) PReLU maxpool2/2 conv3x3(->16) PReLU conv3x3(->32) PReLU, then 1x1 convs:
         face probabilities (softmax over 2) and box offsets (4); fully convolutional
  R-Net  conv3x3(3->28) PReLU maxpool3/2 conv3x3(->48) PReLU maxpool3/2 conv2x2(->64) PReLU,
         flatten in (W, H, C) order, Linear(576->128) PReLU, heads 2 (softmax) and 4
  O-Net  conv3x3(3->32) PReLU maxpool3/2 conv3x3(->64) PReLU maxpool3/2 conv3x3(->64) PReLU
         maxpool2/2 conv2x2(->128) PReLU, flatten (W, H, C), Linear(1152->256) PReLU, heads 2
         (softmax), 4 and 10 (landmarks, x0..x4 then y0..y4)
  (max pools with ceil_mode). Inputs: RGB NCHW, (x - 127.5) / 128 (done by the caller).
Outputs: pnet.onnx (dynamic batch, height, width), rnet.onnx (N x 3 x 24 x 24), onet.onnx
(N x 3 x 48 x 48), each checked against PyTorch (max |d| <= 1e-5) before writing.

  python tools/export/mtcnn.py --out-dir models/face/mtcnn      # weights from the installed facenet-pytorch
  python tools/export/mtcnn.py --checkpoint DIR --out-dir OUT   # DIR holds pnet.pt, rnet.pt, onet.pt
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import sha256  # noqa: E402


def conv(cin, cout, k):
    return nn.Conv2d(cin, cout, k)


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = conv(3, 10, 3), nn.PReLU(10), nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = conv(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = conv(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.conv4_2 = conv(32, 2, 1), conv(32, 4, 1)

    def forward(self, x):
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x)))))))
        return torch.softmax(self.conv4_1(x), dim=1), self.conv4_2(x)


class RNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = conv(3, 28, 3), nn.PReLU(28), nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2, self.pool2 = conv(28, 48, 3), nn.PReLU(48), nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = conv(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool2(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x))))))
        x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).flatten(1)  # the Caffe original's (W, H, C) order
        x = self.prelu4(self.dense4(x))
        return torch.softmax(self.dense5_1(x), dim=1), self.dense5_2(x)


class ONet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1, self.pool1 = conv(3, 32, 3), nn.PReLU(32), nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2, self.pool2 = conv(32, 64, 3), nn.PReLU(64), nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3, self.pool3 = conv(64, 64, 3), nn.PReLU(64), nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = conv(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool2(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x))))))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x)).permute(0, 3, 2, 1).flatten(1)
        x = self.prelu5(self.dense5(x))
        return torch.softmax(self.dense6_1(x), dim=1), self.dense6_2(x), self.dense6_3(x)


NETS = {"pnet": (PNet, ["prob", "reg"], None), "rnet": (RNet, ["prob", "reg"], 24), "onet": (ONet, ["prob", "reg", "landmarks"], 48)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="folder with pnet.pt, rnet.pt, onet.pt (default: the installed facenet_pytorch/data)")
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    src = args.checkpoint
    if not src:
        import importlib.util
        spec = importlib.util.find_spec("facenet_pytorch")
        if spec is None:
            sys.exit("give --checkpoint DIR or pip install --no-deps facenet-pytorch")
        src = os.path.join(os.path.dirname(spec.origin), "data")
    os.makedirs(args.out_dir, exist_ok=True)
    import onnxruntime as ort
    rng = np.random.default_rng(0)
    for name, (cls, outputs, size) in NETS.items():
        net = cls().eval()
        net.load_state_dict(torch.load(os.path.join(src, f"{name}.pt"), map_location="cpu", weights_only=True), strict=True)
        path = os.path.join(args.out_dir, f"{name}.onnx")
        axes = {"input": {0: "batch", 2: "height", 3: "width"} if size is None else {0: "batch"}, **{o: {0: "batch"} for o in outputs}}
        if size is None:
            axes.update({o: {0: "batch", 2: "rows", 3: "cols"} for o in outputs})
        s = size or 57
        torch.onnx.export(net, torch.zeros(1, 3, s, s), path, input_names=["input"], output_names=outputs, dynamic_axes=axes, opset_version=13, dynamo=False)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for shape in ([2, 3, s, s],) if size else ([1, 3, 37, 50], [2, 3, 120, 91]):
            x = rng.uniform(-1, 1, shape).astype(np.float32)
            with torch.no_grad():
                ref = [r.numpy() for r in net(torch.from_numpy(x))]
            err = max(float(np.abs(g - r).max()) for g, r in zip(sess.run(outputs, {"input": x}), ref))
            if err > 1e-5:
                sys.exit(f"{name}: ONNX Runtime differs from PyTorch by {err:.2e}")
        print(f"{name}.onnx  {os.path.getsize(path)} bytes  sha256 {sha256(path)}  (ORT vs PyTorch max |d| {err:.1e})")


if __name__ == "__main__":
    main()
