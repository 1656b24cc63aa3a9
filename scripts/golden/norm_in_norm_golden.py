#!/usr/bin/env python3
"""The Norm-in-Norm test fixture (test/fixtures/norm-in-norm-tiny: a seeded tiny-config graph and its
manifest from tools/export/export_norm_in_norm.py) and its goldens (test/golden/norm_in_norm.json):
the score per image from scripts/golden/norm_in_norm_reference.py (the authors' test_demo.py --resize
procedure, functional float64 forward over the saved state dict).

  /work/pyenv/bin/python scripts/golden/norm_in_norm_golden.py > test/golden/norm_in_norm.json
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from norm_in_norm_reference import score_image  # noqa: E402
from seeded_fixture import export_seeded, golden_images  # noqa: E402

SEED = 5


def main():
    saved = export_seeded('export_norm_in_norm.py', 'norm-in-norm-tiny', SEED)
    sd = {k: v.double() for k, v in saved['state'].items() if not k.endswith('num_batches_tracked')}
    out = [{'where': w, 'file': f, 'score': score_image(p, sd, saved['k'], saved['b'], saved['config']['groups'])} for w, f, p in golden_images()]
    json.dump({'source': 'scripts/golden/norm_in_norm_golden.py', 'seed': SEED, 'k': saved['k'], 'b': saved['b'], 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
