"""The crop pipelines of deep NR models' test procedures, in PIL + torchvision + PyTorch, for the
golden scripts (independent of iqa-node's native decode, resize, crop and packing code).

  authors_crops  PIL open -> convert('RGB') -> torchvision Resize((H, W)) (PIL bilinear) -> 224 crops
                 at iqa-node's documented seeded positions (splitmix64(seed): x = next() % (W - 224 + 1),
                 y = next() % (H - 224 + 1); the authors' RandomCrop is unseeded) -> ToTensor -> Normalize
  pyiqa_crops    ToTensor of the full image -> if min(H, W) <= 224: F.interpolate(scale_factor=225 / min,
                 bilinear) -> pyiqa's uniform_crop grid -> Normalize
Both return (N x 3 x 224 x 224 ImageNet-normalised crops, their top-left corners).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms
from torchvision.transforms import functional as TF

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'tools', 'export'))
from make_hyperiqa_fixture import splitmix64  # noqa: E402  (iqa-node's documented crop generator)

NORMALIZE = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])


def authors_crops(path, count, seed=0, size=224, resize=(512, 384)):
    img = transforms.Resize(resize)(Image.open(path).convert('RGB'))
    g = splitmix64(seed)
    crops, pos = [], []
    for _ in range(count):
        x = next(g) % (img.width - size + 1)
        y = next(g) % (img.height - size + 1)
        pos.append([int(x), int(y)])
        crops.append(NORMALIZE(transforms.ToTensor()(TF.crop(img, int(y), int(x), size, size))))
    return torch.stack(crops), pos


def pyiqa_crops(path, count, size=224):
    x = transforms.ToTensor()(Image.open(path).convert('RGB'))[None]
    h, w = x.shape[2:]
    if min(h, w) <= size:
        x = F.interpolate(x, scale_factor=(size + 1) / min(h, w), mode='bilinear')
        h, w = x.shape[2:]
    div, side = int(math.sqrt(count)), int(math.ceil(math.sqrt(count)))
    sh, sw = (h - size) // div, (w - size) // div
    corners = [(j * sw, i * sh) for i in range(side) for j in range(side)][:count]
    crops = torch.cat([x[..., y:y + size, xx:xx + size] for xx, y in corners])
    return NORMALIZE(crops), [list(c) for c in corners]
