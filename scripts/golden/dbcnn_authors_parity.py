#!/usr/bin/env python3
"""DBCNN against the authors' own code: builds their DBCNN (zwx8981/DBCNN-PyTorch DBCNN.py, a
checkout given with --repo; nothing of it is copied into iqa-node) with their real pre-trained S-CNN
(pretrained_scnn/scnn.pkl from that checkout) and a seeded VGG-16 and fc, saves its state dict as a
checkpoint, exports it with tools/export/export_dbcnn.py (the path a user's checkpoint takes), and
compares ONNX Runtime with the authors' forward on images of several sizes (multiples of 16 and not).

Their code calls .cuda() and torchvision's vgg16(pretrained=True); here .cuda() is the identity,
torch.load maps to the CPU and vgg16 is built untrained.

  /work/pyenv/bin/python scripts/golden/dbcnn_authors_parity.py --repo /path/to/DBCNN-PyTorch
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repo', required=True)
    a = ap.parse_args()
    torch.nn.Module.cuda = lambda self, *x, **k: self
    load = torch.load
    torch.load = lambda f, *x, **k: load(f, map_location='cpu', weights_only=False)
    untrained = torchvision.models.vgg16
    torchvision.models.vgg16 = lambda pretrained=False, **k: untrained(weights=None)
    sys.path.insert(0, os.path.abspath(a.repo))
    # DBCNN.py's trainer (DBCNNManager) uses `.cuda(async=True)`, which Python 3.7+ does not parse:
    # only its model class (everything before the trainer) is executed.
    import types
    scnn_src = open(os.path.join(a.repo, 'SCNN.py')).read()
    for name in ('matplotlib', 'matplotlib.pyplot', 'WPFolder'):  # imported by SCNN.py's trainer, unused by the model
        sys.modules.setdefault(name, types.ModuleType(name))
    scnn_mod = types.ModuleType('SCNN')
    sys.modules['SCNN'] = scnn_mod
    exec(compile(scnn_src[:scnn_src.index('class SCNNManager')], 'SCNN.py', 'exec'), scnn_mod.__dict__)  # noqa: S102  (the same for SCNN.py)
    src = open(os.path.join(a.repo, 'DBCNN.py')).read()
    authors = {}
    exec(compile(src[:src.index('class DBCNNManager')], 'DBCNN.py', 'exec'), authors)  # noqa: S102
    torch.manual_seed(0)
    net = authors['DBCNN'](os.path.join(a.repo, 'pretrained_scnn', 'scnn.pkl'), {'fc': True}).eval()
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, 'dbcnn_seeded.pth')
        torch.save(net.state_dict(), ckpt)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_dbcnn.py'), '--checkpoint', ckpt, '--out-dir', tmp, '--name', 'dbcnn'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import onnxruntime as ort
        sess = ort.InferenceSession(os.path.join(tmp, 'dbcnn.onnx'), providers=['CPUExecutionProvider'])
        worst = 0.0
        for h, w in [(384, 512), (231, 300), (224, 224)]:
            x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(h))
            with torch.no_grad():
                want = float(net(x)[0, 0])
            got = float(sess.run(['score'], {'input': x.numpy()})[0][0])
            worst = max(worst, abs(got - want))
            print(f'{h}x{w}: authors {want:.7f}, iqa-node ONNX {got:.7f}, |diff| {abs(got - want):.2e}')
        print(f'max |diff| {worst:.3g}')


if __name__ == '__main__':
    main()
