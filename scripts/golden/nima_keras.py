#!/usr/bin/env python3
"""NIMA test fixture and golden from Keras itself (keras 3, torch backend): idealo's model
(keras.applications.MobileNet(alpha, include_top=False, pooling='avg', weights=None), Dropout, Dense(10,
softmax)) with seeded weights, saved with Keras' legacy HDF5 writer (the save_weights layout idealo's
files have), exported by tools/export/export_nima.py into test/fixtures/nima-tiny; the golden scores
come from Keras' predict on idealo's loading (keras.utils.load_img(target_size=(224, 224)), a Pillow
NEAREST resize, then mobilenet.preprocess_input) and idealo's calc_mean_score (sum p_k k). With
../shared, 'calibration' (the five calibration images I03 I04 I06 I08 I19) and 'biq2021' (the first
20 names, sorted, of ../shared/data/biq2021/train-subset.csv) are scored the same way.

  KERAS_BACKEND=torch /work/pyenv/bin/python scripts/golden/nima_keras.py > test/golden/nima_tiny.json
"""
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault('KERAS_BACKEND', 'torch')
import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402
from shared_images import CALIBRATION_DIR, shared_sets  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, 'test', 'fixtures', 'nima-tiny')
ALPHA = 0.25


def model():
    keras.utils.set_random_seed(11)
    base = keras.applications.MobileNet(input_shape=(224, 224, 3), alpha=ALPHA, weights=None, include_top=False, pooling='avg')
    x = keras.layers.Dropout(0.75)(base.output)
    x = keras.layers.Dense(10, activation='softmax')(x)
    m = keras.Model(base.inputs, x)
    # Non-trivial BatchNorm statistics and a sharper classifier, so the scores move with the image.
    rng = np.random.default_rng(12)
    for layer in m.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            (k,) = layer.get_weights()
            fan_in = k.shape[0] * k.shape[1] * (1 if isinstance(layer, keras.layers.DepthwiseConv2D) else k.shape[2])
            layer.set_weights([rng.normal(0, (2 / fan_in) ** 0.5, k.shape).astype('float32')])  # He: activations keep their scale
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, mu, var = layer.get_weights()
            layer.set_weights([g, rng.normal(0, 0.1, b.shape).astype('float32'), rng.normal(0, 0.1, mu.shape).astype('float32'), rng.uniform(0.5, 1.5, var.shape).astype('float32')])
    k, b = m.layers[-1].get_weights()
    m.layers[-1].set_weights([k * 8, b])
    return m


def main():
    m = model()
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        h5 = os.path.join(tmp, 'weights_mobilenet_seeded.hdf5')
        with h5py.File(h5, 'w') as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, m)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools/export/export_nima.py'), '--checkpoint', h5, '--alpha', str(ALPHA),
                        '--out-dir', FIX, '--name', 'nima-tiny'], check=True, stdout=subprocess.DEVNULL)
    files = [('fixture', f'img{i}.png', os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny', f'img{i}.png')) for i in range(3)]
    files += [('shared', f, os.path.join(CALIBRATION_DIR, f)) for f in ['I03.bmp', 'I19.bmp'] if os.path.exists(os.path.join(CALIBRATION_DIR, f))]
    out = {'generator': 'scripts/golden/nima_keras.py', 'keras': keras.__version__, 'backend': keras.backend.backend(), 'images': []}

    def predict(path):
        x = np.asarray(keras.utils.load_img(path, target_size=(224, 224)), dtype='float32')[None]
        p = np.asarray(m.predict(keras.applications.mobilenet.preprocess_input(x), verbose=0))[0].astype(np.float64)
        p = p / p.sum()
        return {'distribution': p.tolist(), 'score': float((p * np.arange(1, 11)).sum())}

    for where, name, path in files:
        out['images'].append({'where': where, 'file': name, **predict(path)})
        print(f'{name}: {out["images"][-1]["score"]:.6f}', file=sys.stderr)
    for key, paths in shared_sets():
        out[key] = {}
        for name, path in paths.items():
            out[key][name] = predict(path)
            print(f'{name}: {out[key][name]["score"]:.6f}', file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
