#!/usr/bin/env python3
"""The Norm-in-Norm test fixture (test/fixtures/norm-in-norm-tiny: a seeded tiny-config graph and its
manifest from tools/export/export_norm_in_norm.py) and its goldens (test/golden/norm_in_norm.json):
the score per image from scripts/golden/norm_in_norm_reference.py (the authors' test_demo.py --resize
procedure, functional float64 forward over the saved state dict). When ../shared exists, also
`calibration` (I03 I04 I06 I08 I19, by name without extension: the shared entries of `images`) and
`biq2021` (the first 20 names, sorted, of ../shared/data/biq2021/train-subset.csv) for
test/helpers.ts worstSharedDelta.

Pillow before 13 (as in the authors' environment; see scripts/golden/pil_resize_golden.py): Pillow 13
may run the vertical pass of the resize first where one axis grows and the other shrinks, which the
512 x 512 BIQ2021 images do (-> 664 x 498), and differ by a level on some pixels; the script refuses
Pillow 13+. /work/pyenv's torch with Pillow 10.4 in front:

  /work/pyenv/bin/python -m pip install --target /tmp/pil10 'pillow==10.4.0'
  PYTHONPATH=/tmp/pil10 /work/pyenv/bin/python scripts/golden/norm_in_norm_golden.py > test/golden/norm_in_norm.json
"""
import csv
import json
import os
import sys

import PIL

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from norm_in_norm_reference import score_image  # noqa: E402
from seeded_fixture import ROOT, export_seeded, golden_images  # noqa: E402

SEED = 5
BIQ2021 = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'biq2021')
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']


def main():
    if int(PIL.__version__.split('.')[0]) >= 13:
        sys.exit(f'Pillow {PIL.__version__}: run with a Pillow before 13 (see the docstring)')
    saved = export_seeded('export_norm_in_norm.py', 'norm-in-norm-tiny', SEED)
    sd = {k: v.double() for k, v in saved['state'].items() if not k.endswith('num_batches_tracked')}
    out = [{'where': w, 'file': f, 'score': score_image(p, sd, saved['k'], saved['b'], saved['config']['groups'])} for w, f, p in golden_images()]
    golden = {'source': 'scripts/golden/norm_in_norm_golden.py', 'seed': SEED, 'k': saved['k'], 'b': saved['b'], 'images': out, 'calibration': None, 'biq2021': None}
    shared = {g['file']: g['score'] for g in out if g['where'] == 'shared'}
    if os.path.isdir(BIQ2021) and all(f'{n}.bmp' in shared for n in CALIBRATION):
        golden['calibration'] = {n: {'score': shared[f'{n}.bmp']} for n in CALIBRATION}
        with open(os.path.join(BIQ2021, 'train-subset.csv')) as f:
            names = sorted(r['image'] for r in csv.DictReader(f))[:20]
        golden['biq2021'] = {n: {'score': score_image(os.path.join(BIQ2021, 'images', n), sd, saved['k'], saved['b'], saved['config']['groups'])} for n in names}
    json.dump(golden, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
