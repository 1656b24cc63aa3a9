"""Reads and writes Caffe .caffemodel weights (a protobuf NetParameter) without Caffe or protoc:
a small reader of the protobuf wire format for the few fields weights live in, by their numbers in
Caffe's caffe.proto (BVLC/caffe, BSD-2):

  NetParameter       layer = 100 (LayerParameter), layers = 2 (V1LayerParameter, old models)
  LayerParameter     name = 1, type = 2 (string), blobs = 7
  V1LayerParameter   name = 4, blobs = 6
  BlobProto          shape = 7 (BlobShape: dim = 1, int64), data = 5 (float), double_data = 8,
                     num = 1, channels = 2, height = 3, width = 4 (legacy 4-D shape)

Hand-written because the protobuf runtime needs the schema compiled (protoc), which is not a
dependency here; everything else in the file is skipped by wire type.
"""
from __future__ import annotations

import struct

import numpy as np


def _varint(b: bytes, i: int):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ValueError('malformed varint')


def _fields(b: bytes):
    """(field number, wire type, value) for each field of a message; value is bytes for length-delimited."""
    i, n = 0, len(b)
    while i < n:
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            ln, i = _varint(b, i)
            if i + ln > n:
                raise ValueError('truncated message')
            v, i = b[i:i + ln], i + ln
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f'unsupported wire type {wt}')
        yield num, wt, v


def _blob(b: bytes) -> np.ndarray:
    dims, legacy, floats, doubles = [], {}, [], []
    for num, wt, v in _fields(b):
        if num == 7:  # BlobShape
            for n2, w2, v2 in _fields(v):
                if n2 == 1:
                    if w2 == 2:  # packed
                        j = 0
                        while j < len(v2):
                            d, j = _varint(v2, j)
                            dims.append(d)
                    else:
                        dims.append(v2)
        elif num == 5:
            floats.append(np.frombuffer(v, '<f4'))  # packed (wire type 2) or one value (wire type 5)
        elif num == 8:
            doubles.append(np.frombuffer(v, '<f8'))
        elif num in (1, 2, 3, 4) and wt == 0:
            legacy[num] = v
    data = np.concatenate(floats) if floats else (np.concatenate(doubles).astype(np.float32) if doubles else np.zeros(0, np.float32))
    if not dims and legacy:
        dims = [legacy.get(k, 1) for k in (1, 2, 3, 4)]
    if int(np.prod(dims)) != data.size:
        raise ValueError(f'blob of shape {dims} has {data.size} values')
    return data.reshape(dims)


def read_caffemodel(path: str) -> dict:
    """{layer name: [blobs]} for every layer that has blobs."""
    b = open(path, 'rb').read()
    out = {}
    for num, wt, v in _fields(b):
        if wt != 2 or num not in (100, 2):
            continue
        name, blobs = None, []
        for n2, w2, v2 in _fields(v):
            if n2 == (1 if num == 100 else 4) and w2 == 2:
                name = v2.decode('utf-8')
            elif n2 == (7 if num == 100 else 6) and w2 == 2:
                blobs.append(_blob(v2))
        if name is not None and blobs:
            out[name] = blobs
    if not out:
        raise ValueError(f'{path}: no layer with weights (not a .caffemodel?)')
    return out


def _enc_varint(x: int) -> bytes:
    out = bytearray()
    while True:
        c = x & 0x7F
        x >>= 7
        out.append(c | (0x80 if x else 0))
        if not x:
            return bytes(out)


def _ld(num: int, payload: bytes) -> bytes:
    return _enc_varint(num << 3 | 2) + _enc_varint(len(payload)) + payload


def write_caffemodel(path: str, layers: dict, types: dict | None = None) -> None:
    """Writes {layer name: [arrays]} as a NetParameter with new-style layers (for seeded test checkpoints)."""
    net = bytearray()
    for name, blobs in layers.items():
        layer = _ld(1, name.encode()) + _ld(2, (types or {}).get(name, 'Convolution').encode())
        for a in blobs:
            a = np.ascontiguousarray(a, dtype='<f4')
            shape = _ld(1, b''.join(_enc_varint(int(d)) for d in a.shape))
            layer += _ld(7, _ld(7, shape) + _ld(5, a.tobytes()))
        net += _ld(100, layer)
    with open(path, 'wb') as f:
        f.write(bytes(net))
