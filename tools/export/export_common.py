"""Helpers the export scripts share (imported as a sibling module: the scripts run from this folder)."""
from __future__ import annotations

import hashlib


def sha256(path: str) -> str:
    """Hex digest of a file, read in 1 MiB blocks (what manifests record for each graph)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()
