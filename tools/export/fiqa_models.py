"""The networks of three face-quality regressors, rebuilt from their papers and the module layouts
their authors' code shows (read for shared/design/face-qa.md sections 1.3, 1.5, 1.6); the
parameter names follow the official checkpoints so that their state dicts load as published.

  CR-FIQA (Boutros et al., CVPR 2023; fdbtrs/CR-FIQA backbones/iresnet.py): the ArcFace iResNet
    (magface_model.IResNet, BatchNorm eps 1e-5) whose 512-d BN1d embedding feeds `qs`, a
    Linear(512 -> 1). Outputs (embedding, quality). The training Dropout (p 0.4, element-wise
    after the flatten) is the identity at inference.
  SDD-FIQA (Ou et al., CVPR 2021; Tencent/TFace quality/): IR-50, `input_layer` conv3x3-BN-PReLU,
    `body` of bottleneck_IR units (BN - conv3x3 - PReLU - conv3x3(stride) - BN; shortcut MaxPool(1,
    stride) when the width stays, conv1x1+BN otherwise), then `quality` = Flatten - PReLU(C*7*7) -
    Dropout(0.5) - Linear(C*7*7 -> 1). Output: the regressed quality.
  EQFace (Liu & Tan, CVPRW 2021; deepcam-cn/FaceQuality models/model_resnet.py): IR-100,
    `input_layer` as above, layer1..4 of BottleNeck_IR (`res_layer` BN - conv3x3 - BN - PReLU -
    conv3x3(stride) - BN; `shortcut_layer` conv1x1+BN on each stage's first unit, none after),
    `output_layer` BN2d - Dropout - Flatten, `feature_layer` Linear(C*7*7 -> 512) - BN1d; the quality
    network (its own checkpoint) takes the flattened C*7*7 map: Linear(no bias) - BN1d - ReLU -
    Linear(-> 2, no bias) - Softmax, column 0. The exported graph ends at the two logits: the
    descriptor's 'softmax' readout takes column 0 of their softmax.

`widths`, `layers`, `embedding` and `hidden` only shrink the networks for the small test fixtures.
"""
from __future__ import annotations

import torch
from torch import nn

from magface_model import IResNet, randomize

CRFIQA_DEPTHS = {"iresnet50": [3, 4, 14, 3], "iresnet100": [3, 13, 30, 3]}
IR_DEPTHS = {"ir50": [3, 4, 14, 3], "ir100": [3, 13, 30, 3]}
FULL_WIDTHS = [64, 128, 256, 512]


class CRFIQA(IResNet):
    def __init__(self, layers, widths=FULL_WIDTHS, embedding: int = 512):
        super().__init__(layers, widths, embedding, stem=widths[0], eps=1e-5)
        self.qs = nn.Linear(embedding, 1)

    def forward(self, x):
        emb = super().forward(x)
        return emb, self.qs(emb)


def _stem(width: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.PReLU(width))


class TFaceIRUnit(nn.Module):
    """TFace's bottleneck_IR (no BN between the first conv and the PReLU)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.shortcut_layer = nn.MaxPool2d(1, stride) if cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.res_layer = nn.Sequential(nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.PReLU(cout),
                                       nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.res_layer(x) + self.shortcut_layer(x)


class SDDFIQA(nn.Module):
    def __init__(self, layers, widths=FULL_WIDTHS):
        super().__init__()
        self.input_layer = _stem(widths[0])
        units, cin = [], widths[0]
        for n, w in zip(layers, widths):
            units += [TFaceIRUnit(cin, w, 2)] + [TFaceIRUnit(w, w, 1) for _ in range(n - 1)]
            cin = w
        self.body = nn.Sequential(*units)
        flat = cin * 7 * 7
        self.quality = nn.Sequential(nn.Flatten(), nn.PReLU(flat), nn.Dropout(0.5), nn.Linear(flat, 1))

    def forward(self, x):
        return self.quality(self.body(self.input_layer(x)))


class EQFaceIRUnit(nn.Module):
    """EQFace's BottleNeck_IR (BN after the first conv; a conv shortcut only where dims change)."""

    def __init__(self, cin: int, cout: int, stride: int, dim_match: bool):
        super().__init__()
        self.res_layer = nn.Sequential(nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.PReLU(cout),
                                       nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut_layer = None if dim_match else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.res_layer(x) + (x if self.shortcut_layer is None else self.shortcut_layer(x))


class EQFaceBackbone(nn.Module):
    def __init__(self, layers, widths=FULL_WIDTHS, embedding: int = 512):
        super().__init__()
        self.input_layer = _stem(widths[0])
        cin = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            setattr(self, f"layer{i + 1}", nn.Sequential(EQFaceIRUnit(cin, w, 2, False), *[EQFaceIRUnit(w, w, 1, True) for _ in range(n - 1)]))
            cin = w
        self.output_layer = nn.Sequential(nn.BatchNorm2d(cin), nn.Dropout(0.4), nn.Flatten())
        self.feature_layer = nn.Sequential(nn.Linear(cin * 7 * 7, embedding), nn.BatchNorm1d(embedding))

    def forward(self, x):
        """(embedding, the flattened map the quality network reads)."""
        x = self.input_layer(x)
        x = self.output_layer(self.layer4(self.layer3(self.layer2(self.layer1(x)))))
        return self.feature_layer(x), x


class EQFaceQuality(nn.Module):
    """The quality network without its final Softmax (the logits)."""

    def __init__(self, flat: int, hidden: int = 512):
        super().__init__()
        self.qualtiy = nn.Sequential(nn.Linear(flat, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 2, bias=False))  # sic: the checkpoint's key

    def forward(self, x):
        return self.qualtiy(x)


class EQFace(nn.Module):
    def __init__(self, layers, widths=FULL_WIDTHS, embedding: int = 512, hidden: int = 512):
        super().__init__()
        self.backbone = EQFaceBackbone(layers, widths, embedding)
        self.quality = EQFaceQuality(widths[-1] * 7 * 7, hidden)

    def forward(self, x):
        emb, flat = self.backbone(x)
        return emb, self.quality(flat)


def seeded(model: nn.Module, seed: int) -> nn.Module:
    """Seeded random weights (magface_model.randomize) for the test fixtures: the scores mean nothing."""
    return randomize(model, torch.Generator().manual_seed(seed))


def load_checkpoint(module: nn.Module, path: str, what: str) -> None:
    """A state dict as published (or under `state_dict`), DataParallel's `module.` prefix removed;
    every parameter and buffer of `module` must be present with its shape."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    sd = ck.get("state_dict", ck) if isinstance(ck, dict) else ck
    if not isinstance(sd, dict):
        raise SystemExit(f"{path}: not a PyTorch state dict")
    sd = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
    want = module.state_dict()
    missing = [k for k in want if k not in sd and not k.endswith("num_batches_tracked")]
    wrong = [k for k in want if k in sd and tuple(sd[k].shape) != tuple(want[k].shape)]
    if missing or wrong:
        raise SystemExit(f"{path} does not hold {what} of this depth: missing {missing[:4]}, wrong shape {wrong[:4]}")
    module.load_state_dict({k: sd.get(k, want[k]) for k in want}, strict=True)
