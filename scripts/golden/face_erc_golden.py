#!/usr/bin/env python3
"""Golden ERC/EDC curves for lib/evaluation/face-erc.ts from a numpy re-implementation of CR-FIQA's
ERC/erc.py (getFNMRFixedTH, calc_score, distance_) and ERC/roc.py (calculate_roc, get_fmr_op,
get_eer_threshold), on seeded synthetic embeddings and qualities; AUC as sklearn.metrics.auc (the
trapezoid rule) over erc.py's x = (100 * arange(0, 0.98, 0.05)) / 100. EDC (threshold fixed on the full
set) is the same loop with the threshold taken once.

  /work/pyenv/bin/python scripts/golden/face_erc_golden.py > test/golden/face_erc.json
"""
import json
import math
import operator
import sys

import numpy as np


def distance(e0, e1, kind):
    if kind == 'arccos':
        sim = np.clip(np.sum(e0 * e1, axis=1) / (np.linalg.norm(e0, axis=1) * np.linalg.norm(e1, axis=1)), -1., 1.)
        return np.arccos(sim) / math.pi
    e0 = e0 / np.linalg.norm(e0, axis=1, keepdims=True)
    e1 = e1 / np.linalg.norm(e1, axis=1, keepdims=True)
    return np.sum(np.square(e0 - e1), 1)


def roc(gen, imp):
    """roc.py calculate_roc(ds_scores=True, rates=False): thresholds (distances), FM, FNM."""
    g = list(zip((-gen).tolist(), [1] * len(gen)))
    i = list(zip((-imp).tolist(), [0] * len(imp)))
    scores = np.array(sorted(g + i, key=operator.itemgetter(0)))
    cumul = np.cumsum(scores[:, 1])
    thresholds, u = np.unique(scores[:, 0], return_index=True)
    fnm = cumul[u] - scores[u][:, 1]
    fm = len(imp) - (u - fnm)
    return thresholds * -1, fm, fnm


def threshold(gen, imp, op):
    thrs, fm, _ = roc(gen, imp)
    return thrs[np.argmin(abs(fm / len(imp) - op))]


def curves(emb0, emb1, same, qlt, kind, fmrs):
    d = distance(emb0, emb1, kind)
    order = np.argsort(qlt, kind='stable')
    n = len(same)
    rates = np.arange(0, 0.98, 0.05)
    x = (100 * rates) / 100
    full_gen, full_imp = np.sort(d[same == 1]), np.sort(d[same == 0])
    out = []
    for op in fmrs:
        fixed = threshold(full_gen, full_imp, op)
        erc, edc = [], []
        for r in rates:
            keep = order[int(r * n):]
            gen, imp = np.sort(d[keep][same[keep] == 1]), np.sort(d[keep][same[keep] == 0])
            t = threshold(gen, imp, op)
            erc.append(1 - len([v for v in gen if v < t]) / len(gen))
            edc.append(1 - len([v for v in gen if v < fixed]) / len(gen))
        k = int(np.sum(rates <= 0.2 + 1e-12))
        out.append({'fmr': op, 'threshold': float(fixed), 'erc': erc, 'edc': edc,
                    'ercAuc': float(np.trapezoid(erc, x)), 'edcAuc': float(np.trapezoid(edc, x)),
                    'ercPauc': float(np.trapezoid(erc[:k], x[:k])), 'edcPauc': float(np.trapezoid(edc[:k], x[:k]))})
    return out


def main():
    rng = np.random.default_rng(2026)
    ids, per, dim = 70, 4, 16
    centres = rng.standard_normal((ids, dim))
    names, emb, qual = [], [], []
    for i in range(ids):
        for k in range(per):
            noise = rng.uniform(0.2, 1.6)  # the image's degradation
            names.append(f'{i:03d}-id{i}_{k}.jpg')
            emb.append(centres[i] + noise * rng.standard_normal(dim))
            qual.append(float(-noise + 0.3 * rng.standard_normal()))  # a noisy quality estimate
    emb = np.array(emb)
    pairs = [(i * per + a, i * per + b, 1) for i in range(ids) for a in range(per) for b in range(a + 1, per)]
    while len(pairs) < 420 + 3000:
        a, b = rng.integers(0, ids * per, 2)
        if a // per != b // per:
            pairs.append((int(a), int(b), 0))
    a = np.array([p[0] for p in pairs]); b = np.array([p[1] for p in pairs]); same = np.array([p[2] for p in pairs])
    pair_q = np.minimum(np.array(qual)[a], np.array(qual)[b])
    fmrs = [1e-2, 1e-3, 1e-4]
    out = {'generator': 'scripts/golden/face_erc_golden.py', 'numpy': np.__version__,
           'images': [{'name': n, 'quality': q, 'embedding': [round(float(v), 8) for v in e]} for n, q, e in zip(names, qual, emb)],
           'pairs': [[names[x], names[y], s] for x, y, s in pairs], 'fmrs': fmrs}
    emb_r = np.array([[round(float(v), 8) for v in e] for e in emb])  # what the test reads
    out['arccos'] = curves(emb_r[a], emb_r[b], same, pair_q, 'arccos', fmrs)
    out['euclidean'] = curves(emb_r[a], emb_r[b], same, pair_q, 'euclidean', fmrs)
    json.dump(out, sys.stdout)
    print()
    for c in out['arccos']:
        print(f"FMR {c['fmr']}: ERC AUC {c['ercAuc']:.6f}, EDC AUC {c['edcAuc']:.6f}, erc[0] {c['erc'][0]:.4f} -> erc[-1] {c['erc'][-1]:.4f}", file=sys.stderr)


if __name__ == '__main__':
    main()
