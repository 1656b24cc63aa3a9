#!/usr/bin/env python3
"""Exports CR-FIQA (Boutros et al., CVPR 2023; fdbtrs/CR-FIQA, CC BY-NC 4.0) to ONNX with a face
descriptor: ArcFace 112 alignment, RGB (x / 255 - 0.5) / 0.5, the iResNet's outputs `embedding`
(512-d) and `quality` (its `qs` Linear(512 -> 1) on the embedding), readout scalar `quality`[0].
The raw score is unbounded (a regression of the certainty ratio); CR-FIQA publishes no 0-100
mapping, so the descriptor's identity mapping only clamps it.

Weights (pick one):
  --checkpoint FILE              the authors' <model_id>backbone.pth (181952 = CR-FIQA(L) iResNet100,
                                 32572 = CR-FIQA(S) iResNet50 with --arch iresnet50)
  --weights random [--seed N]    seeded random init (tests): the scores mean nothing

  python tools/export/crfiqa.py --checkpoint 181952backbone.pth --out-dir ~/.cache/iqa-node/models/crfiqa-iresnet100
"""
from fiqa_export import main

if __name__ == "__main__":
    main("crfiqa")
