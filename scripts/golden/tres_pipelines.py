#!/usr/bin/env python3
"""The TReS test fixture (test/fixtures/tres-tiny: a seeded tiny-config graph with a manifest per
pipeline) and its golden scores (test/golden/tres_pipelines.json) from PyTorch runs of each test
procedure (scripts/golden/crop_pipelines.py) with tools/export/tres_model.py loaded from the saved
state dict: 'authors' (Resize((512, 384)) + 50 seeded crops) and 'pyiqa' (uniform 50 crops).

tres_model.py itself is checked against the authors' own Net (isalirezag/TReS models.py) by
scripts/golden/tres_authors_parity.py.

  /work/pyenv/bin/python scripts/golden/tres_pipelines.py > test/golden/tres_pipelines.json
"""
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
sys.path.insert(0, HERE)
from crop_pipelines import authors_crops, pyiqa_crops  # noqa: E402
from export_tres import PIPELINES  # noqa: E402
from tres_model import TINY, TReS  # noqa: E402

FIX = os.path.join(ROOT, 'test', 'fixtures', 'tres-tiny')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')


def main():
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_tres.py'), '--weights', 'random', '--config', 'tiny', '--seed', '4',
                        '--out-dir', FIX, '--name', 'tres-tiny', '--save-state', state], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        net = TReS(TINY)
        net.load_state_dict(torch.load(state))
        net.eval()
    m = json.load(open(os.path.join(FIX, 'tres-tiny.json')))
    m['name'], m['preprocess'] = 'tres-tiny-pyiqa', PIPELINES['pyiqa']
    with open(os.path.join(FIX, 'tres-tiny-pyiqa.json'), 'w') as f:
        json.dump(m, f, indent=2)
        f.write('\n')
    images = [('fixture', f'img{i}.png', os.path.join(IMAGES, f'img{i}.png')) for i in range(3)]
    images += [('shared', f, os.path.join(SHARED, f)) for f in ['I03.bmp', 'I19.bmp'] if os.path.exists(os.path.join(SHARED, f))]
    out = {'generator': 'scripts/golden/tres_pipelines.py', 'torch': torch.__version__, 'images': []}
    for where, name, path in images:
        rec = {'where': where, 'file': name}
        for pipeline, crops in (('authors', authors_crops(path, 50)[0]), ('pyiqa', pyiqa_crops(path, 50)[0])):
            with torch.no_grad():
                rec[pipeline] = float(net(crops)[:, 0].double().mean())
        out['images'].append(rec)
        print(f"{name}: authors {rec['authors']:.6f}, pyiqa {rec['pyiqa']:.6f}", file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
