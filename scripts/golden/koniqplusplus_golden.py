#!/usr/bin/env python3
"""The KonIQ++ test fixture (test/fixtures/koniqplusplus-tiny: a seeded tiny-config graph and its
manifest from tools/export/export_koniqplusplus.py) and its goldens (test/golden/koniqplusplus.json):
score and the four defects per image from scripts/golden/koniqplusplus_reference.py (the authors'
test_image.py procedure, functional float64 forward over the saved state dict).

  /work/pyenv/bin/python scripts/golden/koniqplusplus_golden.py > test/golden/koniqplusplus.json
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from koniqplusplus_reference import score_image  # noqa: E402
from seeded_fixture import export_seeded, golden_images  # noqa: E402

SEED = 3


def main():
    saved = export_seeded('export_koniqplusplus.py', 'koniqplusplus-tiny', SEED)
    sd = {k: v.double() for k, v in saved['state'].items() if not k.endswith('num_batches_tracked')}
    groups = saved['config']['groups']
    out = []
    for where, f, path in golden_images():
        score, defects = score_image(path, sd, saved['k'], saved['b'], groups)
        out.append({'where': where, 'file': f, 'score': score, 'defects': dict(zip(['noise', 'blur', 'contrast', 'color'], defects))})
    json.dump({'source': 'scripts/golden/koniqplusplus_golden.py', 'seed': SEED, 'k': saved['k'], 'b': saved['b'], 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
