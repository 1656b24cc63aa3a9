#!/usr/bin/env python3
"""TReS against the authors' own code: builds their Net (isalirezag/TReS models.py, a checkout
given with --tres-repo; nothing of it is copied into iqa-node) at full size with seeded random
weights, saves its state dict as a checkpoint, exports that with tools/export/export_tres.py (the
path a user's checkpoint takes), and compares ONNX Runtime's per-crop scores with the authors'
Net.forward (whose prediction ignores the flipped branch it also computes).

Their code imports a few things this machine's torchvision lacks (torchvision.ops._new_empty_tensor
for torchvision < 0.7, by a string comparison of the version) and downloads ImageNet weights in
Net.__init__; both are stubbed here: resnet50(pretrained=True) builds an untrained network.

  /work/pyenv/bin/python scripts/golden/tres_authors_parity.py --tres-repo /path/to/TReS
"""
import argparse
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
import torchvision
import torchvision.ops
import torchvision.ops.misc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tres-repo', required=True)
    ap.add_argument('--crops', type=int, default=4)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torchvision.ops._new_empty_tensor = None
    torchvision.ops.misc._output_size = None
    untrained = torchvision.models.resnet50
    torchvision.models.resnet50 = lambda pretrained=False, **k: untrained(weights=None)
    sys.path.insert(0, os.path.abspath(a.tres_repo))
    import models as authors  # noqa: E402  (the authors' models.py)
    cfg = types.SimpleNamespace(network='resnet50', nheadt=16, num_encoder_layerst=2, dim_feedforwardt=64)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)  # Net.__init__ writes and removes a file 'modelpretrain' in the working directory
        torch.manual_seed(a.seed)
        net = authors.Net(cfg, 'cpu').eval()
        os.chdir(cwd)
        ckpt = os.path.join(tmp, 'bestmodel_seeded')
        torch.save(net.state_dict(), ckpt)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_tres.py'), '--checkpoint', ckpt, '--out-dir', tmp, '--name', 'tres'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import onnxruntime as ort
        sess = ort.InferenceSession(os.path.join(tmp, 'tres.onnx'), providers=['CPUExecutionProvider'])
        x = torch.randn(a.crops, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            want = net(x)[0][:, 0].double().numpy()
        got = sess.run(['score'], {'input': x.numpy()})[0].astype(np.float64)
        print(f"authors' Net {np.round(want, 6).tolist()}")
        print(f'iqa-node ONNX {np.round(got, 6).tolist()}')
        print(f'max |diff| {np.abs(got - want).max():.3g}, relative {np.abs(got - want).max() / np.abs(want).max():.3g}')


if __name__ == '__main__':
    main()
