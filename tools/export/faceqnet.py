#!/usr/bin/env python3
"""Exports FaceQnet v0 / v1 (Hernandez-Ortega et al., ICB 2019 / arXiv 2006.03298;
uam-biometrics/FaceQnet, no licence stated) to ONNX with a face descriptor.

The network is rebuilt from the .h5's own model_config (keras_h5.py: no TensorFlow needed), so
whatever backbone the release file holds is what runs; the weights are its model_weights. The
authors' test script (src/FaceQNet_obtainscores_Keras.py) feeds cv2.resize(image, (224, 224)) of a
face crop, BGR, raw 0-255, and clamps the regression to [0, 1]: the descriptor crops the detector's
box (template 'box', no alignment), resizes it to 224, feeds NHWC BGR 0-255 (mean 0, std 1/255),
reads the scalar output and maps [0, 1] -> [0, 100] (clamped, as the authors clamp).

Weights (pick one):
  --checkpoint FILE              FaceQnet.h5 (v0) or FaceQnet_v1.h5 (v1), the repository's
                                 GitHub release assets
  --weights random [--seed N]    a seeded tiny Keras model (ResNet-style layers) written to
                                 DIR/source.h5 and converted like a release file (tests): the
                                 scores mean nothing; needs keras (KERAS_BACKEND=torch)

Before writing, ONNX Runtime is checked against Keras itself (Keras 3, KERAS_BACKEND=torch,
loading the same .h5) on random 0-255 inputs: max |d| / max |ref| <= 1e-4.

  python tools/export/faceqnet.py --checkpoint FaceQnet_v1.h5 --out-dir ~/.cache/iqa-node/models/faceqnet-v1
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_common import sha256, write_manifest  # noqa: E402
from keras_h5 import load_h5  # noqa: E402

SIZE = 224


def tiny_keras_model(seed: int):
    """A small functional model with the layer kinds of a Keras ResNet-50 (7x7/2 'same' stem, BN,
    ReLU, 3x3/2 max pool, a bottleneck with a projection shortcut and Add, zero padding, average
    pool, Flatten, Dropout, Dense), BN statistics and the output scale seeded."""
    import keras
    from keras import layers as L
    keras.utils.set_random_seed(seed)
    i = L.Input((SIZE, SIZE, 3))
    x = L.Conv2D(8, 7, strides=2, padding="same", use_bias=False, name="conv1")(i)
    x = L.Activation("relu")(L.BatchNormalization(epsilon=1e-5, name="bn1")(x))
    x = L.MaxPooling2D(3, strides=2)(x)
    y = L.Conv2D(8, 1, name="a1")(x)
    y = L.ReLU()(L.BatchNormalization(name="bna1")(y))
    y = L.BatchNormalization(name="bna2")(L.Conv2D(8, 3, padding="same", name="a2")(y))
    s = L.BatchNormalization(name="bns")(L.Conv2D(8, 1, name="short")(x))
    x = L.Activation("relu")(L.Add()([y, s]))
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="down")(x)
    x = L.MaxPooling2D(2, strides=2, padding="same")(L.ZeroPadding2D(1)(x))
    x = L.AveragePooling2D(3, strides=2, padding="same")(x)
    x = L.Dense(8, activation="relu", name="fc1")(L.Dropout(0.5)(L.Flatten()(x)))
    o = L.Dense(1, name="quality")(x)
    model = keras.Model(i, o)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([0.5 + rng.random(g.shape), rng.normal(0, 0.1, b.shape), rng.normal(0, 0.1, m.shape) * 50, (0.5 + rng.random(v.shape)) * 400])
    ramp = np.linspace(0, 255, SIZE * SIZE * 3, dtype=np.float32).reshape(1, SIZE, SIZE, 3)
    w, b = model.get_layer("quality").get_weights()
    model.get_layer("quality").set_weights([w * 0.2 / max(1e-6, float(np.abs(model.predict(ramp, verbose=0)).max())), b + 0.5])
    return model


def keras_predict(h5: str, x: np.ndarray) -> np.ndarray:
    try:
        import keras
    except ImportError:
        sys.exit("checking the export needs keras (pip install keras; KERAS_BACKEND=torch)")
    model = keras.models.load_model(h5, compile=False)
    return np.asarray(model.predict(x, verbose=0))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint")
    p.add_argument("--weights", choices=["checkpoint", "random"], default="checkpoint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--version", choices=["v0", "v1"], default="v1", help="names the descriptor (faceqnet-v0 / faceqnet-v1)")
    p.add_argument("--name")
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.weights == "random":
        h5 = os.path.join(args.out_dir, "source.h5")
        tiny_keras_model(args.seed).save(h5)
    elif args.checkpoint:
        h5 = args.checkpoint
    else:
        sys.exit("give --checkpoint FILE or --weights random")
    net = load_h5(h5)
    onnx_file = "model.onnx"
    x = np.random.default_rng(args.seed + 1).uniform(0, 255, (3, SIZE, SIZE, 3)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, onnx_file)
        torch.onnx.export(net, torch.zeros(1, SIZE, SIZE, 3), tmp_path, input_names=["input"], output_names=["quality"],
                          dynamic_axes={"input": {0: "batch"}, "quality": {0: "batch"}}, opset_version=13, dynamo=False)
        import onnxruntime as ort
        got = ort.InferenceSession(tmp_path, providers=["CPUExecutionProvider"]).run(["quality"], {"input": x})[0]
        ref = keras_predict(h5, x)
        err = float(np.abs(got - ref).max() / max(1e-12, np.abs(ref).max()))
        print(f"ONNX Runtime vs Keras ({os.environ['KERAS_BACKEND']} backend): max |d| / max |ref| = {err:.2e}")
        if err > 1e-4:
            sys.exit("ONNX export does not match Keras")
        data = open(tmp_path, "rb").read()
    with open(os.path.join(args.out_dir, onnx_file), "wb") as f:
        f.write(data)
    name = args.name or f"faceqnet-{args.version}"
    write_manifest(args.out_dir, "manifest", {
        "$schema": "https://github.com/iqa-node/iqa-node/blob/main/models/face-manifest.schema.json",
        "schemaVersion": 1, "kind": "face", "name": name,
        "description": f"FaceQnet {args.version}: regression on the detector's face box resized to 224 x 224 (no alignment), BGR 0-255",
        "measures": "recognition utility: how useful the face image is to a face recogniser, not beauty or perceptual quality",
        "model": {"file": onnx_file, "sha256": sha256(os.path.join(args.out_dir, onnx_file))},
        "align": {"template": "box", "resize": [SIZE, SIZE]},
        "input": {"colorOrder": "bgr", "layout": "NHWC", "normalize": {"mean": [0], "std": [1 / 255]}},
        "readout": {"type": "scalar", "output": "quality", "index": 0},
        "mapping": {"type": "linear", "from": [0, 1]},
        "source": {"paper": "J. Hernandez-Ortega, J. Galbally, J. Fierrez, R. Haraksim, L. Beslay, FaceQnet: Quality Assessment for Face Recognition based on Deep Learning, ICB 2019; FaceQnet v1: arXiv 2006.03298",
                   "code": "https://github.com/uam-biometrics/FaceQnet", "checkpoint": "FaceQnet.h5 (v0) / FaceQnet_v1.h5 (v1), GitHub releases v0 and v1.0 of uam-biometrics/FaceQnet",
                   "license": "none stated in uam-biometrics/FaceQnet (all rights reserved): user-supplied only, not redistributable",
                   "commercialUse": False, "weights": "seeded-random" if args.weights == "random" else "official"},
    })
    print(f"wrote {args.out_dir}/manifest.json and {onnx_file} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
