#!/usr/bin/env python3
"""Full-size KonIQ++ (ResNeXt-101 32x8d: 3, 4, 23, 3 blocks, taps 0/2, 0/3, 0/22, 0/2 as in the
authors' extract_features) from tools/export/koniqplusplus_model.py on seeded weights, against the
functional float64 reference of scripts/golden/koniqplusplus_reference.py, image by image (the
same test_image.py preprocessing on both sides). Prints the largest |delta| of score and defects.

  /work/pyenv/bin/python scripts/golden/koniqplusplus_full_parity.py IMAGE...
"""
import os
import sys

import torch
from PIL import Image
from torchvision.transforms.functional import normalize, resize, to_tensor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), '..', 'tools', 'export'))
from koniqplusplus_model import FULL, seeded  # noqa: E402
from koniqplusplus_reference import score_image  # noqa: E402


def main():
    net, k, b = seeded(FULL, 0)
    sd = {n: v.double() for n, v in net.state_dict().items() if not n.endswith('num_batches_tracked')}
    worst_s = worst_d = 0.0
    for path in sys.argv[1:]:
        x = normalize(to_tensor(resize(Image.open(path).convert('RGB'), (480, 640))), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)
        with torch.no_grad():
            q, d = net(x)
        ref_s, ref_d = score_image(path, sd, k, b, FULL.groups)
        ds, dd = abs(float(q[0, 0]) * k + b - ref_s), max(abs(float(d[0, i]) - ref_d[i]) for i in range(4))
        worst_s, worst_d = max(worst_s, ds), max(worst_d, dd)
        print(f'{os.path.basename(path)}: score {ref_s:.6f} |delta| {ds:.2e}, defects |delta| {dd:.2e}')
    print(f'max |delta| score {worst_s:.2e}, defects {worst_d:.2e} (fp32 module vs float64 reference)')


if __name__ == '__main__':
    main()
