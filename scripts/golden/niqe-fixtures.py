#!/usr/bin/env python3
"""Writes NIQE test fixtures with independent writers (numpy, scipy):
  test/fixtures/niqe-default.mat       models/niqe-default.json as MATLAB v5 (scipy.io.savemat, compressed)
  test/fixtures/niqe-default-v5raw.mat the same, v5 uncompressed; niqe-default-v4.mat: MATLAB v4
  test/fixtures/niqe-default.npz       the same as .npz (numpy.savez_compressed: deflate members)
  test/fixtures/niqe-bad-shape.npz     mu_pris_param 1x35 (must be rejected)
  test/fixtures/niqe-bad-dtype.npz     int64 arrays (must be rejected)
  test/golden/niqe_mvg.json            rows with NaNs and numpy's nanmean / nancov (rows without NaN, ddof 1)
Run: /work/pyenv/bin/python scripts/golden/niqe-fixtures.py   (numpy, scipy)"""
import json, os
import numpy as np
import scipy.io

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
m = json.load(open(os.path.join(root, 'models', 'niqe-default.json')))
mu = np.array(m['mu'], dtype=np.float64).reshape(1, 36)
cov = np.array(m['cov'], dtype=np.float64).reshape(36, 36)
fx = os.path.join(root, 'test', 'fixtures')
scipy.io.savemat(os.path.join(fx, 'niqe-default.mat'), {'mu_prisparam': mu, 'cov_prisparam': cov}, do_compression=True)
scipy.io.savemat(os.path.join(fx, 'niqe-default-v5raw.mat'), {'mu_prisparam': mu, 'cov_prisparam': cov}, do_compression=False)
scipy.io.savemat(os.path.join(fx, 'niqe-default-v4.mat'), {'mu_prisparam': mu, 'cov_prisparam': cov}, format='4')
np.savez_compressed(os.path.join(fx, 'niqe-default.npz'), mu_pris_param=mu, cov_pris_param=cov)
np.savez(os.path.join(fx, 'niqe-bad-shape.npz'), mu_pris_param=mu[:, :35], cov_pris_param=cov)
np.savez(os.path.join(fx, 'niqe-bad-dtype.npz'), mu_pris_param=mu.astype(np.int64), cov_pris_param=cov.astype(np.int64))

rng = np.random.default_rng(7)
rows = rng.normal(size=(60, 36)) @ rng.normal(size=(36, 36))
rows[3, 5] = np.nan
rows[10, :] = np.nan
rows[10, 0] = 0.2
rows[42, 30] = np.nan
complete = rows[~np.isnan(rows).any(axis=1)]
golden = {
    'rows': [[None if np.isnan(v) else float(v) for v in r] for r in rows],
    'mu': np.nanmean(rows, axis=0).tolist(),
    'cov': np.cov(complete, rowvar=False, ddof=1).ravel().tolist(),
    'complete': int(complete.shape[0]),
}
json.dump(golden, open(os.path.join(root, 'test', 'golden', 'niqe_mvg.json'), 'w'))
print('wrote fixtures and test/golden/niqe_mvg.json')
