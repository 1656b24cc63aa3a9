#!/usr/bin/env python3
"""Exports EQFace (Liu & Tan, CVPRW 2021; deepcam-cn/FaceQuality, MIT) to ONNX with a face
descriptor: ArcFace 112 alignment, RGB (x - 127.5) / 128, the IR-100 backbone and the separate
quality network in one graph with outputs `embedding` (512-d) and `quality_logits` (the 2 logits
before the authors' Softmax); readout softmax column 0 (a probability, higher = better), mapped
linearly [0, 1] -> [0, 100].

Weights (pick one):
  --checkpoint backbone.pth [--quality-checkpoint quality.pth]
                                 the authors' two state dicts (quality.pth is looked for beside
                                 backbone.pth when not given)
  --weights random [--seed N]    seeded random init (tests): the scores mean nothing

  python tools/export/eqface.py --checkpoint backbone.pth --out-dir ~/.cache/iqa-node/models/eqface-ir100
"""
from fiqa_export import main

if __name__ == "__main__":
    main("eqface")
