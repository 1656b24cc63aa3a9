"""Reader for dlib's serialised DNN files (dlib/dnn/core.h, layers.h, tensor.h serialisation), enough
for dlib_face_recognition_resnet_model_v1.dat: the layers are written input side first, each as its
type tag (a string) and fields. Integers are dlib's variable-length format (a byte with the length
in the low nibble and 0x80 for negative, then that many little-endian bytes); floats outside tensors
are mantissa (int64) x 2^exponent (int16); tensors (version 2) are n, k, nr, nc then little-endian
float32s. Tag layers (tag1/tag2/skip1) carry no name: the residual wiring comes from the known
architecture (dlib's dnn_face_recognition_ex.cpp), checked here against the layer sequence.
"""
from __future__ import annotations

import re
import struct

import numpy as np


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.b, self.p = data, pos

    def int(self) -> int:
        h = self.b[self.p]
        self.p += 1
        size, neg = h & 0x0F, bool(h & 0x80)
        v = int.from_bytes(self.b[self.p:self.p + size], "little")
        self.p += size
        return -v if neg else v

    def float(self) -> float:
        m = self.int()
        e = self.int()
        return float(m) * 2.0 ** e

    def string(self) -> str:
        n = self.int()
        s = self.b[self.p:self.p + n].decode("latin-1")
        self.p += n
        return s

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise ValueError(f"tensor serialisation version {version} at byte {self.p} (expected 2)")
        n, k, nr, nc = self.int(), self.int(), self.int(), self.int()
        count = n * k * nr * nc
        arr = np.frombuffer(self.b, dtype="<f4", count=count, offset=self.p).copy()
        self.p += 4 * count
        return arr.reshape(n, k, nr, nc)

    def alias(self):
        version = self.int()
        n, k, nr, nc = self.int(), self.int(), self.int(), self.int()
        return version, (n, k, nr, nc)


def read_layers(path: str) -> list[dict]:
    data = open(path, "rb").read()
    layers = []
    for m in re.finditer(rb"(con_[0-9]|affine_|fc_[0-9]|relu_|max_pool_[0-9]|avg_pool_[0-9]|add_prev_|input_rgb_image_sized)", data):
        # A tag is a dlib string: its length byte(s) come right before it.
        start = m.start()
        tag = m.group().decode()
        if data[start - 2] != 0x01 or data[start - 1] != len(tag):
            continue
        r = Reader(data, m.end())
        if tag.startswith("con_"):
            params = r.tensor().ravel()
            nf, nr, nc, sy, sx, py, px = (r.int() for _ in range(7))
            layers.append({"type": "con", "params": params, "filters": nf, "nr": nr, "nc": nc, "stride": (sy, sx), "padding": (py, px)})
        elif tag == "affine_":
            params = r.tensor().ravel()
            _, gshape = r.alias()
            layers.append({"type": "affine", "params": params, "channels": gshape[1]})
        elif tag.startswith("fc_"):
            nout = r.int()
            nin = r.int()
            params = r.tensor().ravel()  # [inputs][outputs] (dlib's fc is x @ W)
            layers.append({"type": "fc", "params": params, "outputs": nout, "inputs": nin})
        elif tag.startswith("max_pool_") or tag.startswith("avg_pool_"):
            nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
            layers.append({"type": tag[:8].rstrip("_"), "nr": nr, "nc": nc, "stride": (sy, sx), "padding": (py, px)})
        elif tag == "relu_":
            layers.append({"type": "relu"})
        elif tag == "add_prev_":
            layers.append({"type": "add_prev"})
        elif tag == "input_rgb_image_sized":
            layers.append({"type": "input", "mean": (r.float(), r.float(), r.float())})
    return layers


if __name__ == "__main__":
    import sys
    for i, l in enumerate(read_layers(sys.argv[1])):
        print(i, {k: (v.shape if isinstance(v, np.ndarray) else v) for k, v in l.items()})
