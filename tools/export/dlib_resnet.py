#!/usr/bin/env python3
"""Exports dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat: Davis King's
ResNet-34-style network, 128-d embedding, 99.38% on LFW by its author; CC0 in PyPI
`face-recognition-models`) to ONNX, with a face descriptor (kind 'face') whose readout is the
embedding's norm.

The network is rebuilt from dlib's description (dnn_face_recognition_ex.cpp) and the layer list read
from the .dat (tools/export/dlib_dat.py): 150x150 RGB, (pixel - mean) / 256; conv 7x7/2 (no
padding) - affine - ReLU - max-pool 3x3/2; residual blocks (conv3x3 - affine - ReLU - conv3x3 -
affine, + input, ReLU) at 32, 64, 128, 256, 256 channels; the first block of each stage after the
first has a stride-2 unpadded conv and an avg-pool 2x2/2 shortcut; dlib's add_prev sums tensors of
different shapes by zero-padding the smaller one (channels and the 3x3 vs 4x4 map at 256); then the
spatial mean and a 256x128 matrix without bias.

Alignment: dlib aligns with its own 5-point shape predictor (eye corners, nose base) and
get_face_chip(size 150, padding 0.25). Our detector gives YuNet's 5 points (eye centres, nose tip,
mouth corners), so this script derives a 150x150 template for them: for each face the dlib chip
transform is recovered (checked against dlib.get_face_chip's pixels) and the YuNet points are
mapped through it; the template is their mean. TEMPLATE below is that derivation on the 164 faces
among ../shared's 2 photos and 320 LFW crops that both detectors find (scatter 6.9 px);
`--derive-template` repeats it (needs the dlib wheel and its 5-point predictor next to the checkpoint).

Checks before writing: ONNX Runtime against the PyTorch rebuild (random inputs), and against dlib's
own compute_face_descriptor on dlib chips of real faces (when the dlib wheel imports).

Example:
  python tools/export/dlib_resnet.py --checkpoint .../dlib_face_recognition_resnet_model_v1.dat --out-dir ~/.cache/iqa-node/models/dlib-resnet
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dlib_dat import read_layers  # noqa: E402
from export_common import recogniser_manifest, write_manifest  # noqa: E402

SIZE = 150
# YuNet's five points in dlib's 150x150 face chip (padding 0.25); see the module docstring.
TEMPLATE = [[45.4343, 46.2818], [99.3467, 44.1099], [73.7549, 78.9834], [52.9657, 104.6727], [98.0921, 102.7283]]


def pad_to(x: torch.Tensor, c: int, h: int, w: int) -> torch.Tensor:
    return F.pad(x, (0, w - x.shape[3], 0, h - x.shape[2], 0, c - x.shape[1]))


def add_prev(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib add_prev: the sum over the larger shape, the smaller tensor zero-padded (channels, rows, cols)."""
    c, h, w = max(a.shape[1], b.shape[1]), max(a.shape[2], b.shape[2]), max(a.shape[3], b.shape[3])
    return pad_to(a, c, h, w) + pad_to(b, c, h, w)


class Affine(nn.Module):
    def __init__(self, params: np.ndarray):
        super().__init__()
        c = params.size // 2
        self.register_buffer("gamma", torch.from_numpy(params[:c].copy()).view(1, c, 1, 1))
        self.register_buffer("beta", torch.from_numpy(params[c:].copy()).view(1, c, 1, 1))

    def forward(self, x):
        return x * self.gamma + self.beta


def conv_from(layer: dict, cin: int) -> nn.Conv2d:
    nf, kh, kw = layer["filters"], layer["nr"], layer["nc"]
    conv = nn.Conv2d(cin, nf, (kh, kw), layer["stride"], layer["padding"], bias=True)
    p = layer["params"]
    n = nf * cin * kh * kw
    if p.size != n + nf:
        raise SystemExit(f"conv params {p.size} != {n} + {nf}")
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(p[:n].reshape(nf, cin, kh, kw).copy()))
        conv.bias.copy_(torch.from_numpy(p[n:].copy()))
    return conv


class Block(nn.Module):
    def __init__(self, c1: nn.Conv2d, a1: Affine, c2: nn.Conv2d, a2: Affine, pool: bool):
        super().__init__()
        self.c1, self.a1, self.c2, self.a2, self.pool = c1, a1, c2, a2, pool

    def forward(self, x):
        y = self.a2(self.c2(F.relu(self.a1(self.c1(x)))))
        skip = F.avg_pool2d(x, 2, 2) if self.pool else x
        return F.relu(add_prev(y, skip))


class DlibResNet(nn.Module):
    """Input: N x 3 x 150 x 150 RGB already normalised as (pixel - mean) / 256."""

    def __init__(self, layers: list[dict]):
        super().__init__()
        types = [l["type"] for l in layers]
        if types[0] != "input" or types[1:5] != ["con", "affine", "relu", "max_pool"] or types[-2:] != ["avg_pool", "fc"]:
            raise SystemExit(f"unexpected dlib network layout: {types[:6]} ... {types[-3:]}")
        self.mean = layers[0]["mean"]
        self.stem = conv_from(layers[1], 3)
        self.stem_affine = Affine(layers[2]["params"])
        blocks, i, cin = [], 5, layers[1]["filters"]
        body = layers[5:-2]
        i = 0
        while i < len(body):
            t = [l["type"] for l in body[i:i + 8]]
            pool = t[5] == "avg_pool"
            want = ["con", "affine", "relu", "con", "affine"] + (["avg_pool"] if pool else []) + ["add_prev", "relu"]
            if t[:len(want)] != want:
                raise SystemExit(f"unexpected residual block at layer {i + 5}: {t}")
            c1 = conv_from(body[i], cin)
            c2 = conv_from(body[i + 3], body[i]["filters"])
            blocks.append(Block(c1, Affine(body[i + 1]["params"]), c2, Affine(body[i + 4]["params"]), pool))
            cin = body[i + 3]["filters"]
            i += len(want)
        self.blocks = nn.Sequential(*blocks)
        fc = layers[-1]
        self.register_buffer("fc", torch.from_numpy(fc["params"].reshape(fc["inputs"], fc["outputs"]).copy()))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem_affine(self.stem(x))), 3, 2)
        x = self.blocks(x)
        return x.mean(dim=(2, 3)) @ self.fc


def to_tensor(chips_rgb: np.ndarray, mean) -> torch.Tensor:
    x = chips_rgb.astype(np.float32).transpose(0, 3, 1, 2)
    return torch.from_numpy((x - np.array(mean, np.float32).reshape(1, 3, 1, 1)) / 256.0)


def chip_matrix(details, variant: int) -> np.ndarray:
    """The 2x3 image -> chip affine map of a dlib chip_details (rect corners, rotated by angle about
    the rect centre, onto the chip corners). Two sign conventions; the caller checks which one
    reproduces dlib.get_face_chip."""
    r = details.rect
    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
    a = details.angle if variant == 0 else -details.angle
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = np.array([[r.left(), r.top()], [r.right(), r.top()], [r.right(), r.bottom()]])
    src = (corners - [cx, cy]) @ rot.T + [cx, cy]
    dst = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], np.float64)
    import cv2
    return cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)


def derive_template(images: list[str], models_dir: str, detector_onnx: str):
    import cv2
    import dlib
    det = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(os.path.join(models_dir, "shape_predictor_5_face_landmarks.dat"))
    pts, chip_errs, used = [], [], 0
    variant = None
    for path in images:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        dets = det(rgb, 1)
        if len(dets) != 1:
            continue
        h, w = bgr.shape[:2]
        yn = cv2.FaceDetectorYN.create(detector_onnx, "", (w, h), 0.6, 0.3, 5000)
        _, faces = yn.detect(bgr)
        if faces is None or len(faces) != 1:
            continue
        shape = sp(rgb, dets[0])
        details = dlib.get_face_chip_details(shape, SIZE, 0.25)
        chip = np.asarray(dlib.get_face_chip(rgb, shape, SIZE, 0.25), np.float64)
        if variant is None:
            errs = []
            for v in (0, 1):
                m = chip_matrix(details, v)
                errs.append(np.abs(cv2.warpAffine(rgb, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR).astype(np.float64) - chip).mean())
            variant = int(np.argmin(errs))
        m = chip_matrix(details, variant)
        chip_errs.append(np.abs(cv2.warpAffine(rgb, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR).astype(np.float64) - chip).mean())
        lm = faces[0][4:14].reshape(5, 2).astype(np.float64)
        pts.append(lm @ m[:, :2].T + m[:, 2])
        used += 1
    if used < 5:
        raise SystemExit(f"only {used} faces usable for the template")
    pts = np.array(pts)
    spread = float(np.linalg.norm(pts - pts.mean(axis=0), axis=2).mean())
    print(f"template from {used} faces; dlib chip reproduced by the recovered transform to a mean |d| of "
          f"{np.mean(chip_errs):.2f} levels; YuNet points scatter {spread:.2f} px around the template")
    return pts.mean(axis=0), used, spread


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="dlib_face_recognition_resnet_model_v1.dat")
    p.add_argument("--derive-template", action="store_true", help="derive the YuNet-point template again instead of using TEMPLATE (needs dlib)")
    p.add_argument("--template-faces", nargs="+", help="face photos for --derive-template and the check against dlib (default: ../shared faces)")
    p.add_argument("--detector", default=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models", "face", "yunet_n_dynamic.onnx"))
    p.add_argument("--name", default="dlib-resnet")
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    layers = read_layers(args.checkpoint)
    model = DlibResNet(layers).eval()
    models_dir = os.path.dirname(os.path.abspath(args.checkpoint))
    shared = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "..", "shared", "data", "faces")
    # The two photos alone leave too few faces that both detectors find: the LFW crops too.
    faces = args.template_faces or sorted(glob.glob(os.path.join(shared, "*.jpeg")) + glob.glob(os.path.join(shared, "lfw-aligned", "*.jpg")))
    if args.derive_template:
        template, used, spread = derive_template(faces, models_dir, args.detector)
        how = f"template from {used} faces (scatter {spread:.2f} px)"
    else:
        template, how = np.array(TEMPLATE), "the script's template"

    # dlib's own descriptor on dlib chips vs the rebuild (the source framework's numbers).
    try:
        import cv2
        import dlib
        det = dlib.get_frontal_face_detector()
        sp = dlib.shape_predictor(os.path.join(models_dir, "shape_predictor_5_face_landmarks.dat"))
        rec = dlib.face_recognition_model_v1(args.checkpoint)
        worst = 0.0
        for path in faces:
            rgb = np.ascontiguousarray(cv2.imread(path)[:, :, ::-1])
            for d in det(rgb, 1):
                shape = sp(rgb, d)
                chip = np.asarray(dlib.get_face_chip(rgb, shape, SIZE, 0.25))
                ref = np.array(rec.compute_face_descriptor(chip))
                with torch.no_grad():
                    got = model(to_tensor(chip[None], model.mean)).numpy()[0]
                worst = max(worst, float(np.abs(got - ref).max()))
        print(f"PyTorch rebuild vs dlib.compute_face_descriptor: max |d| = {worst:.2e} (embedding values ~0.1)")
        if worst > 1e-3:
            sys.exit("the rebuild does not match dlib")
    except ImportError:
        print("dlib not importable: skipped the check against dlib itself")

    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, input_names=["input"], output_names=["embedding"],
                          dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13, dynamo=False)
        import onnxruntime as ort
        x = np.random.default_rng(0).normal(0, 0.5, (4, 3, SIZE, SIZE)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(["embedding"], {"input": x})[0]
        err = float(np.abs(got - ref).max())
        print(f"ONNX Runtime vs PyTorch: max |d| = {err:.2e}")
        if err > 1e-4:
            sys.exit("ONNX export does not match PyTorch")
        data = open(path, "rb").read()
    with open(os.path.join(args.out_dir, "model.onnx"), "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    mean = [v / 255.0 for v in model.mean]
    manifest = recogniser_manifest(
        args.name,
        "dlib's face-recognition ResNet (128-d embedding); readout = embedding norm. A recogniser for ERC/verification and for norm/SER-FIQ-style readouts on a real network: it is NOT MagFace (its norm was not trained to track quality) and NOT the SER-FIQ authors' ArcFace",
        sha, template, SIZE, {"mean": mean, "std": [256.0 / 255.0]},
        {"paper": "D. King, dlib-models: dlib_face_recognition_resnet_model_v1 (ResNet, 99.38% LFW)", "code": "dlib (Boost Software License)",
         "checkpoint": "PyPI face-recognition-models: face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
         "license": "CC0 (dlib-models' licence for this file)", "commercialUse": True, "weights": "official"})
    write_manifest(args.out_dir, "manifest", manifest)
    print(f"wrote {args.out_dir}/manifest.json and model.onnx ({len(data)} bytes, sha256 {sha}); {how}")


if __name__ == "__main__":
    main()
