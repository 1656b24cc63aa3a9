#!/usr/bin/env python3
"""The Norm-in-Norm test fixture (test/fixtures/norm-in-norm-tiny: a seeded tiny-config graph and its
manifest from tools/export/export_norm_in_norm.py) and its goldens (test/golden/norm_in_norm.json):
the score per image from scripts/golden/norm_in_norm_reference.py (the authors' test_demo.py --resize
procedure, functional float64 forward over the saved state dict).

  /work/pyenv/bin/python scripts/golden/norm_in_norm_golden.py > test/golden/norm_in_norm.json
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
from norm_in_norm_reference import score_image  # noqa: E402

FIX = os.path.join(ROOT, 'test', 'fixtures', 'norm-in-norm-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')
SEED = 5


def main():
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_norm_in_norm.py'), '--weights', 'random', '--config', 'tiny', '--seed', str(SEED),
                        '--out-dir', FIX, '--name', 'norm-in-norm-tiny', '--save-state', state], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        saved = torch.load(state)
    sd = {k: v.double() for k, v in saved['state'].items() if not k.endswith('num_batches_tracked')}
    images = [('fixture', f) for f in sorted(os.listdir(IMAGES)) if f.endswith('.png')]
    if os.path.isdir(SHARED):
        images += [('shared', f) for f in sorted(os.listdir(SHARED))]
    else:
        print(f'note: {SHARED} absent, calibration images left out', file=sys.stderr)
    out = [{'where': w, 'file': f, 'score': score_image(os.path.join(SHARED if w == 'shared' else IMAGES, f), sd, saved['k'], saved['b'], saved['config']['groups'])}
           for w, f in images]
    json.dump({'source': 'scripts/golden/norm_in_norm_golden.py', 'seed': SEED, 'k': saved['k'], 'b': saved['b'], 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
