#!/usr/bin/env python3
"""PyTorch reference pipelines for bench/zoo-cpu.mjs, each the authors' test-time procedure run
eagerly image by image; prints one JSON line: images, seconds, images/s, peak RSS.

  cnniqa   scripts/golden/cnniqa_reference.py's procedure (PIL convert('L'), range(0, H-32, 32)
           patches, scipy 3x3 LCN per patch, the net on all patches of an image, mean)

  wadiqam  scripts/golden/wadiqam_reference.py's procedure (RGB 0..255, floor(H/32) x floor(W/32)
           patches, the net on all patches of an image, sum(q a) / sum(a)); seeded full-size weights
           or a Chainer HDF5 checkpoint

  wadiqam-fr  scripts/golden/wadiqam_fr_reference.py's procedure on REF:DIST pairs (the same
           floor grid on both, features of both, the FR head, sum(q a) / sum(a)); seeded full-size weights

  dbcnn    the authors' test procedure (PIL RGB, ToTensor, ImageNet Normalize, the whole image) with
           tools/export/dbcnn_model.py, seeded (export_dbcnn.py --weights random --seed 0)

  nima     idealo's procedure in Keras itself (keras 3, torch backend): load_img(target_size=(224, 224)),
           mobilenet.preprocess_input, predict, sum p_k k; the seeded model of scripts/golden/nima_keras.py
           at alpha 1 (its weights file, --checkpoint, is what ours is exported from)

  koniqplusplus  the authors' test_image.py --resize procedure (PIL RGB, torchvision resize to
           480 x 640, to_tensor, ImageNet normalize, one pass, q k + b) with
           tools/export/koniqplusplus_model.py (their Model_Joint layout), seeded full-size weights

  norm-in-norm  LinearityIQA's test_demo.py --resize procedure (PIL RGB, torchvision resize to 498 x 664,
           to_tensor, ImageNet normalize, one pass, s k + b) with tools/export/norm_in_norm_model.py
           (IQAModel layout, ResNeXt-101 32x8d), seeded full-size weights

  koncept512  the authors' model in Keras itself (keras 3, torch backend; scripts/golden/koncept512_keras.py
           --config full: keras.applications.InceptionResNetV2 + the kutils head, seeded): PIL RGB,
           512 x 384 bilinear, preprocess_input, predict; writes its weights file (--checkpoint),
           which ours is exported from

  deepbiq  test.py's procedure (one 224 crop at iqa-node's seeded position, ToTensor, ImageNet
           normalize, AlexNet fc7, scikit-learn StandardScaler + SVR predict) with
           tools/export/export_deepbiq.py's AlexNetFc7 (seeded full size) and an SVR fitted here on
           seeded features; writes svr_mode.pkl / svr_process.pkl (--checkpoint DIR/svr_mode.pkl)

  wadiqam-nr-pyiqa, wadiqam-fr-pyiqa  pyiqa's own WaDIQaM module (pyiqa/archs/wadiqam_arch.py) as pyiqa
           runs it (PIL RGB, to_tensor, its forward(): range(0, L - 32, 32) patches, eps 1e-8; FR
           forward(dist, ref)), seeded full size by scripts/golden/wadiqam_pyiqa_golden.py; writes
           its {'params': state_dict} checkpoint (--checkpoint FILE), which ours is exported from

  nima-vgg16-ava-pyiqa, nima-koniq-pyiqa  pyiqa's own NIMA through pyiqa.create_metric('nima-vgg16-ava' /
           'nima-koniq') as pyiqa runs it on a file path (PIL RGB, to_tensor, shorter side resized to 224 /
           299, centre crop, timm mean/std, timm VGG16 / InceptionResNetV2, head), on the seeded
           {'params': state_dict} checkpoint of scripts/golden/nima_pyiqa.py, which it writes
           (--checkpoint FILE) and ours is exported from (export_nima.py --weights pyiqa)

  deepbiq-features5  deepbiq with five crops at iqa-node's seeded positions, their fc7 vectors
           averaged, then StandardScaler + SVR predict once (the same seeded net and SVR as deepbiq)

  tres     the authors' KonIQ test procedure (PIL RGB, torchvision Resize((512, 384)), 50 random 224 crops at
           iqa-node's seeded positions (scripts/golden/crop_pipelines.py), ToTensor, ImageNet normalize, the
           prediction branch on the 50 crops of an image in one batch, mean) with tools/export/tres_model.py
           at full size, loaded from the state dict export_tres.py saved (--checkpoint FILE)

  graphiqa  the authors' evaluate() procedure (geekyutao/GraphIQA utils/dgreg_utils.py): KonIQ's
           Resize([512, 384]) (PIL bilinear), 25 224 crops at iqa-node's seeded positions, ToTensor,
           ImageNet normalize, one crop per forward (test batch size 1), mean of the latent means;
           tools/export/graphiqa_model.py with seeded full-size weights (randomize(seed))

  musiq    the official run_predict_image.py procedure as scripts/golden/musiq_reference.py has it
           (Pillow decode, longer sides 224 and 384, all native patches, no bucketing) with
           tools/export/musiq_model.py in float32, seeded full-size weights; the scales resized with
           Pillow bicubic on both sides (the TF Gaussian reference needs tensorflow)

  diqa     deepinsight-iqa's image_preprocess as scripts/golden/diqa_golden.py restates it in numpy/scipy
           (TF rgb_to_grayscale weights, 16x16 Gaussian conv2d SAME, TF bicubic down 1/4 and up; checked
           against TensorFlow 2.21 by that script) on Pillow RGB, then tools/export/diqa_model.py on the
           whole image; seeded full-size weights from the .h5 export_diqa.py writes (--checkpoint FILE)

  rankiqa  the authors' FT_eval procedure (cv2.imread BGR, raw 0-255, no mean; 30 random 224 crops, here at
           iqa-node's seeded positions, x then y from splitmix64(0); the net on the 30 crops in one batch,
           mean of fc8) with tools/export/export_rankiqa.py's RankVGG (Caffe VGG-16 at full size), loaded
           from the seeded .caffemodel the export saved (--checkpoint FILE)

  python bench/zoo_torch.py --model NAME (--checkpoint FILE | --seed 0) --threads 2 IMAGE|REF:DIST...
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'scripts', 'golden'))
import cnniqa_reference  # noqa: E402  (also puts tools/export on the path)
import wadiqam_reference  # noqa: E402
import wadiqam_fr_reference  # noqa: E402
import wadiqam_model  # noqa: E402
from export_cnniqa import CNNIQA, seeded_model  # noqa: E402


def cnniqa(a):
    if a.checkpoint:
        net = CNNIQA()
        net.load_state_dict(torch.load(a.checkpoint, map_location='cpu', weights_only=True))
    else:
        net = seeded_model(a.seed)
    net.eval()

    def score(path):
        with torch.no_grad():
            return float(net(torch.from_numpy(cnniqa_reference.patches(path))).mean())
    return score


def deepiqa_net(a, cls, seeded):
    """A weighted deepIQA net: the Chainer HDF5 --checkpoint, else seeded full-size weights."""
    if a.checkpoint:
        net = cls(True)
        wadiqam_model.load_chainer_hdf5(net, a.checkpoint)
    else:
        net = seeded(a.seed, True)
    return net.eval()


def wadiqam(a):
    net = deepiqa_net(a, wadiqam_model.WaDIQaMNR, wadiqam_model.seeded_model)
    return lambda path: wadiqam_reference.score(net, path)['score']


def wadiqam_fr(a):
    net = deepiqa_net(a, wadiqam_model.WaDIQaMFR, wadiqam_model.seeded_fr_model)
    return lambda pair: wadiqam_fr_reference.score(net, *pair.split(':'))['score']


def dbcnn(a):
    import export_dbcnn
    from PIL import Image
    from torchvision import transforms
    args = argparse.Namespace(seed=a.seed, config='full', checkpoint=None, scnn=None)
    net = export_dbcnn.build(args)[1]
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])

    def score(path):
        with torch.no_grad():
            return float(net(t(Image.open(path).convert('RGB'))[None])[0, 0])
    return score


def nima(a):
    os.environ.setdefault('KERAS_BACKEND', 'torch')
    import keras
    import numpy as np
    import nima_keras
    nima_keras.ALPHA = 1.0
    m = nima_keras.model()
    if a.checkpoint:
        import h5py
        from keras.src.legacy.saving import legacy_h5_format
        with h5py.File(a.checkpoint, 'w') as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, m)

    def score(path):
        x = np.asarray(keras.utils.load_img(path, target_size=(224, 224)), dtype='float32')[None]
        p = np.asarray(m.predict(keras.applications.mobilenet.preprocess_input(x), verbose=0))[0].astype(np.float64)
        return float((p / p.sum() * np.arange(1, 11)).sum())
    return score


def koniqplusplus(a):
    from PIL import Image
    from torchvision.transforms.functional import normalize, resize, to_tensor
    from koniqplusplus_model import FULL, seeded
    net, k, b = seeded(FULL, a.seed)

    def score(path):
        im = resize(Image.open(path).convert('RGB'), (480, 640))
        x = normalize(to_tensor(im), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)
        with torch.no_grad():
            return float(net(x)[0][0, 0]) * k + b
    return score


def musiq(a):
    import musiq_reference
    from musiq_model import FULL, seeded
    net = seeded(FULL, a.seed)

    def score(path):
        p, pos, sc, mask = (torch.from_numpy(v)[None] for v in musiq_reference.tokens(path, resize='pil-bicubic'))
        with torch.no_grad():
            return float(net(p, pos.long(), sc.long(), mask)[0, 0])
    return score


def norm_in_norm(a):
    from PIL import Image
    from torchvision.transforms.functional import normalize, resize, to_tensor
    from norm_in_norm_model import FULL, seeded
    net, k, b = seeded(FULL, a.seed)

    def score(path):
        im = resize(Image.open(path).convert('RGB'), (498, 664))
        x = normalize(to_tensor(im), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).unsqueeze(0)
        with torch.no_grad():
            return float(net(x)[0, 0]) * k + b
    return score


def koncept512(a):
    os.environ.setdefault('KERAS_BACKEND', 'torch')
    import h5py
    import numpy as np
    import koncept512_keras
    from keras.src.legacy.saving import legacy_h5_format
    m = koncept512_keras.model('full')
    if a.checkpoint:
        with h5py.File(a.checkpoint, 'w') as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, m)

    def score(path):
        return float(np.asarray(m.predict(koncept512_keras.load(path), verbose=0)).ravel()[0])
    return score


def wadiqam_pyiqa(kind):
    def build(a):
        import wadiqam_pyiqa_golden as g
        m = g.seeded(kind, a.seed, 1)
        if a.checkpoint:
            torch.save({'params': m.state_dict()}, a.checkpoint)

        def score(item):
            with torch.no_grad():
                if kind == 'FR':
                    ref, dist = item.split(':')
                    return float(m(g.tensor(dist), g.tensor(ref)).reshape(-1)[0])
                return float(m(g.tensor(item)).reshape(-1)[0])
        return score
    return build


def nima_pyiqa(metric):
    # pyiqa's own create_metric on a seeded checkpoint from scripts/golden/nima_pyiqa.py (loaded by its
    # file: tools/export, also on the path, has a module of the same name).
    def build(a):
        import importlib.util
        spec = importlib.util.spec_from_file_location('nima_pyiqa_golden', os.path.join(HERE, '..', 'scripts', 'golden', 'nima_pyiqa.py'))
        g = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(g)
        g.offline_timm()
        import pyiqa
        g.seeded_checkpoint(metric, a.checkpoint)
        m = pyiqa.create_metric(metric, device='cpu', pretrained_model_path=a.checkpoint)

        def score(path):
            with torch.no_grad():
                return float(m(path).reshape(-1)[0])
        return score
    return build


def deepbiq(a, crops=1):
    import joblib
    import numpy as np
    from PIL import Image
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR
    from export_deepbiq import FULL, seeded
    from deepbiq_golden import crop_tensor, crops_tensor
    net = seeded(FULL, a.seed)
    rng = np.random.default_rng(a.seed)
    train = torch.stack([crop_tensor(Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).resize((256, 256), Image.BILINEAR), i) for i in range(200)])
    with torch.no_grad():
        feats = net(train).numpy().astype(np.float64)
    scaler = StandardScaler().fit(feats)
    svr = SVR(C=20.0, epsilon=0.5).fit(scaler.transform(feats), rng.uniform(10, 90, len(feats)))
    if a.checkpoint:
        joblib.dump(svr, a.checkpoint)
        joblib.dump(scaler, os.path.join(os.path.dirname(a.checkpoint), 'svr_process.pkl'))

    def score(path):
        with torch.no_grad():
            img = Image.open(path).convert('RGB')
            x = crop_tensor(img)[None] if crops == 1 else crops_tensor(img, crops)
            f = net(x).numpy().astype(np.float64).mean(0, keepdims=True)  # crops > 1: features averaged
        return float(svr.predict(scaler.transform(f))[0])
    return score


def tres(a):
    from crop_pipelines import authors_crops
    from tres_model import FULL, TReS
    net = TReS(FULL)
    net.load_state_dict(torch.load(a.checkpoint))
    net.eval()

    def score(path):
        with torch.no_grad():
            return float(net(authors_crops(path, 50)[0])[:, 0].double().mean())
    return score


def graphiqa(a):
    from crop_pipelines import authors_crops
    from graphiqa_model import FULL, GraphIQA, randomize
    net = randomize(GraphIQA(FULL), a.seed)

    def score(path):
        crops = authors_crops(path, 25)[0]
        with torch.no_grad():
            return sum(float(net(c[None])[0][0]) for c in crops) / len(crops)
    return score


def diqa(a):
    from diqa_golden import highpass_reference, read_rgb_pil
    from diqa_model import load_keras_weights
    net = load_keras_weights(a.checkpoint)

    def score(path):
        x = torch.from_numpy(highpass_reference(read_rgb_pil(path)))[None, None]
        with torch.no_grad():
            return float(net(x)[0, 0])
    return score


def rankiqa(a):
    import cv2
    from caffe_model import read_caffemodel
    from export_rankiqa import FULL, RankVGG
    from make_hyperiqa_fixture import crop_positions
    net = RankVGG(FULL).eval()
    net.load_caffe(read_caffemodel(a.checkpoint))

    def score(path):
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        crops = [torch.from_numpy(img[y:y + 224, x:x + 224].astype('float32')).permute(2, 0, 1) for x, y in crop_positions(w, h, 224, 224, 30, 0)]
        with torch.no_grad():
            return float(net(torch.stack(crops)).double().mean())
    return score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=['cnniqa', 'wadiqam', 'wadiqam-fr', 'dbcnn', 'nima', 'koniqplusplus', 'norm-in-norm', 'koncept512', 'deepbiq',
                                        'wadiqam-nr-pyiqa', 'wadiqam-fr-pyiqa', 'deepbiq-features5', 'tres', 'graphiqa', 'musiq', 'diqa', 'rankiqa',
                                        'nima-vgg16-ava-pyiqa', 'nima-koniq-pyiqa'], required=True)
    ap.add_argument('--checkpoint')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('images', nargs='+')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    score = {'cnniqa': cnniqa, 'wadiqam': wadiqam, 'wadiqam-fr': wadiqam_fr, 'dbcnn': dbcnn, 'nima': nima, 'koniqplusplus': koniqplusplus,
             'norm-in-norm': norm_in_norm, 'koncept512': koncept512, 'deepbiq': deepbiq,
             'wadiqam-nr-pyiqa': wadiqam_pyiqa('NR'), 'wadiqam-fr-pyiqa': wadiqam_pyiqa('FR'),
             'deepbiq-features5': lambda a: deepbiq(a, 5), 'tres': tres, 'graphiqa': graphiqa, 'musiq': musiq, 'diqa': diqa, 'rankiqa': rankiqa,
             'nima-vgg16-ava-pyiqa': nima_pyiqa('nima-vgg16-ava'), 'nima-koniq-pyiqa': nima_pyiqa('nima-koniq')}[a.model](a)
    for p in a.images[:a.warmup]:
        score(p)
    t = time.perf_counter()
    scores = [score(p) for p in a.images]
    s = time.perf_counter() - t
    print(json.dumps({'images': len(scores), 'seconds': s, 'imagesPerSecond': len(scores) / s, 'threads': torch.get_num_threads(),
                      'maxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'scores': scores}))


if __name__ == '__main__':
    main()
