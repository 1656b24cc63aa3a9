#!/usr/bin/env python3
"""Goldens for DIQA as re-implemented by sandyz1000/deepinsight-iqa (test/zoo-diqa.test.ts).

The re-implementation's test-time procedure (deepinsight_iqa/diqa/utils.py image_preprocess, then
the subjective model), written here independently of the native code:
  grey = tf.image.rgb_to_grayscale(float image on 0..255)      (0.2989 R + 0.5870 G + 0.1140 B)
  low  = tf.nn.conv2d(grey, 16x16 Gaussian sigma 7/6, 'SAME')  (taps at k - 8, zero padding 7 / 8)
  low  = resize(resize(low, ceil(shape / 4), bicubic), shape, bicubic)   (tf.image.resize, TF 2)
  x    = grey - low  ->  the network (tools/export/diqa_model.py, PyTorch)  ->  score

Two modes:
  --mode tf    (a Python with TensorFlow): runs the real TF ops on the images, writes
               test/golden/diqa-highpass.json: TF's high-pass pixels of two fixture images and,
               per image, the largest |numpy reference - TF| (the check that the numpy version
               below is TF's procedure).
  --mode torch (/work/pyenv: numpy, scipy, Pillow, torch): the numpy reference preprocessing and
               the seeded fixture network, writes test/golden/diqa.json (scores of the fixture
               images and, with ../shared, of the 5 calibration images and the first 20 BIQ2021
               images by name of ../shared/data/biq2021/train-subset.csv).

  /work/pyenv/bin/python scripts/golden/diqa_golden.py --mode torch
"""
from __future__ import annotations

import argparse
import base64
import csv
import json
import math
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIXTURES = os.path.join(ROOT, 'test/fixtures/patch-images')
FIXTURE_IMAGES = ['colours.png', 'exact-96x64.png', 'smooth-97x75.png']
PIXEL_IMAGES = ['smooth-97x75.png', 'colours.png']
SHARED = os.path.join(ROOT, '..', 'shared')
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']
KSIZE, SIGMA, FACTOR = 16, 7 / 6, 4


def image_paths() -> dict:
    paths = {n: os.path.join(FIXTURES, n) for n in FIXTURE_IMAGES}
    cal = os.path.join(SHARED, 'data/calibration/dist_dir')
    if os.path.isdir(cal):
        paths.update({n: os.path.join(cal, f'{n}.bmp') for n in CALIBRATION})
    return paths


def biq2021_paths() -> dict:
    """The first 20 BIQ2021 images (sorted by name) of ../shared's train subset; {} without ../shared."""
    csv_path = os.path.join(SHARED, 'data/biq2021/train-subset.csv')
    if not os.path.isfile(csv_path):
        return {}
    with open(csv_path) as f:
        names = sorted(r['image'] for r in csv.DictReader(f))[:20]
    return {n: os.path.join(SHARED, 'data/biq2021/images', n) for n in names}


# --- numpy reference ------------------------------------------------------------------------

def gaussian_2d(ksize: int, sigma: float) -> np.ndarray:
    r = np.arange(ksize, dtype=np.float32) - np.float32(np.round(ksize / 2))  # numpy round: half to even, as tf.round
    x, y = np.meshgrid(r, r)
    k = np.exp(-(x ** 2 + y ** 2) / np.float32(2 * sigma ** 2)).astype(np.float32)
    return (k / k.sum()).astype(np.float32)


def conv_same(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """tf.nn.conv2d(padding='SAME'), one channel: cross-correlation, zero padding floor((k-1)/2) before."""
    from scipy.signal import correlate2d
    n = k.shape[0]
    before = (n - 1) // 2
    padded = np.pad(img.astype(np.float64), ((before, n - 1 - before), (before, n - 1 - before)))
    return correlate2d(padded, k.astype(np.float64), mode='valid').astype(np.float32)


def keys_matrix(n_in: int, n_out: int) -> np.ndarray:
    """TF 2 ResizeBicubic (half-pixel centres, Keys a = -0.5 tabulated at 1/1024, out-of-range taps
    dropped and the rest renormalised) as an n_out x n_in matrix."""
    a, table = -0.5, 1024
    def w(t):
        t = abs(t)
        return ((a + 2) * t - (a + 3)) * t * t + 1 if t <= 1 else ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    scale = np.float32(n_in) / np.float32(n_out)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    for o in range(n_out):
        f = np.float32((np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5))
        base = math.floor(f)
        delta = round(float(f - base) * table) / table  # the table's quantised distance
        taps = [(base - 1, w(1 + delta)), (base, w(delta)), (base + 1, w(1 - delta)), (base + 2, w(2 - delta))]
        kept = [(i, v) for i, v in taps if 0 <= i < n_in]
        s = sum(v for _, v in kept)
        for i, v in kept:
            m[o, i] += v / s
    return m


def bicubic(img: np.ndarray, h: int, w: int) -> np.ndarray:
    return (keys_matrix(img.shape[0], h) @ img.astype(np.float64) @ keys_matrix(img.shape[1], w).T).astype(np.float32)


def highpass_reference(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> H x W float32 high-pass image on the byte scale."""
    grey = np.tensordot(rgb.astype(np.float32), np.array([0.2989, 0.5870, 0.1140], dtype=np.float32), axes=([-1], [-1])).astype(np.float32)
    low = conv_same(grey, gaussian_2d(KSIZE, SIGMA))
    H, W = grey.shape
    small = (math.ceil(H * np.float32(1 / FACTOR)), math.ceil(W * np.float32(1 / FACTOR)))
    low = bicubic(bicubic(low, *small), H, W)
    return grey - low


def read_rgb_pil(path: str) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(path).convert('RGB'))


# --- modes ----------------------------------------------------------------------------------

def tf_mode():
    import tensorflow as tf
    out = {'tensorflow': tf.__version__, 'pixels': {}, 'numpyVsTf': {}}

    def tf_highpass(path):
        # The re-implementation's image_preprocess, with TF's own ops.
        img = tf.cast(tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False), tf.float32)
        grey = tf.image.rgb_to_grayscale(img)
        r = tf.range(KSIZE)
        x, y = tf.meshgrid(r, r)
        c = tf.cast(tf.round(KSIZE / 2), tf.float32)
        x, y = tf.cast(x, tf.float32) - c, tf.cast(y, tf.float32) - c
        k = 1 / (2 * math.pi * SIGMA ** 2) * tf.exp(-(x ** 2 + y ** 2) / (2 * SIGMA ** 2))
        k = k / tf.reduce_sum(k)
        low = tf.nn.conv2d(grey[tf.newaxis], k[:, :, tf.newaxis, tf.newaxis], strides=1, padding='SAME')
        shape = tf.shape(low)[1:3]
        small = tf.cast(tf.math.ceil(tf.cast(shape, tf.float32) * (1 / FACTOR)), tf.int32)
        low = tf.image.resize(low, size=small, method=tf.image.ResizeMethod.BICUBIC)
        low = tf.image.resize(low, size=shape, method=tf.image.ResizeMethod.BICUBIC)
        rgb = img.numpy().astype(np.uint8)
        return (grey[tf.newaxis] - low).numpy()[0, :, :, 0].astype(np.float32), rgb

    for name, path in image_paths().items():
        got, rgb = tf_highpass(path)
        ref = highpass_reference(rgb)
        out['numpyVsTf'][name] = float(np.max(np.abs(ref - got)))
        if name in PIXEL_IMAGES:
            out['pixels'][name] = {'width': got.shape[1], 'height': got.shape[0], 'float32Base64': base64.b64encode(got.tobytes()).decode()}
        print(f'{name}: max |numpy - TF| = {out["numpyVsTf"][name]:.3g} (byte scale; TF range {got.min():.1f}..{got.max():.1f})')
    path = os.path.join(ROOT, 'test/golden/diqa-highpass.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {path}')


def write_bad_rank_fixture():
    """test/fixtures/diqa-tiny/bad-rank3.onnx: input 'image' N x H x W (no channel axis) -> N x 1,
    for the ERR_MODEL check of a graph of the wrong rank."""
    import onnx
    from onnx import TensorProto, helper
    axes = helper.make_tensor('axes', TensorProto.INT64, [2], [1, 2])
    g = helper.make_graph([helper.make_node('ReduceMean', ['image', 'axes'], ['m'], keepdims=0),
                           helper.make_node('Unsqueeze', ['m', 'one'], ['score'])], 'bad_rank3',
                          [helper.make_tensor_value_info('image', TensorProto.FLOAT, ['n', 'h', 'w'])],
                          [helper.make_tensor_value_info('score', TensorProto.FLOAT, ['n', 1])],
                          [axes, helper.make_tensor('one', TensorProto.INT64, [1], [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 18)], ir_version=8)  # readable by older ORT builds
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(ROOT, 'test/fixtures/diqa-tiny/bad-rank3.onnx'))


def torch_mode(h5: str):
    write_bad_rank_fixture()
    import torch
    sys.path.insert(0, os.path.join(ROOT, 'tools/export'))
    from diqa_model import load_keras_weights
    net = load_keras_weights(h5)  # the fixture's seeded weights as the re-implementation's .h5
    scores = {'fixtures': {}, 'calibration': None, 'biq2021': None}

    def score(path):
        x = highpass_reference(read_rgb_pil(path))
        with torch.no_grad():
            return float(net(torch.from_numpy(x)[None, None]).item())

    for name, path in image_paths().items():
        s = score(path)
        if name in CALIBRATION:
            scores['calibration'] = scores['calibration'] or {}
            scores['calibration'][name] = s
        else:
            scores['fixtures'][name] = s
        print(f'{name}: {s:.6f}')
    biq = biq2021_paths()
    if biq:
        scores['biq2021'] = {}
        for name, path in biq.items():
            scores['biq2021'][name] = score(path)
            print(f'{name}: {scores["biq2021"][name]:.6f}')
    path = os.path.join(ROOT, 'test/golden/diqa.json')
    with open(path, 'w') as f:
        json.dump({'weights': os.path.relpath(h5, ROOT), 'seeded': scores}, f, indent=1)
        f.write('\n')
    print(f'wrote {path}')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mode', choices=['tf', 'torch'], required=True)
    ap.add_argument('--h5', default=os.path.join(ROOT, 'test/fixtures/diqa-tiny/diqa-tiny.h5'))
    a = ap.parse_args()
    tf_mode() if a.mode == 'tf' else torch_mode(a.h5)
