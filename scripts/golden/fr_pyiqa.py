#!/usr/bin/env python
"""Writes test/golden/fr_pyiqa.json: SSIM (with and without the ssim.m automatic downsampling)
and MS-SSIM ('product') from pyiqa 0.1.x's reference-matching implementations
(pyiqa.archs.ssim_arch), in float64, on the MATLAB rgb2gray luminance of the calibration pairs.

  /work/pyenv/bin/python scripts/golden/fr_pyiqa.py

pyiqa clamps the contrast-structure map at 0 (F.relu), which Wang et al.'s ssim.m/msssim.m do
not; the values under "wang" are pyiqa's code with that clamp disabled (the module's F.relu
replaced by the identity), those under "pyiqa" are pyiqa as shipped.

The grey conversion is MATLAB's rgb2gray (coefficients of inv([1 .956 .621; 1 -.272 -.647;
1 -1.106 1.703]), rounded to uint8), computed here with numpy; pyiqa's own YIQ grey differs.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
import types

import torch.nn.functional as F
import pyiqa.archs.ssim_arch as ssim_arch
from pyiqa.archs.ssim_arch import ms_ssim, ssim

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
shared = os.path.join(root, '..', 'shared', 'data', 'calibration')
if not os.path.isdir(shared):
    sys.exit(f'calibration images not found at {shared}')

W = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def gray(path):
    rgb = np.asarray(Image.open(path).convert('RGB'), dtype=np.float64)
    y = np.floor(rgb @ W + 0.5)
    # pyiqa works on [0, 1] tensors with data_range 1 and scales by 255 internally.
    return torch.from_numpy(y / 255.0)[None, None].double()


out = {'source': f'pyiqa {__import__("pyiqa").__version__} archs.ssim_arch (float64, test_y_channel=False) on MATLAB rgb2gray input',
       'generator': 'scripts/golden/fr_pyiqa.py', 'pairs': {}}
for name in ['I03', 'I04', 'I06', 'I08', 'I19']:
    x = gray(os.path.join(shared, 'dist_dir', f'{name}.bmp'))
    y = gray(os.path.join(shared, 'ref_dir', f'{name}.bmp'))
    rec = {}
    for variant, relu in [('pyiqa', F.relu), ('wang', lambda t: t)]:
        ssim_arch.F = types.SimpleNamespace(relu=relu, avg_pool2d=F.avg_pool2d)
        with torch.no_grad():
            rec[variant] = {
                'ssim': float(ssim(x, y, downsample=False, data_range=1.0)),
                'ssim_downsample': float(ssim(x, y, downsample=True, data_range=1.0)),
                'ms_ssim_product': float(ms_ssim(x, y, downsample=False, data_range=1.0, is_prod=True)),
            }
    ssim_arch.F = F
    out['pairs'][name] = rec
with open(os.path.join(root, 'test', 'golden', 'fr_pyiqa.json'), 'w') as f:
    json.dump(out, f, indent=2)
    f.write('\n')
print('wrote test/golden/fr_pyiqa.json')
