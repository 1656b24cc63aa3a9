#!/usr/bin/env python3
"""Golden values for lib/metrics: scipy's pearsonr, spearmanr, kendalltau (tau-b) and curve_fit
of the VQEG logistic mappings, on >= 30 cases (ties, constant vectors, n=2, n=10,000, ...).

Run: /work/pyenv/bin/python scripts/golden/metrics_golden.py  (writes test/golden/metrics.json)

The fits use curve_fit (MINPACK lmdif) on the raw data, from the starting points documented
in lib/metrics/logistic.ts (defined there on standardised data; converted to raw parameters
here), with tolerances tightened so that the reference is the minimum itself; the best
converged start wins, as in the TypeScript fit.
"""
import json
import os
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.optimize import curve_fit

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'golden', 'metrics.json')


def logistic5(x, b1, b2, b3, b4, b5):
    return b1 * (0.5 - 1.0 / (1.0 + np.exp(b2 * (x - b3)))) + b4 * x + b5


def logistic4(x, b1, b2, b3, b4):
    return (b1 - b2) / (1.0 + np.exp(-(x - b3) / b4)) + b2


def starts(model, x, y):
    """Starting points: standardised definitions (see logistic.ts), returned as raw parameters."""
    mx, sx = x.mean(), x.std()
    my, sy = y.mean(), y.std()
    xs, ys = (x - mx) / sx, (y - my) / sy
    r = float(np.mean(xs * ys))
    sign = -1.0 if r < 0 else 1.0
    hi, lo = ys.max(), ys.min()
    std = []
    for slope in (0.5, 1, 2, 4):
        for centre in (0, -1, 1):
            std.append([sign * (hi - lo), slope, centre, 0, 0] if model == 'logistic5' else [hi, lo, centre, sign / slope])
    std.append([sign * 0.1, 1, 0, r, 0] if model == 'logistic5' else [hi if sign > 0 else lo, lo if sign > 0 else hi, 0, 0.5])
    if model == 'logistic5':
        return [[sy * c[0], c[1] / sx, mx + sx * c[2], sy * c[3] / sx, my + sy * c[4] - sy * c[3] / sx * mx] for c in std]
    return [[my + sy * c[0], my + sy * c[1], mx + sx * c[2], sx * c[3]] for c in std]


def step_limit(model, x, y):
    """The best step limit of the model (its slope taken to infinity), by brute force: for every gap
    between neighbouring distinct x, numpy's lstsq of y on [1, above-gap indicator] (logistic4) or
    [1, x, above-gap indicator] (logistic5). lib/metrics/logistic.ts reports this when its fit
    degenerates into a step; it computes it in closed form from running sums."""
    levels = np.unique(x)
    best = None
    for lo, hi in zip(levels[:-1], levels[1:]):
        above = (x > lo).astype(float)
        cols = [np.ones_like(x), above] if model == 'logistic4' else [np.ones_like(x), x, above]
        a = np.stack(cols, axis=1)
        coef = np.linalg.lstsq(a, y, rcond=None)[0]
        pred = a @ coef
        sse = float(np.sum((pred - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, (lo + hi) / 2, pred)
    if best is None:
        return None
    sse, centre, pred = best
    return {'sse': sse, 'centre': float(centre), 'plcc': float(abs(stats.pearsonr(pred, y)[0]))}


def fit(model, x, y):
    f = logistic5 if model == 'logistic5' else logistic4
    p = 5 if model == 'logistic5' else 4
    if len(x) <= p:
        return {'ok': False, 'reason': 'too-few-points'}
    if np.all(x == x[0]) or np.all(y == y[0]):
        return {'ok': False, 'reason': 'constant-input'}
    best = None
    for p0 in starts(model, x, y):
        params = None
        # MINPACK reports "tolerance too small" (a failure for curve_fit) when it reaches machine
        # precision before the tolerance: loosen step by step, keeping the tightest that succeeds.
        for tol in (1e-14, 1e-10):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    params, _ = curve_fit(f, x, y, p0=p0, ftol=tol, xtol=tol, gtol=tol, maxfev=20000)
                break
            except Exception:
                continue
        if params is None:
            continue
        pred = f(x, *params)
        if not np.all(np.isfinite(pred)):
            continue
        sse = float(np.sum((pred - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, params, pred)
    if best is None:
        return {'ok': False, 'reason': 'no-convergence'}
    sse, params, pred = best
    # Compare mapped values at data points (between tied x levels the mapping is not identified).
    order = np.argsort(x, kind='stable')
    pick = order[np.unique(np.linspace(0, len(x) - 1, min(len(x), 300)).round().astype(int))]
    b = params
    xr, yr = x.max() - x.min(), y.max() - y.min()
    # Well-posed: the minimum is finite (a sigmoid centred inside the data, of sane amplitude and
    # slope). Otherwise the infimum lies at infinity and only the SSE / PLCC are comparable.
    if model == 'logistic5':
        well = x.min() <= b[2] <= x.max() and abs(b[0]) < 100 * yr and abs(b[1]) * xr < 200
    else:
        well = x.min() <= b[2] <= x.max() and max(abs(b[0]), abs(b[1])) < 100 * (abs(y).max() + yr) and xr / 200 < abs(b[3]) < 100 * xr
    return {
        'ok': True,
        'params': [float(v) for v in params],
        'sse': sse,
        'plcc': float(stats.pearsonr(pred, y)[0]),
        'rmse': float(np.sqrt(np.mean((pred - y) ** 2))),
        'mae': float(np.mean(np.abs(pred - y))),
        'wellPosed': bool(well),
        'step': step_limit(model, x, y),
        'at': [int(i) for i in pick],
        'pred': [float(v) for v in pred[pick]],
    }


def nan_to_none(v):
    v = float(v)
    return None if not np.isfinite(v) else v


def case(name, x, y, digits=6):
    # Round the inputs so the JSON holds exactly what scipy saw.
    x = np.array([float(f'{v:.{digits}g}') for v in np.asarray(x, dtype=float)])
    y = np.array([float(f'{v:.{digits}g}') for v in np.asarray(y, dtype=float)])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pr = stats.pearsonr(x, y)[0] if len(x) >= 2 else np.nan
        sr = stats.spearmanr(x, y)[0]
        kt = stats.kendalltau(x, y, variant='b')[0]
    return {
        'name': name,
        'n': len(x),
        'x': [float(v) for v in x],
        'y': [float(v) for v in y],
        'pearson': nan_to_none(pr),
        'spearman': nan_to_none(sr),
        'kendall': nan_to_none(kt),
        'logistic5': fit('logistic5', x, y),
        'logistic4': fit('logistic4', x, y),
    }


def main():
    rng = np.random.default_rng(20261126)
    cases = []

    def mos_like(q, noise, lo=1.0, hi=5.0):
        """An IQA-like sigmoid relation between a quality score q and MOS, with noise."""
        return lo + (hi - lo) / (1 + np.exp(-(q - q.mean()) / q.std())) + noise * rng.standard_normal(len(q))

    for n in (10, 20, 50, 100, 500, 1000):
        x = rng.standard_normal(n)
        cases.append(case(f'normal n={n}', x, 0.6 * x + 0.8 * rng.standard_normal(n)))
    for n in (30, 200, 3000):
        q = rng.uniform(0, 100, n)
        cases.append(case(f'sigmoid MOS n={n}', q, mos_like(q, 0.3)))
    for n in (40, 400):
        q = rng.uniform(10, 80, n)  # lower is better, like BRISQUE
        cases.append(case(f'lower-is-better n={n}', q, mos_like(-q, 0.4)))
    x = rng.integers(0, 5, 60).astype(float)
    cases.append(case('ties in x (5 levels)', x, x + rng.standard_normal(60)))
    y = rng.integers(1, 6, 80).astype(float)
    cases.append(case('ties in y (5 levels)', y + rng.standard_normal(80), y))
    x = rng.integers(0, 4, 100).astype(float)
    cases.append(case('ties in both', x, np.round(x + rng.standard_normal(100))))
    x = rng.integers(0, 3, 25).astype(float)
    cases.append(case('heavy ties anticorrelated', x, -x + np.round(rng.standard_normal(25))))
    cases.append(case('constant x', np.full(12, 3.5), rng.standard_normal(12)))
    cases.append(case('constant y', rng.standard_normal(12), np.full(12, 2.0)))
    cases.append(case('both constant', np.full(8, 1.0), np.full(8, 1.0)))
    cases.append(case('n=2 increasing', [1.0, 2.0], [3.0, 5.0]))
    cases.append(case('n=2 decreasing', [0.2, 0.9], [4.0, 1.5]))
    cases.append(case('n=3', [1.0, 2.0, 4.0], [2.0, 1.0, 3.0]))
    cases.append(case('n=5', [1.0, 2.0, 3.0, 4.0, 5.0], [1.1, 1.9, 3.2, 3.8, 5.3]))
    cases.append(case('n=6', [0.1, 0.4, 0.35, 0.8, 0.9, 0.55], [1.0, 2.2, 2.0, 4.1, 4.6, 3.0]))
    x = rng.uniform(0, 1, 40)
    cases.append(case('exactly linear', x, 3 * x + 1, digits=12))
    x = rng.uniform(0, 1, 50)
    cases.append(case('perfectly monotone', x, np.exp(3 * x), digits=12))
    q = rng.uniform(200, 9000, 300)  # sharpness-like scale
    cases.append(case('large scale x', q, mos_like(np.log(q), 0.05, 0, 1)))
    q = rng.uniform(0, 1, 150) * 1e-5
    cases.append(case('tiny scale x', q, mos_like(q, 0.3, 0, 100)))
    x = rng.standard_normal(300)
    cases.append(case('uncorrelated', x, rng.standard_normal(300)))
    x = rng.standard_normal(120)
    cases.append(case('strong negative linear', x, -2 * x + 0.1 * rng.standard_normal(120)))
    x = rng.uniform(0, 1, 200)
    cases.append(case('outliers', x, np.where(rng.uniform(size=200) < 0.05, 5.0, x + 0.1 * rng.standard_normal(200))))
    q = rng.uniform(0, 10, 10000)
    cases.append(case('n=10000 sigmoid', q, mos_like(q, 0.5), digits=7))
    x = rng.integers(0, 50, 10000).astype(float)
    cases.append(case('n=10000 ties', x, np.round(x / 10 + rng.standard_normal(10000), 1)))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'scripts/golden/metrics_golden.py', 'scipy': scipy.__version__, 'numpy': np.__version__, 'cases': cases}, fh, separators=(',', ':'))
        fh.write('\n')
    print(f'{len(cases)} cases -> {os.path.relpath(OUT)}')
    for c in cases:
        print(f"{c['name']:28s} n={c['n']:6d} r={c['pearson']} rho={c['spearman']} tau={c['kendall']} "
              f"l5={c['logistic5'].get('plcc', c['logistic5'].get('reason'))} l4={c['logistic4'].get('plcc', c['logistic4'].get('reason'))}")


if __name__ == '__main__':
    main()
