#!/usr/bin/env python3
"""The official-checkpoint path of MUSIQ on seeded weights: a random parameter tree in the layout of
the official Flax .npz checkpoints (scripts/golden/musiq_flax_reference.py) is written as an .npz,
converted by tools/export/export_musiq.py --checkpoint, and the whole pipeline is compared with an
independent numpy forward of the official model on that tree (same reference tokens as
scripts/golden/musiq_reference.py).

  PYTHONPATH=<dir with tensorflow-cpu> /work/pyenv/bin/python scripts/golden/musiq_flax_golden.py > test/golden/musiq_flax.json
      writes test/fixtures/musiq-tiny/musiq-flax-tiny.{onnx,json} (tiny widths) and the goldens
  PYTHONPATH=<dir with tensorflow-cpu> /work/pyenv/bin/python scripts/golden/musiq_flax_golden.py --config full [--dataset ava]
      the full-size model (27 M parameters): ONNX Runtime on the exported graph vs the numpy
      forward on the calibration images (or the fixtures), printed; nothing written
"""
import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from musiq_flax_reference import random_tree, score  # noqa: E402
from musiq_reference import tokens  # noqa: E402
from seeded_fixture import ROOT, golden_images  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'tools', 'export'))
from musiq_model import FULL, TINY  # noqa: E402  (configuration numbers only)

SEED = 5
FIX = os.path.join(ROOT, 'test', 'fixtures', 'musiq-tiny')
IMAGES = ['b256-at.png', 'b384-over.png', 'tiny.png', 'tall.png']


def rows_of(path, c):
    p, pos, sc, mask = tokens(path, c['patch'], c['grid'])
    return np.concatenate([p.transpose(0, 2, 3, 1).reshape(len(p), -1), pos[:, None], sc[:, None], mask[:, None]], axis=1), (p, pos, sc, mask)


def export(tree, out_dir, name, config, dataset):
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, 'ckpt.npz')
        np.savez(ck, **tree)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'export', 'export_musiq.py'), '--checkpoint', ck, '--config', config, '--dataset', dataset,
                        '--out-dir', out_dir, '--name', name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', choices=['tiny', 'full'], default='tiny')
    ap.add_argument('--dataset', choices=['koniq', 'ava'], default='koniq')
    args = ap.parse_args()
    base = TINY if args.config == 'tiny' else FULL
    c = dataclasses.replace(base, classes=10 if args.dataset == 'ava' else 1).to_dict()
    tree = random_tree(c, SEED)
    images = [('fixture', f, os.path.join(FIX, f)) for f in IMAGES] + golden_images()
    if args.config == 'full':
        import onnxruntime as ort
        with tempfile.TemporaryDirectory() as out:
            export(tree, out, 'musiq', 'full', args.dataset)
            sess = ort.InferenceSession(os.path.join(out, 'musiq.onnx'), providers=['CPUExecutionProvider'])
            worst = 0.0
            for _, f, path in images:
                rows, (p, pos, sc, mask) = rows_of(path, c)
                o = sess.run(['score'], {'patches': p[None], 'pos_idx': pos[None].astype(np.int64), 'scale_idx': sc[None].astype(np.int64), 'mask': mask[None]})[0][0].astype(np.float64)
                got = float(o[0]) if o.size == 1 else float((np.exp(o - o.max()) / np.exp(o - o.max()).sum() * np.arange(1, 11)).sum())
                want = score(tree, rows, c)
                worst = max(worst, abs(got - want))
                print(f'{f}: ORT {got:.6f} numpy {want:.6f} diff {abs(got - want):.2e}')
            print(f'full-size {args.dataset}: max |ORT - numpy official forward| = {worst:.2e} over {len(images)} images')
        return
    export(tree, FIX, 'musiq-flax-tiny', 'tiny', args.dataset)
    out = [{'where': w, 'file': f, 'score': score(tree, rows_of(path, c)[0], c)} for w, f, path in images]
    json.dump({'source': 'scripts/golden/musiq_flax_golden.py', 'seed': SEED, 'images': out}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
