#!/usr/bin/env python3
"""GraphIQA goldens: the authors' evaluation procedure re-implemented in float64 PyTorch, run on the
seeded tiny fixture (test/fixtures/graphiqa-tiny, written here by tools/export/export_graphiqa.py).

The reference follows geekyutao/GraphIQA's test path literally, independent of graphiqa_model.py's
per-crop forward: the graph is built over the images of a batch (nodes = batch rows), with the
authors' helpers written out as they read (utils/dgreg_utils.py): cal_edge_emb (per channel outer
product of the L2-normalised GAP features -> N^2 edge nodes), cal_similarity (cosine), graph_norm
(D^-1/2 (A + I) D^-1/2 with torch.diag), the bias-free 3-layer GCN (W(A X)), the node MLP, the
fine-tuning branch's diagonal edge embedding (finetune.py builds Reg_Domain(pretrain=False)), and
HyperPred -> (mean, scale). As in evaluate(): batch size 1 (one crop per forward), 25 crops per
image (torchvision ToTensor + ImageNet Normalize; 'koniq': Resize([512, 384]) first), mean over
crops. Crop positions are iqa-node's seeded ones (scripts/golden/crop_pipelines.py); the authors'
RandomCrop is unseeded. Deterministic mode scores a crop by its mean; sampling mode by
mean + z scale, z the crop's draw of iqa-node's documented generator (splitmix64 Box-Muller).

  /work/pyenv/bin/python scripts/golden/graphiqa_reference.py > test/golden/graphiqa.json
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
sys.path.insert(0, HERE)
from crop_pipelines import authors_crops  # noqa: E402
from make_hyperiqa_fixture import splitmix64  # noqa: E402

FIX = os.path.join(ROOT, 'test', 'fixtures', 'graphiqa-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
SEED, CROPS, SAMPLING_SEEDS = 5, 25, [1, 2]


def normals(seed, n):
    """n standard normals: Box-Muller cosine branch on consecutive pairs of splitmix64 uniforms."""
    g = splitmix64(seed)
    out = []
    for _ in range(n):
        u, v = (next(g) >> 11) * 2.0 ** -53, (next(g) >> 11) * 2.0 ** -53
        out.append(math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v))
    return out


def edge_embedding(x):
    x = F.normalize(x, p=2, dim=1)
    a = torch.bmm(x.t().unsqueeze(2), x.t().unsqueeze(1)).permute(1, 2, 0)  # (n, n, K)
    return a.reshape(a.shape[0] * a.shape[1], a.shape[2])


def similarity(x):
    x = F.normalize(x, p=2, dim=1)
    return x.mm(x.t())


def graph_norm(a):
    a = a + torch.eye(a.shape[1], dtype=a.dtype)
    d = torch.diag(a.sum(-1).pow(-0.5))
    return d.mm(a).mm(d)


def gcn(sd, prefix, x, a):
    x = F.relu(a.mm(x).mm(sd[prefix + 'W1.weight'].t()))
    x = F.relu(a.mm(x).mm(sd[prefix + 'W2.weight'].t()))
    return a.mm(x).mm(sd[prefix + 'W3.weight'].t())


def linear(sd, prefix, x):
    return x.mm(sd[prefix + '.weight'].t()) + sd[prefix + '.bias']


class Reference:
    def __init__(self, state, cfg):
        self.sd = {k: v.double() for k, v in state.items()}
        trunk = {k[len('extractor.feature_extractor.'):]: v for k, v in state.items() if k.startswith('extractor.feature_extractor.')}
        names = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4']
        trunk = {names[int(k.split('.', 1)[0])] + '.' + k.split('.', 1)[1]: v for k, v in trunk.items()}
        r = torchvision.models.resnet.ResNet(torchvision.models.resnet.Bottleneck, cfg.blocks, width_per_group=64)
        if cfg.widths != [64, 128, 256, 512]:
            from graphiqa_model import resnet_trunk  # the narrowed stage shapes only (same torchvision blocks)
            seq = resnet_trunk(cfg)
            r.conv1, r.bn1, r.layer1, r.layer2, r.layer3, r.layer4 = seq[0], seq[1], seq[4], seq[5], seq[6], seq[7]
        r.fc = torch.nn.Identity()
        missing, unexpected = r.load_state_dict(trunk, strict=False)
        assert not unexpected and not [m for m in missing if not m.startswith('fc.')], (missing, unexpected)
        self.resnet = r.double().eval()

    def forward(self, x):
        """The authors' Reg_Domain forward (fine-tuning variant) over the batch x: (mean, scale), each (N,)."""
        sd, r = self.sd, self.resnet
        f = r.layer4(r.layer3(r.layer2(r.layer1(r.maxpool(r.relu(r.bn1(r.conv1(x))))))))
        X = F.adaptive_avg_pool2d(f, 1)[:, :, 0, 0]
        n = X.shape[0]
        node = X
        for i, last in ((0, False), (2, False), (4, True)):
            node = linear(sd, f'domainlevelgraph.gcn_v.fc.{i}', node)
            node = node if last else F.relu(node)
        e = edge_embedding(X)
        eg = gcn(sd, 'domainlevelgraph.gcn_e.gcn.', e, graph_norm(similarity(e)))  # (n^2, K)
        eg = (eg.view(n, n, -1) * torch.eye(n, dtype=eg.dtype).unsqueeze(-1)).sum(1)  # each node's own edge
        h = F.relu(linear(sd, 'hyperpredmos.fc.0', torch.cat([node, eg], -1)))
        out = linear(sd, 'hyperpredmos.fc.2', h)
        return out[:, 0], out[:, 1]

    def score_crops(self, crops):
        """evaluate(): one crop per forward pass (test loader batch size 1)."""
        means, scales = [], []
        with torch.no_grad():
            for c in crops:
                m, s = self.forward(c[None].double())
                means.append(float(m[0]))
                scales.append(float(s[0]))
        return means, scales


def main():
    from export_graphiqa import PIPELINES
    from graphiqa_model import TINY
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_graphiqa.py'), '--weights', 'random', '--config', 'tiny', '--seed', str(SEED),
                        '--out-dir', FIX, '--name', 'graphiqa-tiny', '--save-state', state], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ref = Reference(torch.load(state), TINY)
    m = json.load(open(os.path.join(FIX, 'graphiqa-tiny.json')))
    m['name'], m['preprocess'] = 'graphiqa-tiny-full', PIPELINES['full']
    with open(os.path.join(FIX, 'graphiqa-tiny-full.json'), 'w') as f:
        json.dump(m, f, indent=2)
        f.write('\n')
    images = [('fixture', f'img{i}.png', os.path.join(IMAGES, f'img{i}.png')) for i in range(3)]
    images += [('shared', f, os.path.join(SHARED, f)) for f in ['I03.bmp', 'I04.bmp', 'I06.bmp', 'I08.bmp', 'I19.bmp'] if os.path.exists(os.path.join(SHARED, f))]
    out = {'generator': 'scripts/golden/graphiqa_reference.py', 'torch': torch.__version__, 'seed': SEED, 'crops': CROPS, 'samplingSeeds': SAMPLING_SEEDS, 'images': []}
    for where, name, path in images:
        w, h = Image.open(path).size
        rec = {'where': where, 'file': name}
        for pipeline, resize in (('koniq', (512, 384)), ('full', (h, w))):  # 'full': a resize to its own size is Pillow's copy
            means, scales = ref.score_crops(authors_crops(path, CROPS, resize=resize)[0])
            rec[pipeline] = sum(means) / len(means)
            if pipeline == 'koniq':
                rec['cropMeans'] = means
                rec['sampled'] = {str(s): sum(mu + z * sc for mu, z, sc in zip(means, normals(s, CROPS), scales)) / CROPS for s in SAMPLING_SEEDS}
        out['images'].append(rec)
        print(f"{name}: koniq {rec['koniq']:.6f} full {rec['full']:.6f} sampled {rec['sampled']}", file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
