"""GraphIQA (Sun et al., TMM 2022) for export: the score path of the authors' Reg_Domain, per crop.

Written from the paper and a reading of geekyutao/GraphIQA (models/networks.py, models/modules.py,
utils/dgreg_utils.py); module and parameter names follow the authors' state dict (what finetune.py
saves with torch.save(net.state_dict())), so their checkpoints load as they are:

  extractor.feature_extractor   torchvision ResNet-50 without avgpool/fc (Sequential indices 0..7)
  domainlevelgraph.gcn_v        3-layer MLP 2048 -> 2048 -> 2048 -> 2048 (ReLU between): node embedding
                                (its .gcn is built but unused by the authors too)
  domainlevelgraph.gcn_e.gcn    3-layer bias-free GCN 2048 -> 1024 -> 512 -> egsz (64) over the edge graph
  hyperpredmos.fc               Linear(2048 + egsz -> half) + ReLU + Linear(-> 2): (mean, scale)
  (domainlevelgraph.hyperpred, domain_learner, predictor, classifier: training-only heads; built so
   the state dict loads strictly, never traced)

The authors' graph couples the images of a batch: the batch is the node set. Their test loader
has batch size 1 and repeats each image patch_num (25) times with a fresh RandomCrop(224), so at
test time every forward pass is a graph over N = 1 node: one crop. For N = 1 the edge embedding is
the element-wise square of the L2-normalised GAP feature (the diagonal of the outer product), the
edge graph has one node whose cosine self-similarity a is 1 (0 for an all-zero feature), and the
normalised adjacency D^-1/2 (A + I) D^-1/2 is (a + 1) / (a + 1) = 1. This module computes exactly
that per row, so a batch of B crops is B independent one-node graphs (the export checks batching
against one-at-a-time). The score is the latent mean; the authors add randn * scale (_mos_vae)
even in evaluation: iqa-node's gaussian head does that as an opt-in seeded sampling mode.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import Bottleneck


@dataclass
class GraphIqaConfig:
    widths: list = field(default_factory=lambda: [64, 128, 256, 512])  # ResNet bottleneck planes per stage
    blocks: list = field(default_factory=lambda: [3, 4, 6, 3])
    do_emb: int = 256  # finetune.py --dosz
    eg_emb: int = 64   # pretrain.py --egsz (finetune.py's default is 16 since 2023; checkpoints carry their own: config_for_state)
    input_size: int = 224

    @property
    def features(self):
        return 4 * self.widths[3]

    def to_dict(self):
        return {'widths': self.widths, 'blocks': self.blocks, 'doEmb': self.do_emb, 'egEmb': self.eg_emb}


FULL = GraphIqaConfig()
TINY = GraphIqaConfig(widths=[2, 4, 8, 16], blocks=[1, 1, 1, 1], do_emb=8, eg_emb=8)


def resnet_trunk(cfg: GraphIqaConfig) -> nn.Sequential:
    """torchvision's ResNet children up to layer4 (what ResnetFeatureExtractor keeps); the tiny config narrows every stage."""
    r = torchvision.models.resnet.ResNet(Bottleneck, cfg.blocks)
    if cfg.widths != FULL.widths:
        r.inplanes = cfg.widths[0]
        r.conv1 = nn.Conv2d(3, cfg.widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        r.bn1 = nn.BatchNorm2d(cfg.widths[0])
        r.layer1 = r._make_layer(Bottleneck, cfg.widths[0], cfg.blocks[0])
        r.layer2 = r._make_layer(Bottleneck, cfg.widths[1], cfg.blocks[1], stride=2)
        r.layer3 = r._make_layer(Bottleneck, cfg.widths[2], cfg.blocks[2], stride=2)
        r.layer4 = r._make_layer(Bottleneck, cfg.widths[3], cfg.blocks[3], stride=2)
    return nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)


class Trunk(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.feature_extractor = resnet_trunk(cfg)


class Gcn(nn.Module):
    """Three bias-free layers W1 (d -> d/2), W2 (-> d/4), W3 (-> out), each applied to A X (ReLU after the first two)."""

    def __init__(self, d: int, out: int):
        super().__init__()
        self.W1 = nn.Linear(d, d // 2, bias=False)
        self.W2 = nn.Linear(d // 2, d // 4, bias=False)
        self.W3 = nn.Linear(d // 4, out, bias=False)


class NodeMlp(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.gcn = Gcn(d, d)  # present in the authors' module and state dict, unused in their forward
        self.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))


class EdgeGcn(nn.Module):
    def __init__(self, d: int, out: int):
        super().__init__()
        self.gcn = Gcn(d, out)


class MeanScale(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(d, d // 2), nn.ReLU(), nn.Linear(d // 2, 2))


class DomainBranch(nn.Module):
    def __init__(self, d: int, out: int):
        super().__init__()
        self.gcn = Gcn(d, out)


class DualGraph(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.features
        self.gcn_v = NodeMlp(d)
        self.gcn_e = EdgeGcn(d, cfg.eg_emb)
        self.hyperpred = MeanScale(d + cfg.eg_emb)  # distortion-level head (training only)
        self.domain_learner = DomainBranch(d, cfg.do_emb)  # distortion-type graph (training only)


class GraphIQA(nn.Module):
    """forward(x [B, 3, H, W]) -> (mean [B], scale [B]): B crops, each its own one-node graph."""

    def __init__(self, cfg: GraphIqaConfig = FULL):
        super().__init__()
        d = cfg.features
        self.extractor = Trunk(cfg)
        self.domainlevelgraph = DualGraph(cfg)
        self.predictor = nn.Sequential(nn.Linear(d, 1024), nn.ReLU(True), nn.Linear(1024, 1))  # unused by the authors' forward
        self.hyperpredmos = MeanScale(d + cfg.eg_emb)
        self.classifier = nn.Linear(cfg.do_emb, 25)  # distortion-type logits (training only)

    def forward(self, x):
        g = self.extractor.feature_extractor(x).mean(dim=(2, 3))  # GAP: [B, d]
        node = self.domainlevelgraph.gcn_v.fc(g)
        edge = F.normalize(g, dim=1).square()  # one node's edge embedding: diag of its outer product
        sim = F.normalize(edge, dim=1).square().sum(dim=1, keepdim=True)  # cosine self-similarity a
        adj = (sim + 1) * (sim + 1).rsqrt() * (sim + 1).rsqrt()  # D^-1/2 (A + I) D^-1/2 for one node
        gcn = self.domainlevelgraph.gcn_e.gcn
        h = F.relu(gcn.W1(adj * edge))
        h = F.relu(gcn.W2(adj * h))
        edge_emb = gcn.W3(adj * h)
        out = self.hyperpredmos.fc(torch.cat([node, edge_emb], dim=1))
        return out[:, 0], out[:, 1]


def config_for_state(base: GraphIqaConfig, sd: dict) -> GraphIqaConfig:
    """The graph widths a checkpoint was trained with (finetune.py --dosz / --egsz: 256 / 16 in the
    authors' latest finetune.py, 256 / 64 in pretrain.py and before), read from its tensor shapes."""
    import dataclasses
    eg, cls = sd.get('domainlevelgraph.gcn_e.gcn.W3.weight'), sd.get('classifier.weight')
    if eg is None or cls is None:
        return base
    return dataclasses.replace(base, eg_emb=int(eg.shape[0]), do_emb=int(cls.shape[1]))


def strip_prefix(sd: dict) -> dict:
    """DataParallel ('--gpus > 1' in finetune.py) saves names under 'module.'."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in sd.items()}


def randomize(net: GraphIQA, seed: int) -> GraphIQA:
    """Seeded test weights: the authors' init for Linear layers (Xavier-uniform, zero bias: weights_init),
    torchvision's He init for the convolutions, non-trivial BatchNorm statistics and small non-zero
    biases so that mean and scale vary with the crop like a trained model's."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu', generator=g)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=g)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return net.eval()
