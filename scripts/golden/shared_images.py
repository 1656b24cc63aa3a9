"""The shared-image sets of the zoo goldens, in one place: the five calibration images (I03 I04 I06
I08 I19, dist_dir BMPs, keyed by name without extension) and the first 20 BIQ2021 images (sorted
names of ../shared/data/biq2021/train-subset.csv, keyed by file name), the two sets test/helpers.ts
worstSharedDelta / expectSharedParity read. Without ../shared both are empty.
"""
import csv
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.join(os.path.dirname(ROOT), 'shared', 'data')
CALIBRATION_DIR = os.path.join(SHARED_DATA, 'calibration', 'dist_dir')
BIQ2021 = os.path.join(SHARED_DATA, 'biq2021')
CALIBRATION = ['I03', 'I04', 'I06', 'I08', 'I19']


def calibration_paths() -> dict:
    """{name: path} of the five calibration images; {} without ../shared."""
    if not os.path.isdir(CALIBRATION_DIR):
        return {}
    return {n: os.path.join(CALIBRATION_DIR, f'{n}.bmp') for n in CALIBRATION}


def biq2021_paths(count: int = 20) -> dict:
    """{file name: path} of the first `count` BIQ2021 train-subset images by sorted name; {} without ../shared."""
    csv_path = os.path.join(BIQ2021, 'train-subset.csv')
    if not os.path.isfile(csv_path):
        return {}
    with open(csv_path) as f:
        names = sorted(r['image'] for r in csv.DictReader(f))[:count]
    return {n: os.path.join(BIQ2021, 'images', n) for n in names}


def shared_sets() -> list:
    """[('calibration', {name: path}), ('biq2021', {name: path})], or [] without ../shared."""
    cal, biq = calibration_paths(), biq2021_paths()
    return [('calibration', cal), ('biq2021', biq)] if cal and biq else []
