"""The export driver of the face-quality regressors in fiqa_models.py (crfiqa.py, sddfiqa.py and
eqface.py are its command lines): build the network, load the official checkpoint (or seeded random
weights), export ONNX with a dynamic batch axis, check ONNX Runtime against PyTorch on random
inputs, write DIR/manifest.json (a face descriptor, models/face-manifest.schema.json) beside the
ONNX file.

Every method aligns to the ArcFace 112 template (the authors' evaluation reads 112 x 112 crops
aligned with it) and feeds RGB; what differs is the normalisation, the readout and the mapping.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import sha256, write_manifest  # noqa: E402
from fiqa_models import CRFIQA, CRFIQA_DEPTHS, EQFace, FULL_WIDTHS, IR_DEPTHS, SDDFIQA, load_checkpoint, seeded  # noqa: E402

MEASURES = "recognition utility: how useful the face image is to a face recogniser, not beauty or perceptual quality"
NOT_CALIBRATED = "no published 0-100 mapping: quality is the raw score clamped to [0, 100] (identity), not a calibration; rank by raw"

METHODS = {
    "crfiqa": {
        "archs": CRFIQA_DEPTHS, "arch": "iresnet100", "outputs": ["embedding", "quality"],
        "description": "CR-FIQA {arch}: quality = Linear(512 -> 1) on the BN1d embedding (certainty ratio regression)",
        # (x / 255 - 0.5) / 0.5 on RGB (evaluation/QualityModel.py; README: the network sees RGB)
        "normalize": {"mean": [0.5], "std": [0.5]},
        "readout": {"type": "scalar", "output": "quality", "index": 0},
        "mapping": {"type": "identity"},
        "source": {"paper": "F. Boutros, M. Fang, M. Klemt, B. Fu, N. Damer, CR-FIQA: Face Image Quality Assessment by Learning Sample Relative Classifiability, CVPR 2023",
                   "code": "https://github.com/fdbtrs/CR-FIQA", "checkpoint": "<model_id>backbone.pth: CR-FIQA(L) 181952 (iResNet100, MS1MV2) or CR-FIQA(S) 32572 (iResNet50, CASIA-WebFace), Google Drive (README)",
                   "license": "CC BY-NC 4.0 (code and models, README); " + NOT_CALIBRATED, "commercialUse": False},
    },
    "sddfiqa": {
        "archs": {"ir50": IR_DEPTHS["ir50"]}, "arch": "ir50", "outputs": ["quality"],
        "description": "SDD-FIQA {arch}: quality = PReLU - Dropout - Linear(25088 -> 1) on the flattened last map (similarity distribution distance regression)",
        # ToTensor + Normalize(0.5, 0.5) on PIL RGB (quality/eval.py)
        "normalize": {"mean": [0.5], "std": [0.5]},
        "readout": {"type": "scalar", "output": "quality", "index": 0},
        "mapping": {"type": "identity"},
        "source": {"paper": "F.-Z. Ou, X. Chen, R. Zhang, Y. Huang, S. Li, J. Li, Y. Li, L. Cao, Y.-G. Wang, SDD-FIQA: Unsupervised Face Image Quality Assessment with Similarity Distribution Distance, CVPR 2021",
                   "code": "https://github.com/Tencent/TFace/tree/master/quality", "checkpoint": "SDD_FIQA_checkpoints_r50.pth (IR-50, refined MS1M), Google Drive (quality/README.md)",
                   "license": "Apache-2.0 (TFace License.txt); weights trained on MS1M (research-only terms); authors (Tencent/TFace#20): raw roughly 0-100, no universal thresholds", "commercialUse": False},
    },
    "eqface": {
        "archs": IR_DEPTHS, "arch": "ir100", "outputs": ["embedding", "quality_logits"],
        "description": "EQFace {arch}: quality = softmax column 0 of a 2-way head on the flattened 512 x 7 x 7 map",
        # (x - 127.5) / 128 on RGB (test_quality.py) = (x / 255 - 0.5) / (128 / 255)
        "normalize": {"mean": [0.5], "std": [128 / 255]},
        "readout": {"type": "softmax", "output": "quality_logits", "index": 0},
        "mapping": {"type": "linear", "from": [0, 1]},
        "source": {"paper": "X. Liu, Y. Tan, EQFace: A Simple Explicit Quality Network for Face Recognition, CVPR Workshops 2021",
                   "code": "https://github.com/deepcam-cn/FaceQuality", "checkpoint": "backbone.pth + quality.pth (IR-100, MS1MV2), Google Drive (README)",
                   "license": "MIT (code, README); weights trained on MS1MV2 (research-only terms)", "commercialUse": False},
    },
}


def arguments(method: str) -> argparse.ArgumentParser:
    spec = METHODS[method]
    p = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint")
    p.add_argument("--weights", choices=["checkpoint", "random"], default="checkpoint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--arch", choices=sorted(spec["archs"]), default=spec["arch"])
    p.add_argument("--layers", help="override the depth, e.g. 1,1,1,1 (test fixtures)")
    p.add_argument("--widths", help="override the stage widths, e.g. 8,16,16,16 (test fixtures)")
    p.add_argument("--embedding", type=int, default=512)
    if method == "eqface":
        p.add_argument("--quality-checkpoint", help="the quality network's state dict (default: quality.pth beside --checkpoint)")
        p.add_argument("--hidden", type=int, default=512, help="the quality network's hidden width (test fixtures)")
    p.add_argument("--name")
    p.add_argument("--out-dir", required=True)
    return p


def build(method: str, args) -> torch.nn.Module:
    layers = [int(v) for v in args.layers.split(",")] if args.layers else METHODS[method]["archs"][args.arch]
    widths = [int(v) for v in args.widths.split(",")] if args.widths else FULL_WIDTHS
    if method == "crfiqa":
        model = CRFIQA(layers, widths, args.embedding)
    elif method == "sddfiqa":
        model = SDDFIQA(layers, widths)
    else:
        model = EQFace(layers, widths, args.embedding, args.hidden)
    if args.weights == "random":
        return seeded(model, args.seed)
    if not args.checkpoint:
        sys.exit("give --checkpoint FILE or --weights random")
    if method == "eqface":
        load_checkpoint(model.backbone, args.checkpoint, "an EQFace backbone")
        quality = args.quality_checkpoint or os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "quality.pth")
        if not os.path.exists(quality):
            sys.exit(f"EQFace's quality network {quality} is missing: give --quality-checkpoint FILE")
        load_checkpoint(model.quality, quality, "an EQFace quality network")
    else:
        load_checkpoint(model, args.checkpoint, f"a {method} network")
    return model.eval()


def verify(model: torch.nn.Module, path: str, outputs: list, seed: int) -> dict:
    """ONNX Runtime against PyTorch on a batch of 3 random crops: max |d| / max |ref| per output."""
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(seed).uniform(-1, 1, (3, 3, 112, 112)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x))
    ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
    got = sess.run(outputs, {"input": x})
    errs = {name: float(np.abs(g - r).max() / max(1e-12, np.abs(r).max())) for name, g, r in zip(outputs, got, ref)}
    print("ONNX Runtime vs PyTorch, max |d| / max |ref|: " + ", ".join(f"{k} {v:.2e}" for k, v in errs.items()))
    if max(errs.values()) > 1e-4:
        sys.exit("ONNX export does not match PyTorch")
    return errs


def main(method: str, argv=None) -> None:
    spec = METHODS[method]
    args = arguments(method).parse_args(argv)
    model = build(method, args).eval()
    os.makedirs(args.out_dir, exist_ok=True)
    outputs = spec["outputs"]
    onnx_file = "model.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, onnx_file)
        torch.onnx.export(model, torch.zeros(1, 3, 112, 112), tmp_path, input_names=["input"], output_names=outputs,
                          dynamic_axes={"input": {0: "batch"}, **{o: {0: "batch"} for o in outputs}}, opset_version=13, dynamo=False)
        verify(model, tmp_path, outputs, args.seed + 1)
        data = open(tmp_path, "rb").read()
    with open(os.path.join(args.out_dir, onnx_file), "wb") as f:
        f.write(data)
    digest = sha256(os.path.join(args.out_dir, onnx_file))
    name = args.name or f"{method}-{args.arch}"
    write_manifest(args.out_dir, "manifest", {
        "$schema": "https://github.com/iqa-node/iqa-node/blob/main/models/face-manifest.schema.json",
        "schemaVersion": 1, "kind": "face", "name": name,
        "description": spec["description"].format(arch=args.arch), "measures": MEASURES,
        "model": {"file": onnx_file, "sha256": digest},
        "align": {"template": "arcface112"},
        "input": {"colorOrder": "rgb", "layout": "NCHW", "normalize": spec["normalize"]},
        "readout": spec["readout"], "mapping": spec["mapping"],
        "source": {**spec["source"], "weights": "seeded-random" if args.weights == "random" else "official"},
    })
    print(f"wrote {args.out_dir}/manifest.json and {onnx_file} ({len(data)} bytes, sha256 {digest})")
