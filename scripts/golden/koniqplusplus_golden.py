#!/usr/bin/env python3
"""The KonIQ++ test fixture (test/fixtures/koniqplusplus-tiny: a seeded tiny-config graph and its
manifest from tools/export/export_koniqplusplus.py) and its goldens (test/golden/koniqplusplus.json):
score and the four defects per image from scripts/golden/koniqplusplus_reference.py (the authors'
test_image.py procedure, functional float64 forward over the saved state dict).

  /work/pyenv/bin/python scripts/golden/koniqplusplus_golden.py > test/golden/koniqplusplus.json
"""
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from koniqplusplus_reference import score_image  # noqa: E402

FIX = os.path.join(ROOT, 'test', 'fixtures', 'koniqplusplus-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
SEED = 3


def main():
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_koniqplusplus.py'), '--weights', 'random', '--config', 'tiny', '--seed', str(SEED),
                        '--out-dir', FIX, '--name', 'koniqplusplus-tiny', '--save-state', state], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        saved = torch.load(state)
    sd = {k: v.double() for k, v in saved['state'].items() if not k.endswith('num_batches_tracked')}
    groups = saved['config']['groups']
    images = [('fixture', f) for f in sorted(os.listdir(IMAGES)) if f.endswith('.png')]
    if os.path.isdir(SHARED):
        images += [('shared', f) for f in sorted(os.listdir(SHARED))]
    else:
        print(f'note: {SHARED} absent, calibration images left out', file=sys.stderr)
    out = []
    for where, f in images:
        score, defects = score_image(os.path.join(SHARED if where == 'shared' else IMAGES, f), sd, saved['k'], saved['b'], groups)
        out.append({'where': where, 'file': f, 'score': score, 'defects': dict(zip(['noise', 'blur', 'contrast', 'color'], defects))})
    json.dump({'source': 'scripts/golden/koniqplusplus_golden.py', 'seed': SEED, 'k': saved['k'], 'b': saved['b'], 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
