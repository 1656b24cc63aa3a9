"""Shared steps of the golden scripts whose fixture is a seeded export: run the export tool with
--weights random --save-state into test/fixtures/NAME, and list the images the goldens cover (the
fixture PNGs, then ../shared's five calibration images when present)."""
import os
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'calibration', 'dist_dir')
IMAGES = os.path.join(ROOT, 'test', 'fixtures', 'hyperiqa-tiny')


def export_seeded(tool: str, name: str, seed: int, config: str = 'tiny', extra: tuple = (), fix: str = '') -> dict:
    """Writes test/fixtures/NAME (or `fix`: graph + manifest), the tool run with `extra` arguments
    too; returns the tool's --save-state dict."""
    fix = fix or os.path.join(ROOT, 'test', 'fixtures', name)
    os.makedirs(fix, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, 'state.pt')
        subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'export', tool), '--weights', 'random', '--config', config, '--seed', str(seed),
                        '--out-dir', fix, '--name', name, '--save-state', state, *extra], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return torch.load(state)


def golden_images() -> list:
    """[(where, file, path)]: 'fixture' PNGs, then 'shared' calibration images."""
    out = [('fixture', f, os.path.join(IMAGES, f)) for f in sorted(os.listdir(IMAGES)) if f.endswith('.png')]
    if os.path.isdir(SHARED):
        out += [('shared', f, os.path.join(SHARED, f)) for f in sorted(os.listdir(SHARED))]
    else:
        print(f'note: {SHARED} absent, calibration images left out', file=sys.stderr)
    return out
