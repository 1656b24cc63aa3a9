#!/usr/bin/env python3
"""Golden HyperIQA scores for the 'authors' and 'pyiqa' test-time pipelines
(tools/export/export_hyperiqa.py --pipeline), on the seeded tiny model of test/fixtures/hyperiqa-tiny,
written to test/golden/hyperiqa_pipelines.json.

Independent of iqa-node's native code (decode, resize, crops, packing, target head):
  authors  PIL open -> convert('RGB') -> torchvision Resize((512, 384)) (H 512, W 384, PIL bilinear)
           -> crops of 224 at iqa-node's documented seeded positions (splitmix64(seed): x = next() %
           (W - 224 + 1), y = next() % (H - 224 + 1); the authors' RandomCrop is unseeded) -> ToTensor
           -> Normalize(ImageNet) -> HyperNet + the authors' TargetNet -> mean over 25 crops
  pyiqa    ToTensor of the full image -> if min(H, W) <= 224: F.interpolate(scale_factor=225 / min,
           bilinear) -> pyiqa's uniform_crop grid (25 crops) -> Normalize -> mean
The weights: the fixture's seed (3), re-exported here; the script checks that the committed
fixture graph computes what this state dict computes.

  /work/pyenv/bin/python scripts/golden/hyperiqa_pipelines.py > test/golden/hyperiqa_pipelines.json
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms
from torchvision.transforms import functional as TF

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
from hyperiqa_model import TINY, HyperNet, reference_scores  # noqa: E402
from make_hyperiqa_fixture import splitmix64  # noqa: E402  (iqa-node's documented crop generator)

FIX = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
NORMALIZE = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])


def authors(net, path, count=25, seed=0, size=224):
    img = transforms.Resize((512, 384))(Image.open(path).convert('RGB'))
    g = splitmix64(seed)
    crops, pos = [], []
    for _ in range(count):
        x = next(g) % (img.width - size + 1)
        y = next(g) % (img.height - size + 1)
        pos.append([int(x), int(y)])
        crops.append(NORMALIZE(transforms.ToTensor()(TF.crop(img, int(y), int(x), size, size))))
    with torch.no_grad():
        s = reference_scores(net, torch.stack(crops)).double()
    return float(s.mean()), pos


def pyiqa(net, path, count=25, size=224):
    x = transforms.ToTensor()(Image.open(path).convert('RGB'))[None]
    h, w = x.shape[2:]
    if min(h, w) <= size:
        x = F.interpolate(x, scale_factor=(size + 1) / min(h, w), mode='bilinear')
        h, w = x.shape[2:]
    div, side = int(math.sqrt(count)), int(math.ceil(math.sqrt(count)))
    sh, sw = (h - size) // div, (w - size) // div
    corners = [(j * sw, i * sh) for i in range(side) for j in range(side)][:count]
    crops = torch.cat([x[..., y:y + size, xx:xx + size] for xx, y in corners])
    with torch.no_grad():
        s = reference_scores(net, NORMALIZE(crops)).double()
    return float(s.mean()), [list(c) for c in corners]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_hyperiqa.py'), '--weights', 'random', '--config', 'tiny', '--seed', '3',
                        '--out-dir', tmp, '--name', 'model', '--save-state', state], check=True, stdout=subprocess.DEVNULL)
        net = HyperNet(TINY)
        net.load_state_dict(torch.load(state))
        net.eval()
    # The committed graph must be these weights: its outputs against this state dict's.
    import numpy as np
    import onnxruntime as ort
    sess = ort.InferenceSession(os.path.join(FIX, 'model.onnx'), providers=['CPUExecutionProvider'])
    probe = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = net(probe)['target_in_vec'].reshape(2, -1).numpy()
    got = sess.run(['target_in_vec'], {'input': probe.numpy()})[0]
    if not np.abs(got - want).max() < 1e-4:
        sys.exit('test/fixtures/hyperiqa-tiny/model.onnx is not the seed-3 tiny model: regenerate the fixture first')
    images = [('fixture', f'img{i}.png', os.path.join(FIX, f'img{i}.png')) for i in range(3)]
    images += [('shared', f, os.path.join(SHARED, f)) for f in ['I03.bmp', 'I19.bmp'] if os.path.exists(os.path.join(SHARED, f))]
    out = {'generator': 'scripts/golden/hyperiqa_pipelines.py', 'torch': torch.__version__, 'pillow': Image.__version__, 'images': []}
    for where, name, path in images:
        a, apos = authors(net, path)
        p, ppos = pyiqa(net, path)
        out['images'].append({'where': where, 'file': name, 'authors': a, 'authorsCrops': apos, 'pyiqa': p, 'pyiqaCrops': ppos})
        print(f'{name}: authors {a:.6f}, pyiqa {p:.6f}', file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
