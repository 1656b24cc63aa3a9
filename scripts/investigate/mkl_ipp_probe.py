#!/usr/bin/env python3
"""Where matlab_filter_residues.py's constants come from (investigation only, not a project dependency):
  1. the separable factors MATLAB's imfilter/filter2 derive with svd() from
     fspecial('gaussian',7,7/6)/sum(sum(.)), computed with oneMKL's LAPACKE_dgesdd/dgesvd
     (MATLAB links MKL); MKL_CBWR picks the code branch (run once per value);
  2. the order in which IPP's ippiFilter_64f_C1R accumulates a 7-tap kernel: it is compared, on
     constant images, with every sequential order of the taps, with and without FMA.
Needs `pip install mkl ipp` (PyPI) into the Python that runs it (or MKL_RT=path/to/libmkl_rt.so.N
of another mkl wheel's lib folder); IPP's dispatcher wants its libraries as libipp*.so.12.1, so pass
a folder of such links in IPP_LIB when the wheel only has *.so.12.
Measured here: mkl 2018.0.3, 2019.0, 2021.1.1, 2021.4.0, 2022.2.1, 2023.2.0 and 2024.2.2 return the
same bits with MKL_CBWR=COMPATIBLE and gesdd (the FACTORS of matlab_filter_residues.py); mkl
2026.2 returns others (hcol(1) 1.3e-16 larger), and so do the AUTO/AVX2/AVX512 branches. IPP
2026.1 (AVX-512 dispatch): an FMA chain over the kernel taps from the last to the first, i.e.
for MATLAB's correlation (kernel rotated before the call) over hrow(1..7) in order.
Run: MKL_CBWR=COMPATIBLE MKL_THREADING_LAYER=SEQUENTIAL IPP_LIB=/tmp/ipplib \\
     LD_LIBRARY_PATH=/tmp/ipplib:$VENV/lib python scripts/investigate/mkl_ipp_probe.py"""
import ctypes
import itertools
import math
import os
import sys
from fractions import Fraction

import numpy as np

LIB = os.path.join(sys.prefix, 'lib')


def window():
    """fspecial('gaussian', 7, 7/6) then computefeature.m's window/sum(sum(window)), with MATLAB's summation orders."""
    x, y = np.meshgrid(np.arange(-3, 4), np.arange(-3, 4))
    std = 7 / 6
    h = np.exp(-(x * x + y * y) / (2 * std * std))
    s = 0.0
    for v in h.ravel(order='F'):  # sum(h(:)): column-major, sequential
        s += v
    h = h / s
    t = 0.0
    for j in range(7):  # sum(sum(h)): column sums, then their sum
        c = 0.0
        for v in h[:, j]:
            c += v
        t += c
    return h / t


def mkl_factors(driver):
    mkl = ctypes.CDLL(os.environ.get('MKL_RT', os.path.join(LIB, 'libmkl_rt.so.3')))
    P = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    a = np.asfortranarray(window())
    s, u, vt = np.zeros(7), np.zeros((7, 7), order='F'), np.zeros((7, 7), order='F')
    if driver == 'gesdd':
        rc = mkl.LAPACKE_dgesdd(102, ctypes.c_char(b'A'), 7, 7, P(a), 7, P(s), P(u), 7, P(vt), 7)
    else:
        rc = mkl.LAPACKE_dgesvd(102, ctypes.c_char(b'A'), ctypes.c_char(b'A'), 7, 7, P(a), 7, P(s), P(u), 7, P(vt), 7, P(np.zeros(7)))
    assert rc == 0
    r = math.sqrt(s[0])
    return [float(v) for v in vt[0, :] * r], [float(v) for v in u[:, 0] * r]  # hrow, hcol


def ipp_flat(kernel, values):
    """ippiFilter_64f_C1R with a 1x7 kernel on constant 12x12 images: one output per value."""
    ipp = ctypes.CDLL(os.path.join(os.environ.get('IPP_LIB', LIB), 'libippi.so.12'))
    ctypes.CDLL(os.path.join(os.environ.get('IPP_LIB', LIB), 'libippcore.so.12')).ippInit()

    class Size(ctypes.Structure):
        _fields_ = [('w', ctypes.c_int), ('h', ctypes.c_int)]

    class Point(ctypes.Structure):
        _fields_ = [('x', ctypes.c_int), ('y', ctypes.c_int)]
    k = np.array(kernel)
    n = ctypes.c_int(0)
    ipp.ippiFilterGetBufSize_64f_C1R(Size(7, 1), 6, ctypes.byref(n))
    buf = (ctypes.c_uint8 * max(n.value, 16))()
    out = []
    for c in values:
        src, dst = np.full((12, 12), c), np.zeros((12, 6))
        st = ipp.ippiFilter_64f_C1R(ctypes.c_void_p(src.ctypes.data + 3 * 8), 96, dst.ctypes.data_as(ctypes.c_void_p), 48,
                                    Size(6, 12), k.ctypes.data_as(ctypes.c_void_p), Size(7, 1), Point(3, 0), buf)
        assert st == 0 and len(set(dst.ravel().tolist())) == 1
        out.append(dst[0, 0])
    return out


def main():
    print('MKL_CBWR', os.environ.get('MKL_CBWR', 'AUTO'))
    for d in ('gesdd', 'gesvd'):
        hrow, hcol = mkl_factors(d)
        print(d, 'hrow', hrow, '\n      hcol', hcol)
    hrow, _ = mkl_factors('gesdd')
    rng = np.random.default_rng(1)
    values = [float(v) for v in np.concatenate([np.arange(1, 256), rng.uniform(0, 255, 200)])]
    got = ipp_flat(hrow, values)
    def chain(perm, fma, c):
        s = hrow[perm[0]] * c
        for k in perm[1:]:
            s = float(Fraction(hrow[k]) * Fraction(c) + Fraction(s)) if fma else s + hrow[k] * c
        return s
    for perm in itertools.permutations(range(7)):
        for fma in (False, True):
            if all(chain(perm, fma, c) == g for c, g in zip(values, got)):  # stops at the first mismatch
                print('IPP matches kernel taps in order', perm, 'FMA' if fma else 'no FMA')


if __name__ == '__main__':
    main()
