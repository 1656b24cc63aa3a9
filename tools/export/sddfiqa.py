#!/usr/bin/env python3
"""Exports SDD-FIQA (Ou et al., CVPR 2021; Tencent/TFace quality/, Apache-2.0) to ONNX with a face
descriptor: ArcFace 112 alignment, RGB (x / 255 - 0.5) / 0.5, IR-50 with the quality head
Flatten - PReLU(25088) - Dropout(0.5) - Linear(25088 -> 1), output `quality`, readout scalar. The
raw score is an unbounded regression (the authors: roughly 0-100, no universal thresholds); the
descriptor's identity mapping only clamps it to [0, 100].

Weights (pick one):
  --checkpoint FILE              SDD_FIQA_checkpoints_r50.pth (quality/README.md)
  --weights random [--seed N]    seeded random init (tests): the scores mean nothing

  python tools/export/sddfiqa.py --checkpoint SDD_FIQA_checkpoints_r50.pth --out-dir ~/.cache/iqa-node/models/sddfiqa-ir50
"""
from fiqa_export import main

if __name__ == "__main__":
    main("sddfiqa")
