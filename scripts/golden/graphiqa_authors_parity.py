#!/usr/bin/env python3
"""GraphIQA against the authors' own code: builds their Reg_Domain (geekyutao/GraphIQA
models/networks.py, a checkout given with --graphiqa-repo; nothing of it is copied into iqa-node)
at full size with seeded random weights, as finetune.py builds it (pretrain=False), saves its state
dict as finetune.py's save_checkpoint does, exports that with tools/export/export_graphiqa.py (the
path a user's checkpoint takes), and compares ONNX Runtime's (mean, scale) per crop with the
(mean, scale) their forward hands to _mos_vae, one crop per forward as their evaluate() runs it.
It also prints how far their forward on a batch of several crops moves each crop's mean: their
graph couples the images of a batch, which is why the export is per crop (N = 1).

Their code assumes CUDA (.cuda() calls), a torchvision that still has resnet.model_urls, and
downloads ImageNet weights; here .cuda() is the identity (CPU only), model_urls is supplied, and
resnet50(pretrained=True) builds an untrained network; utils.dgreg_utils' dataset import
(datasets.utils: lmdb, openpyxl) is stubbed, as nothing of it is used.

  /work/pyenv/bin/python scripts/golden/graphiqa_authors_parity.py --graphiqa-repo /path/to/GraphIQA
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
import torchvision.models.resnet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))


def authors_net(repo, dosz, egsz):
    torchvision.models.resnet.model_urls = {f'resnet{n}': f'https://download.pytorch.org/models/resnet{n}.pth' for n in (18, 34, 50)}
    untrained = torchvision.models.resnet50
    torchvision.models.resnet50 = lambda pretrained=False, **k: untrained(weights=None)
    torch.Tensor.cuda = lambda self, *a, **k: self
    datasets = types.ModuleType('datasets')
    datasets.utils = types.ModuleType('datasets.utils')
    sys.modules['datasets'], sys.modules['datasets.utils'] = datasets, datasets.utils
    sys.path.insert(0, os.path.abspath(repo))
    from models.networks import Reg_Domain
    return Reg_Domain(do_emb_size=dosz, eg_emb_size=egsz, pretrain=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--graphiqa-repo', required=True)
    ap.add_argument('--crops', type=int, default=4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dosz', type=int, default=256)
    ap.add_argument('--egsz', type=int, default=64)
    a = ap.parse_args()
    from graphiqa_model import randomize
    net = randomize(authors_net(a.graphiqa_repo, a.dosz, a.egsz), a.seed)
    seen = []
    mos_vae = net._mos_vae
    net._mos_vae = lambda mean, scale: (seen.append((mean, scale)), mos_vae(mean, scale))[1]
    x = torch.randn(a.crops, 3, 224, 224, generator=torch.Generator().manual_seed(a.seed + 11))
    with torch.no_grad():
        theirs = []
        for i in range(a.crops):  # evaluate(): test loader batch size 1
            seen.clear()
            sampled = net(x[i:i + 1])[0]
            mean, scale = seen[0]
            theirs.append((float(mean[0, 0]), float(scale[0, 0]), float(sampled[0, 0])))
        seen.clear()
        net(x)
        batched_means = seen[0][0][:, 0].numpy().astype(np.float64)
    theirs = np.array(theirs)
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, 'graphiqa_step_1.pth')
        torch.save(net.state_dict(), ck)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_graphiqa.py'), '--checkpoint', ck, '--out-dir', tmp],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import onnxruntime as ort
        sess = ort.InferenceSession(os.path.join(tmp, 'graphiqa.onnx'), providers=['CPUExecutionProvider'])
        ours = np.stack(sess.run(['mean', 'scale'], {'input': x.numpy()}), 1).astype(np.float64)
    d_mean = float(np.max(np.abs(ours[:, 0] - theirs[:, 0])))
    d_scale = float(np.max(np.abs(ours[:, 1] - theirs[:, 1])))
    mag = float(np.max(np.abs(theirs[:, :2])))
    print(f"authors' Reg_Domain (pretrain=False, dosz {a.dosz}, egsz {a.egsz}), seeded full size, {a.crops} crops one per forward:")
    print(f'  means  {np.round(theirs[:, 0], 4).tolist()}\n  scales {np.round(theirs[:, 1], 4).tolist()}')
    print(f'  ONNX Runtime (a batch of {a.crops}) vs theirs: max |mean diff| {d_mean:.3g}, max |scale diff| {d_scale:.3g} (values up to {mag:.3g})')
    print(f'  their stochastic score - mean: {np.round(theirs[:, 2] - theirs[:, 0], 4).tolist()} (randn * scale, unseeded)')
    print(f'  their forward on all {a.crops} crops as one batch moves the means by up to {np.max(np.abs(batched_means - theirs[:, 0])):.3g}: the graph couples a batch')
    if not max(d_mean, d_scale) <= 1e-4 * max(1.0, mag):
        sys.exit('MISMATCH')


if __name__ == '__main__':
    main()
