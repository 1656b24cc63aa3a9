#!/usr/bin/env python3
"""KonCept512 fixture and goldens from Keras itself (keras 3, torch backend): the authors' model
(Koncept512.create_model in the koncept package / the koncept512 notebook: InceptionResNetV2
include_top=False, GlobalAveragePooling2D 'final_gap', kutils fc_layers(name='fc', [2048, 1024, 256, 1],
dropout [0.25, 0.25, 0.5, 0], batch_norm=2)) with seeded weights, saved with Keras' legacy HDF5 writer
(the layout of koncep512-trained-model.h5), exported by tools/export/export_koncept512.py; the
goldens are Keras' predict on the authors' procedure: the image as RGB, resized to 512 x 384 (W x H)
with Pillow bilinear when it is not that size (the authors feed KonIQ's pre-resized 512 x 384 set;
their PyTorch port resizes with torchvision = Pillow bilinear), float32, preprocess_input (x / 127.5 - 1).
With ../shared, 'calibration' (I03 I04 I06 I08 I19) and 'biq2021' (the first 20 names, sorted, of
../shared/data/biq2021/train-subset.csv) are scored the same way.

  --config tiny (CI fixture): an InceptionResNetV2 written here in Keras with every width / 8 and one
      block of each kind (the same layer types, automatic names and block names as Keras'), into
      test/fixtures/koncept512-tiny (with the seeded weights file koncep512-seeded.h5), goldens on
      stdout (> test/golden/koncept512_tiny.json).
  --config full --out-dir DIR (opt-in, about 240 MB): keras.applications.InceptionResNetV2 itself;
      writes DIR/koncept512.json, DIR/koncept512.onnx and DIR/golden.json; then
      IQA_KONCEPT512_FULL=DIR npx vitest run test/zoo-koncept512.test.ts compares the pipeline.

  KERAS_BACKEND=torch /work/pyenv/bin/python scripts/golden/koncept512_keras.py > test/golden/koncept512_tiny.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault('KERAS_BACKEND', 'torch')
import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402
from shared_images import CALIBRATION_DIR, shared_sets  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
H, W = 384, 512


def conv2d_bn(x, filters, k, strides=1, padding='same', activation='relu', use_bias=False, name=None):
    x = layers.Conv2D(filters, k, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False, name=None if name is None else name + '_bn')(x)
    return layers.Activation(activation)(x) if activation else x


def residual(x, kind, idx, scale, div, activation='relu'):
    w = lambda c: max(1, c // div)  # noqa: E731
    if kind == 'block35':
        b = [conv2d_bn(x, w(32), 1), conv2d_bn(conv2d_bn(x, w(32), 1), w(32), 3), conv2d_bn(conv2d_bn(conv2d_bn(x, w(32), 1), w(48), 3), w(64), 3)]
    elif kind == 'block17':
        b = [conv2d_bn(x, w(192), 1), conv2d_bn(conv2d_bn(conv2d_bn(x, w(128), 1), w(160), (1, 7)), w(192), (7, 1))]
    else:
        b = [conv2d_bn(x, w(192), 1), conv2d_bn(conv2d_bn(conv2d_bn(x, w(192), 1), w(224), (1, 3)), w(256), (3, 1))]
    mixed = layers.Concatenate(axis=3, name=f'{kind}_{idx}_mixed')(b)
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f'{kind}_{idx}_conv')
    x = layers.Add()([x, layers.Rescaling(scale)(up)])
    return layers.Activation(activation, name=f'{kind}_{idx}_ac')(x) if activation else x


def narrow_irv2(inp, div=8, blocks=(1, 1, 2)):
    """InceptionResNetV2's layer sequence (keras.applications) with widths / div and fewer blocks."""
    w = lambda c: max(1, c // div)  # noqa: E731
    x = conv2d_bn(inp, w(32), 3, strides=2, padding='valid')
    x = conv2d_bn(x, w(32), 3, padding='valid')
    x = conv2d_bn(x, w(64), 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, w(80), 1, padding='valid')
    x = conv2d_bn(x, w(192), 3, padding='valid')
    x = layers.MaxPooling2D(3, strides=2)(x)
    b0 = conv2d_bn(x, w(96), 1)
    b1 = conv2d_bn(conv2d_bn(x, w(48), 1), w(64), 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, w(64), 1), w(96), 3), w(96), 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding='same')(x), w(64), 1)
    x = layers.Concatenate(axis=3, name='mixed_5b')([b0, b1, b2, bp])
    for i in range(1, blocks[0] + 1):
        x = residual(x, 'block35', i, 0.17, div)
    b0 = conv2d_bn(x, w(384), 3, strides=2, padding='valid')
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, w(256), 1), w(256), 3), w(384), 3, strides=2, padding='valid')
    x = layers.Concatenate(axis=3, name='mixed_6a')([b0, b1, layers.MaxPooling2D(3, strides=2, padding='valid')(x)])
    for i in range(1, blocks[1] + 1):
        x = residual(x, 'block17', i, 0.1, div)
    b0 = conv2d_bn(conv2d_bn(x, w(256), 1), w(384), 3, strides=2, padding='valid')
    b1 = conv2d_bn(conv2d_bn(x, w(256), 1), w(288), 3, strides=2, padding='valid')
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, w(256), 1), w(288), 3), w(320), 3, strides=2, padding='valid')
    x = layers.Concatenate(axis=3, name='mixed_7a')([b0, b1, b2, layers.MaxPooling2D(3, strides=2, padding='valid')(x)])
    for i in range(1, blocks[2]):
        x = residual(x, 'block8', i, 0.2, div)
    x = residual(x, 'block8', blocks[2], 1.0, div, activation=None)
    return conv2d_bn(x, w(1536), 1, name='conv_7b')


def fc_layers(x, name, sizes, dropout):
    """kutils applications.fc_layers with batch_norm=2: Dense(relu) -> BN -> Dropout, linear output."""
    for i, n in enumerate(sizes):
        last = i == len(sizes) - 1
        x = layers.Dense(n, activation='linear' if last else 'relu', name=f'{name}_{"out" if last else f"fc{i}"}', kernel_initializer='he_normal')(x)
        if not last:
            x = layers.BatchNormalization(name=f'{name}_bn{i}')(x)
        if dropout[i] > 0:
            x = layers.Dropout(dropout[i], name=f'{name}_do{i}')(x)
    return x


def model(config):
    keras.utils.set_random_seed(21)
    if config == 'full':
        base = keras.applications.InceptionResNetV2(weights=None, include_top=False, input_shape=(H, W, 3))
        inp, feats = base.input, base.layers[-1].output
        sizes = [2048, 1024, 256, 1]
    else:
        inp = keras.Input((H, W, 3))
        feats = narrow_irv2(inp)
        sizes = [32, 16, 8, 1]
    gap = layers.GlobalAveragePooling2D(name='final_gap')(feats)
    m = keras.Model(inp, fc_layers(gap, 'fc', sizes, [0.25, 0.25, 0.5, 0]))
    # He-initialised kernels and non-trivial BatchNorm statistics, so the score moves with the image.
    rng = np.random.default_rng(22)
    for layer in m.layers:
        ws = layer.get_weights()
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            k = ws[0]
            fan_in = int(np.prod(k.shape[:-1]))
            gain = 0.2 if layer.name.endswith('_conv') and layer.name.startswith('block') else 1.0  # up-projections: keep residual sums bounded
            ws[0] = rng.normal(0, gain * (2 / fan_in) ** 0.5, k.shape).astype('float32')
            if len(ws) > 1:
                ws[1] = rng.normal(0, 0.1, ws[1].shape).astype('float32')
            layer.set_weights(ws)
        elif isinstance(layer, layers.BatchNormalization):
            n = ws[-1].shape
            new = ([rng.uniform(0.5, 1.5, n)] if layer.scale else []) + [rng.normal(0, 0.1, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 1.5, n)]
            layer.set_weights([a.astype('float32') for a in new])
    k, b = m.layers[-1].get_weights()
    m.layers[-1].set_weights([k * 10, b + 50])  # around the KonIQ MOS scale
    return m


def load(path):
    im = Image.open(path).convert('RGB')
    if im.size != (W, H):
        im = im.resize((W, H), Image.BILINEAR)
    return keras.applications.inception_resnet_v2.preprocess_input(np.asarray(im, dtype='float32')[None])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', choices=['tiny', 'full'], default='tiny')
    ap.add_argument('--out-dir', help='default test/fixtures/koncept512-tiny for tiny; required for full')
    args = ap.parse_args()
    out_dir = args.out_dir or (os.path.join(ROOT, 'test', 'fixtures', 'koncept512-tiny') if args.config == 'tiny' else None)
    if not out_dir:
        sys.exit('--config full needs --out-dir DIR')
    name = 'koncept512-tiny' if args.config == 'tiny' else 'koncept512'
    m = model(args.config)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # The tiny weights file stays in the fixture: the import test reads it without Keras.
        h5 = os.path.join(out_dir if args.config == 'tiny' else tmp, 'koncep512-seeded.h5')
        with h5py.File(h5, 'w') as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, m)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_koncept512.py'), '--checkpoint', h5, '--config', args.config,
                        '--out-dir', out_dir, '--name', name], check=True, stdout=sys.stderr)
    files = [('fixture', f'img{i}.png', os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny', f'img{i}.png')) for i in range(3)]
    files += [('shared', f, os.path.join(CALIBRATION_DIR, f)) for f in sorted(os.listdir(CALIBRATION_DIR))] if os.path.isdir(CALIBRATION_DIR) else []
    out = {'generator': 'scripts/golden/koncept512_keras.py', 'config': args.config, 'keras': keras.__version__, 'backend': keras.backend.backend(), 'images': []}
    predict = lambda path: float(np.asarray(m.predict(load(path), verbose=0)).ravel()[0])  # noqa: E731
    for where, fname, path in files:
        score = predict(path)
        out['images'].append({'where': where, 'file': fname, 'score': score})
        print(f'{fname}: {score:.6f}', file=sys.stderr)
    for key, paths in shared_sets():
        out[key] = {}
        for fname, path in paths.items():
            out[key][fname] = {'score': predict(path)}
            print(f'{fname}: {out[key][fname]["score"]:.6f}', file=sys.stderr)
    if args.config == 'full':
        with open(os.path.join(out_dir, 'golden.json'), 'w') as f:
            json.dump(out, f, indent=1)
    else:
        json.dump(out, sys.stdout, indent=1)
        print()


if __name__ == '__main__':
    main()
