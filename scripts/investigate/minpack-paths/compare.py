#!/usr/bin/env python3
"""Best-of-starts SSE of scipy's curve_fit and of cminpack's lmdif (lmdif_fits.c) per golden fit.
Usage: compare.py PATH_TO_lmdif_fits   (see README.md)"""
import json
import os
import subprocess
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'golden'))
import metrics_golden as g  # noqa: E402  (the golden script's models and starts)

cases = json.load(open(os.path.join(HERE, '..', '..', '..', 'test', 'golden', 'metrics.json')))['cases']
fits, blocks = [], []
for c in cases:
    for model in ('logistic5', 'logistic4'):
        if not c[model]['ok']:
            continue
        x, y = np.array(c['x']), np.array(c['y'])
        starts = g.starts(model, x, y)
        params = 5 if model == 'logistic5' else 4
        blocks.append(f'{len(x)} {params} {len(starts)}\n' + ' '.join(repr(float(v)) for v in x) + '\n' + ' '.join(repr(float(v)) for v in y) + '\n'
                      + '\n'.join(' '.join(repr(float(v)) for v in s) for s in starts))
        fits.append((c, model, len(starts)))
lines = iter(subprocess.run([sys.argv[1]], input='\n'.join(blocks) + '\n', capture_output=True, text=True, check=True).stdout.splitlines())
differ = 0
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    for c, model, n in fits:
        scipy_fit = g.fit(model, np.array(c['x']), np.array(c['y']))  # curve_fit, best of the same starts
        sses = [float(f[2]) for f in (next(lines).split() for _ in range(n)) if f[2] != 'fail']
        ours = min(sses) if sses else None
        ref = scipy_fit.get('sse')
        same = ours is not None and ref is not None and abs(ours - ref) <= 1e-8 * ref + 1e-12
        if not same:
            differ += 1
            print(f"{c['name']:28s} {model}  cminpack {ours}  scipy {ref}  scipy wellPosed {scipy_fit.get('wellPosed')}")
print(f'{differ} of {len(fits)} fits differ by more than 1e-8 (relative SSE)')
