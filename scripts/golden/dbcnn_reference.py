#!/usr/bin/env python3
"""Golden DBCNN scores (test/golden/dbcnn_tiny.json) on the seeded narrow fixture
test/fixtures/dbcnn-tiny (tools/export/export_dbcnn.py --weights random --config tiny --seed 6):
the authors' test procedure (DBCNN-PyTorch: the whole image, PIL RGB -> ToTensor -> Normalize(ImageNet),
no resize, no crop) in PyTorch with tools/export/dbcnn_model.py rebuilt from the saved state,
independent of iqa-node's decode, packing and ONNX graph. When ../shared exists, also `calibration`
(the five calibration images I03 I04 I06 I08 I19, by name without extension) and `biq2021` (the first
20 names, sorted, of ../shared/data/biq2021/train-subset.csv) for test/helpers.ts worstSharedDelta.
The full-size module is checked against the authors' own DBCNN class by scripts/golden/dbcnn_authors_parity.py.

  /work/pyenv/bin/python scripts/golden/dbcnn_reference.py > test/golden/dbcnn_tiny.json
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import torch
from PIL import Image
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
from dbcnn_model import DBCNN, TINY  # noqa: E402

SHARED_DATA = os.path.join(os.path.dirname(ROOT), 'shared', 'data')
SHARED = os.path.join(SHARED_DATA, 'calibration', 'dist_dir')
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']
FIX = os.path.join(ROOT, 'test', 'fixtures', 'dbcnn-tiny')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_dbcnn.py'), '--weights', 'random', '--config', 'tiny', '--seed', '6',
                        '--out-dir', FIX, '--name', 'dbcnn-tiny', '--save-state', state], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        net = DBCNN(TINY)
        net.load_state_dict(torch.load(state))
        net.eval()
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])
    files = [('fixture', f'img{i}.png', os.path.join(IMAGES, f'img{i}.png')) for i in range(3)]
    files += [('shared', f, os.path.join(SHARED, f)) for f in ['I03.bmp', 'I19.bmp'] if os.path.exists(os.path.join(SHARED, f))]
    out = {'generator': 'scripts/golden/dbcnn_reference.py', 'torch': torch.__version__, 'images': []}

    def score(path):
        with torch.no_grad():
            return float(net(t(Image.open(path).convert('RGB'))[None])[0, 0])

    for where, name, path in files:
        s = score(path)
        out['images'].append({'where': where, 'file': name, 'score': s})
        print(f'{name}: {s:.6f}', file=sys.stderr)
    out['calibration'] = out['biq2021'] = None
    if os.path.isdir(SHARED_DATA):
        out['calibration'] = {n: {'score': score(os.path.join(SHARED, f'{n}.bmp'))} for n in CALIBRATION}
        with open(os.path.join(SHARED_DATA, 'biq2021', 'train-subset.csv')) as f:
            names = sorted(r['image'] for r in csv.DictReader(f))[:20]
        out['biq2021'] = {n: {'score': score(os.path.join(SHARED_DATA, 'biq2021', 'images', n))} for n in names}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
