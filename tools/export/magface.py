#!/usr/bin/env python3
"""Exports MagFace's iResNet (Meng et al., CVPR 2021; IrvingMeng/MagFace, Apache-2.0) to ONNX with
a face-quality descriptor (kind 'face', models/face-manifest.schema.json):

  --descriptor magface   quality = feature norm, ArcFace 112 alignment, BGR, pixel/255; 0-100 by a
                         linear map of MagFace's training norm bounds [10, 110] (not a calibration)
  --descriptor ofiq-uqs  OFIQ's unified quality score (ISO/IEC 29794-5 reference): the same norm on
                         OFIQ's 616 alignment -> 192 -> crop 112 at (40, 33), mapped by OFIQ's sigmoid
                         h 100, x0 23.0, w 2.6, rounded. OFIQ ships an iResNet50 trained with DP.

Weights (pick one):
  --checkpoint FILE              a MagFace checkpoint (.pth with `state_dict`, keys prefixed
                                 features.module. / module.features.), e.g. magface_epoch_00025.pth
  --weights random [--seed N]    seeded random init (tests, benchmarks): the scores mean nothing

Before writing, ONNX Runtime (CPU) is run on random inputs and compared with PyTorch (norm within
1e-3 relative, embedding within 1e-4 of its scale).

Example:
  python tools/export/magface.py --checkpoint magface_epoch_00025.pth --arch iresnet100 --out-dir ~/.cache/iqa-node/models/magface
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import write_manifest  # noqa: E402
from magface_model import DEPTHS, IResNet, clean_state_dict, seeded  # noqa: E402


def network_arguments(p: argparse.ArgumentParser, arch: str) -> None:
    """The arguments build() reads: the weights and the iResNet's shape (serfiq.py takes them too)."""
    p.add_argument("--checkpoint")
    p.add_argument("--weights", choices=["checkpoint", "random"], default="checkpoint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--arch", choices=sorted(DEPTHS), default=arch)
    p.add_argument("--layers", help="override the depth, e.g. 1,1,1,1 (test fixtures)")
    p.add_argument("--widths", help="override the stage widths, e.g. 8,16,16,16 (test fixtures)")
    p.add_argument("--embedding", type=int, default=512)


def build(args) -> IResNet:
    layers = [int(v) for v in args.layers.split(",")] if args.layers else DEPTHS[args.arch]
    widths = [int(v) for v in args.widths.split(",")] if args.widths else [64, 128, 256, 512]
    model = IResNet(layers, widths, args.embedding, stem=widths[0])
    if args.weights == "random":
        return seeded(model, args.seed)
    if not args.checkpoint:
        sys.exit("give --checkpoint FILE or --weights random")
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    sd = ck.get("state_dict", ck) if isinstance(ck, dict) else ck
    model.load_state_dict(clean_state_dict(model, sd), strict=True)
    return model.eval()


def descriptor(kind: str, name: str, onnx_file: str, sha: str, weights: str, arch: str) -> dict:
    common = {
        "$schema": "https://github.com/iqa-node/iqa-node/blob/main/models/face-manifest.schema.json",
        "schemaVersion": 1,
        "kind": "face",
        "name": name,
        "measures": "recognition utility: how useful the face image is to a face recogniser (MagFace feature norm), not beauty or perceptual quality",
        "model": {"file": onnx_file, "sha256": sha},
        "input": {"colorOrder": "bgr", "layout": "NCHW", "normalize": {"mean": [0], "std": [1]}},
        "readout": {"type": "norm", "output": "embedding"},
    }
    src = {"paper": "Q. Meng et al., MagFace: A Universal Representation for Face Recognition and Quality Assessment, CVPR 2021",
           "code": "https://github.com/IrvingMeng/MagFace", "weights": "seeded-random" if weights == "random" else "official"}
    if kind == "magface":
        return {**common, "description": f"MagFace {arch}: quality = L2 norm of the 512-d feature",
                "align": {"template": "arcface112"},
                "mapping": {"type": "linear", "from": [10, 110]},
                "source": {**src, "checkpoint": "MagFace model zoo (README): iResNet100/50/18 .pth on Google Drive/Baidu", "license": "Apache-2.0 (code); weights from the authors' model zoo, no separate licence; trained on MS1MV2 (research-only terms)", "commercialUse": False}}
    return {**common, "description": f"OFIQ unified quality score (ISO/IEC 29794-5) on a MagFace {arch} norm",
            "align": {"template": "ofiq616"},
            "mapping": {"type": "sigmoid", "h": 100, "a": 0, "s": 1, "x0": 23.0, "w": 2.6, "round": True},
            "source": {**src, "paper": "OFIQ (BSI), UnifiedQualityScore.cpp; " + src["paper"], "checkpoint": "OFIQ-MODELS.zip magface_iresnet50_norm.onnx is OFIQ's own export (ISO portal); this descriptor needs a MagFace iResNet50 .pth through this script", "license": "OFIQ code MIT; MagFace Apache-2.0; weights: see the checkpoint's terms (MS1MV2-trained)", "commercialUse": False}}


def verify(model: IResNet, path: str, seed: int) -> float:
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(seed).random((3, 3, 112, 112), dtype=np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = sess.run(["embedding"], {"input": x})[0]
    emb_err = float(np.abs(got - ref).max() / max(1e-12, np.abs(ref).max()))
    norm_err = float(np.max(np.abs(np.linalg.norm(got, axis=1) - np.linalg.norm(ref, axis=1)) / np.linalg.norm(ref, axis=1)))
    print(f"ONNX Runtime vs PyTorch: embedding max |d| / max |ref| = {emb_err:.2e}, norm relative = {norm_err:.2e}")
    if emb_err > 1e-4 or norm_err > 1e-3:
        sys.exit("ONNX export does not match PyTorch")
    return norm_err


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    network_arguments(p, "iresnet50")
    p.add_argument("--descriptor", choices=["magface", "ofiq-uqs"], default="magface")
    p.add_argument("--also-ofiq", action="store_true", help="write ofiq-uqs.json beside manifest.json, on the same ONNX file")
    p.add_argument("--name")
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    model = build(args).eval()
    os.makedirs(args.out_dir, exist_ok=True)
    onnx_file = "model.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, onnx_file)
        torch.onnx.export(model, torch.zeros(1, 3, 112, 112), tmp_path, input_names=["input"], output_names=["embedding"],
                          dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13, dynamo=False)
        verify(model, tmp_path, args.seed + 1)
        data = open(tmp_path, "rb").read()
    with open(os.path.join(args.out_dir, onnx_file), "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    name = args.name or ("magface-" + args.arch if args.descriptor == "magface" else "ofiq-uqs")
    write_manifest(args.out_dir, "manifest", descriptor(args.descriptor, name, onnx_file, sha, args.weights, args.arch))
    if args.also_ofiq:
        write_manifest(args.out_dir, "ofiq-uqs", descriptor("ofiq-uqs", name + "-ofiq-uqs", onnx_file, sha, args.weights, args.arch))
    print(f"wrote {args.out_dir}/manifest.json and {onnx_file} ({len(data)} bytes, sha256 {sha})")


if __name__ == "__main__":
    main()
