#!/usr/bin/env python3
"""Checks tools/export/keras_h5.py on a Keras 2-style model_config: the FaceQnet fixture's
source.h5 (written by Keras 3) copied with its config rewritten as Keras 2.x writes one
(class_name 'Model', top-level layer names, inbound_nodes [[[name, node, tensor, {}]]], weight
names with ':0'), then converted; its output must equal the Keras 3-config conversion's.
The FaceQnet release files (2019-2020) are Keras 2 .h5 files, which were not reachable here.
"""
import json
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
from keras_h5 import load_h5  # noqa: E402

SRC = os.path.join(ROOT, "test", "fixtures", "face", "faceqnet-tiny", "source.h5")


def keras2_node(v):
    out = []

    def walk(x):
        if isinstance(x, dict):
            if "keras_history" in x.get("config", {}):
                h = x["config"]["keras_history"]
                out.append([h[0], h[1], h[2], {}])
            else:
                for y in x.values():
                    walk(y)
        elif isinstance(x, list):
            for y in x:
                walk(y)
    walk(v)
    return [out] if out else []


def main():
    tmp = tempfile.mkdtemp()
    dst = os.path.join(tmp, "keras2.h5")
    shutil.copy(SRC, dst)
    with h5py.File(dst, "r+") as f:
        c = json.loads(f.attrs["model_config"])
        c["class_name"] = "Model"
        for layer in c["config"]["layers"]:
            layer["name"] = layer["config"]["name"]
            layer["inbound_nodes"] = keras2_node(layer.get("inbound_nodes", []))
        c["config"]["output_layers"] = [c["config"]["output_layers"]]
        c["config"]["input_layers"] = [c["config"]["input_layers"]]
        f.attrs["model_config"] = json.dumps(c).encode("utf8")
        g = f["model_weights"]
        for name in g:
            names = [n.decode() if isinstance(n, bytes) else n for n in g[name].attrs.get("weight_names", [])]
            for n in names:
                g[name].move(n, n + ":0")
            if names:
                g[name].attrs["weight_names"] = [(n + ":0").encode() for n in names]
    x = torch.from_numpy(np.random.default_rng(3).uniform(0, 255, (2, 224, 224, 3)).astype(np.float32))
    with torch.no_grad():
        a, b = load_h5(SRC)(x).numpy(), load_h5(dst)(x).numpy()
    print("Keras 2-style config vs Keras 3 config: max |d| =", float(np.abs(a - b).max()))
    shutil.rmtree(tmp)
    if not np.array_equal(a, b):
        sys.exit("the Keras 2-style config converts differently")


if __name__ == "__main__":
    main()
