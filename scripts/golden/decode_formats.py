#!/usr/bin/env python3
"""Tiny images in the formats people upload, and what an independent decoder makes of them.

Writes test/fixtures/formats/* (16x12, written by Pillow, pillow-heif, tifffile or OpenCV-Python) and
test/golden/decode_formats.json: for each file, the pixels Pillow decodes (first frame / page),
converted to the layout iqa-node returns (OpenCV order: grey, BGR or BGRA, 8- or 16-bit).
Alpha is kept (BGRA); grey+alpha becomes BGRA with the grey replicated, as OpenCV does.
  /work/pyenv/bin/python scripts/golden/decode_formats.py
"""
import json
import os

import cv2
import numpy as np
import pillow_heif
import tifffile
from PIL import Image

pillow_heif.register_heif_opener()  # HEIC through pillow-heif's own libheif; AVIF is Pillow's

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
out_dir = os.path.join(root, 'test', 'fixtures', 'formats')
os.makedirs(out_dir, exist_ok=True)
W, H = 16, 12
yy, xx = np.mgrid[0:H, 0:W]
rgb = np.stack([(xx * 16) % 256, (yy * 21) % 256, ((xx + yy) * 9) % 256], axis=-1).astype(np.uint8)
alpha = ((xx * 13 + yy * 7) % 256).astype(np.uint8)
grey = ((xx * 15 + yy * 3) % 256).astype(np.uint8)
rgb16 = (rgb.astype(np.uint16) * 257 + (xx * 3)[..., None]).astype(np.uint16)
grey16 = (grey.astype(np.uint16) * 257 + yy * 5).astype(np.uint16)

files = {}


def pil_save(name, im, **kw):
    path = os.path.join(out_dir, name)
    im.save(path, **kw)
    files[name] = path


def cv_save(name, arr, params=()):
    path = os.path.join(out_dir, name)
    cv2.imwrite(path, arr, list(params))
    files[name] = path


rgba = Image.fromarray(np.dstack([rgb, alpha]), 'RGBA')
# PNG
pil_save('png-palette.png', Image.fromarray(rgb).quantize(16))
pal_t = Image.fromarray(rgb).quantize(16)
pil_save('png-palette-trns.png', pal_t, transparency=3)
for bits in (1, 2, 4):
    pil_save(f'png-grey{bits}.png', Image.fromarray(grey), bits=bits)
pil_save('png-grey8.png', Image.fromarray(grey))
pil_save('png-grey16.png', Image.fromarray(grey16))
pil_save('png-grey-alpha.png', Image.fromarray(np.dstack([grey, alpha]), 'LA'))
pil_save('png-rgb-trns.png', Image.fromarray(rgb), transparency=(16, 21, 9))
pil_save('png-rgba8.png', rgba)
cv_save('png-rgb16.png', cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
cv_save('png-rgba16.png', cv2.cvtColor(np.dstack([rgb16, alpha.astype(np.uint16) * 257]), cv2.COLOR_RGBA2BGRA))
# JPEG (lossy: the decoders may differ by the IDCT's rounding; the test states its tolerance)
pil_save('jpeg-grey.jpg', Image.fromarray(grey), quality=90)
pil_save('jpeg-420.jpg', Image.fromarray(rgb), quality=90, subsampling=2)
pil_save('jpeg-444-progressive.jpg', Image.fromarray(rgb), quality=90, subsampling=0, progressive=True)
pil_save('jpeg-cmyk.jpg', Image.fromarray(rgb).convert('CMYK'), quality=95)
# WebP
pil_save('webp-lossless.webp', Image.fromarray(rgb), lossless=True)
pil_save('webp-lossless-alpha.webp', rgba, lossless=True)
pil_save('webp-lossy.webp', Image.fromarray(rgb), quality=90)
frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
pil_save('webp-animated.webp', frames[0], save_all=True, append_images=frames[1:], lossless=True, duration=100)
# GIF
pil_save('gif-palette.gif', Image.fromarray(rgb).quantize(16))
pil_save('gif-animated.gif', frames[0].quantize(16), save_all=True, append_images=[f.quantize(16) for f in frames[1:]], duration=100)
# TIFF
pil_save('tiff-rgb8.tif', Image.fromarray(rgb))
pil_save('tiff-grey16.tif', Image.fromarray(grey16))
pil_save('tiff-multipage.tif', frames[0], save_all=True, append_images=frames[1:])
pil_save('tiff-rgba8.tif', rgba)
pil_save('tiff-lzw.tif', Image.fromarray(rgb), compression='tiff_lzw')
for name, arr in (('tiff-rgb8-tiled.tif', rgb), ('tiff-grey16-tiled.tif', grey16)):  # 16x16 tiles (tifffile)
    path = os.path.join(out_dir, name)
    tifffile.imwrite(path, arr, tile=(16, 16), photometric='rgb' if arr.ndim == 3 else 'minisblack', metadata=None)
    files[name] = path
# HEIC, AVIF (lossy: 4:4:4 at high quality, so the decoders differ only by rounding)
pil_save('heic-rgb.heic', Image.fromarray(rgb), quality=95, chroma=444)
pil_save('avif-rgb.avif', Image.fromarray(rgb), quality=95, subsampling='4:4:4')
pil_save('avif-alpha.avif', rgba, quality=95, subsampling='4:4:4')
# BMP
pil_save('bmp-rgb24.bmp', Image.fromarray(rgb))
pil_save('bmp-grey8.bmp', Image.fromarray(grey))


def expected(path):
    im = Image.open(path)
    im.seek(0)
    mode = im.mode
    if mode in ('P', 'PA'):
        im = im.convert('RGBA' if 'transparency' in im.info or mode == 'PA' else 'RGB')
    elif mode == 'CMYK':
        im = im.convert('RGB')
    elif mode == 'L' and 'transparency' in im.info and path.endswith('.png'):
        pass  # OpenCV ignores a grey tRNS: stays grey
    elif mode == 'RGB' and 'transparency' in im.info:
        im = im.convert('RGBA')
    elif mode == '1':
        im = im.convert('L')
    a = np.asarray(im)
    if im.mode in ('I;16', 'I;16B', 'I'):
        a = a.astype(np.uint16)
    if im.mode == 'LA':
        g, al = a[..., 0], a[..., 1]
        a = np.dstack([g, g, g, al])
    elif a.ndim == 3 and a.shape[2] == 3:
        a = a[..., ::-1]
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[..., [2, 1, 0, 3]]
    return a


golden = {}
for name, path in sorted(files.items()):
    if name.startswith('png-rgb16') or name.startswith('png-rgba16'):
        a = cv2.imread(path, cv2.IMREAD_UNCHANGED)  # Pillow has no 16-bit RGB(A) mode
        ref = 'opencv-python'
    else:
        a = expected(path)
        ref = 'pillow'
    a = np.ascontiguousarray(a)
    golden[name] = {
        'reference': ref,
        'width': int(a.shape[1]),
        'height': int(a.shape[0]),
        'channels': 1 if a.ndim == 2 else int(a.shape[2]),
        'bits': 16 if a.dtype == np.uint16 else 8,
        'data': [int(v) for v in a.reshape(-1)],
    }
with open(os.path.join(root, 'test', 'golden', 'decode_formats.json'), 'w') as f:
    json.dump({'pillow': Image.__version__, 'files': golden}, f, separators=(',', ':'))
    f.write('\n')
print(f'wrote {len(files)} fixtures and test/golden/decode_formats.json')
