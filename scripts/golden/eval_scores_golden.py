#!/usr/bin/env python3
"""Golden for `iqa eval --scores` on images that are not on this machine: a labels CSV and a scores
CSV (seeded, with ties) whose images do not exist, and scipy's Pearson (raw), Spearman and Kendall
tau-b on them. Writes the two CSVs and the values to test/golden/eval_scores.json.
"""
import json
import os

import numpy as np
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = np.random.default_rng(12)
n = 40
names = [f"elsewhere/img_{i:03d}.jpg" for i in range(n)]
mos = np.round(rng.uniform(1, 5, n), 2)
# A noisy, partly tied, decreasing function of MOS: the metric is lower-is-better like BRISQUE.
score = np.round(60 - 9 * mos + rng.normal(0, 4, n), 1)
labels_csv = "image,mos\n" + "".join(f"{a},{b}\n" for a, b in zip(names, mos))
# The scores file names images by basename, in another order, as `iqa results` output may.
order = rng.permutation(n)
scores_csv = "image,score\n" + "".join(f"{os.path.basename(names[i])},{score[i]}\n" for i in order)
out = {
    "labelsCsv": labels_csv,
    "scoresCsv": scores_csv,
    "n": n,
    "plccRaw": float(stats.pearsonr(score, mos)[0]),
    "srocc": float(stats.spearmanr(score, mos)[0]),
    "krocc": float(stats.kendalltau(score, mos)[0]),
    "reference": f"scipy {__import__('scipy').__version__} pearsonr / spearmanr / kendalltau (tau-b)",
}
with open(os.path.join(ROOT, "test", "golden", "eval_scores.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print({k: out[k] for k in ("n", "plccRaw", "srocc", "krocc")})
