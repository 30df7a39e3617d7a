#!/usr/bin/python3
"""Makes test/fixtures/release-loader.json: what the SIGN release's own data loader and test path
do to an image and its label map, the reference for @sign/datasets' release pipelines and
evaluation protocol (test/release.test.ts).

It runs the release's code itself (repository cplusx/SIGN: `_CocoStuff._transform` of
libs/datasets/cocostuff.py, the loader of training and test images, and `resize_target` of
tools.py, which brings the ground truth to the feature grid) on seeded inputs, with its
`random` calls answered by fixed values that the fixture records, so that the TypeScript side
can replay the same draws. Nothing of the release is copied: the script imports it from a
checkout given on the command line.

    /usr/bin/python3 packages/datasets/scripts/make-release-fixtures.py /path/to/SIGN

Needs Debian's python3-opencv, python3-numpy, python3-torch, python3-yaml and python3-pil (the
release imports h5py, scipy.io and tqdm at the top of its loader without using them here: they
are stubbed when absent).

Contents:
Inputs come from an integer formula (INPUT_RULE, written into the file) so that the file need
not carry them.

- `train`: small cases (base size and crop shrunk from 513 / 368 so that outputs fit in the
  file, which the release's code takes as parameters) in both of its modes (`warp`: resize to
  base×base; otherwise the long side to base), shrinking (padding) and growing, flipped or not;
  outputs in full (float32 image HWC in BGR order, labels), plus one case at the
  release's sizes (333×500 → 513, crop 368) summarised (sums and sampled values).
- `eval`: the release's test path (`scale=None`, `flip=False`) at base 513, with `warp` on (its
  configs) and off: the network input summarised, the label map at 513 summarised, and the label
  map on the feature grid in full.
- `grid`: the feature-grid size for input sizes, from PyTorch layers with the release backbone's
  geometry (7×7/2 conv with padding 3, 3×3/2 max-pool with padding 1 in ceil mode, the 1×1/2
  reduce conv of layer3).
"""
import base64
import importlib
import json
import os
import sys
import tempfile
import types

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'release-loader.json')
MEAN_BGR = (104.008, 116.669, 122.675)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode('ascii')


def import_release(root):
    for name in ('h5py', 'tqdm', 'scipy', 'scipy.io'):
        try:
            importlib.import_module(name)
        except ImportError:
            mod = types.ModuleType(name)
            if name == 'tqdm':
                mod.tqdm = lambda *a, **k: a[0] if a else None
            sys.modules[name] = mod
    if 'scipy' in sys.modules and not hasattr(sys.modules['scipy'], 'io'):
        sys.modules['scipy'].io = sys.modules['scipy.io']
    sys.path.insert(0, root)
    cocostuff = importlib.import_module('libs.datasets.cocostuff')
    tools = importlib.import_module('tools')
    return cocostuff, tools


class FixedRandom:
    """Stands in for the `random` module inside the release's loader: answers uniform / randint /
    random with recorded values (fractions of their ranges chosen by the case)."""

    def __init__(self, u_scale, crop_fracs, flip_u):
        self.u_scale = u_scale
        self.crop_fracs = list(crop_fracs)
        self.flip_u = flip_u
        self.draws = {}

    def uniform(self, a, b):
        f = a + (b - a) * self.u_scale  # what random.uniform computes from random()
        self.draws['f'] = f
        return f

    def randint(self, a, b):
        frac = self.crop_fracs.pop(0)
        v = a + int(frac * (b - a + 1)) if b > a else a
        self.draws.setdefault('offsets', []).append(v)
        self.draws.setdefault('ranges', []).append(b - a + 1)
        return v

    def random(self):
        self.draws['flipU'] = self.flip_u
        return self.flip_u


INPUT_RULE = (
    'rgb[y, x, k] = (3x + 5y + 70k + (x^2 + 3y^2 + 7xy + 11k) mod 41) mod 256 (uint8, RGB); '
    'label[y, x] = classes[floor(x * len(classes) / w)], then classes[-1] where '
    '16(3y - h)^2 + 36(2x - w)^2 < 9 min(h, w)^2, then 255 where (31x + 17y) mod 53 == 0'
)


def make_input(h, w, classes):
    """Inputs from an integer formula (INPUT_RULE), so that the fixture need not carry them."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    rgb = np.stack([(3 * x + 5 * y + 70 * k + (x * x + 3 * y * y + 7 * x * y + 11 * k) % 41) % 256 for k in range(3)], axis=-1).astype(np.uint8)
    label = np.array(classes, dtype=np.int64)[(x * len(classes)) // w]
    label[16 * (3 * y - h) ** 2 + 36 * (2 * x - w) ** 2 < 9 * min(h, w) ** 2] = classes[-1]
    label[(31 * x + 17 * y) % 53 == 0] = 255
    return rgb, label


def loader(cocostuff, base, crop, warp, scale, flip):
    ds = object.__new__(cocostuff.LoaderZLS)
    ds.base_size = base
    ds.crop_size = crop
    ds.mean = np.array(MEAN_BGR)
    ds.scale = scale
    ds.warp = warp
    ds.flip = flip
    ds.ignore_label = 255
    ds.visibility_mask = None
    return ds


def run_transform(cocostuff, ds, rgb, label, fixed):
    cocostuff.random = fixed
    bgr = rgb[..., ::-1].astype(np.float32)  # as cv2.imread(..., IMREAD_COLOR).astype(np.float32)
    image, lab = ds._transform(bgr.copy(), label.copy())
    return image.transpose(1, 2, 0).astype(np.float32), np.asarray(lab)


def summary(a, rng, n=256):
    flat = a.reshape(-1)
    idx = np.sort(rng.choice(flat.size, size=min(n, flat.size), replace=False))
    out = {'sum': float(flat.astype(np.float64).sum()), 'absSum': float(np.abs(flat.astype(np.float64)).sum()),
           'samples': [[int(i), float(flat[i])] for i in idx]}
    return out


def label_summary(a, rng, n=256):
    flat = a.reshape(-1)
    values, counts = np.unique(flat, return_counts=True)
    idx = np.sort(rng.choice(flat.size, size=min(n, flat.size), replace=False))
    return {'counts': {str(int(v)): int(c) for v, c in zip(values, counts)}, 'samples': [[int(i), int(flat[i])] for i in idx]}


def grid_of(h, w):
    torch.manual_seed(0)
    stem = torch.nn.Conv2d(1, 1, 7, 2, 3)
    pool = torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)
    reduce = torch.nn.Conv2d(1, 1, 1, 2, 0)
    with torch.no_grad():
        y = reduce(pool(stem(torch.zeros(1, 1, h, w))))
    return [int(y.shape[2]), int(y.shape[3])]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.abspath(sys.argv[1])
    cocostuff, tools = import_release(root)
    pick = np.random.default_rng(7)

    train = []
    # (name, h, w, classes, base, crop, warp, u_scale, crop fractions, flip u)
    specs = [
        ('warp, shrink, flip', 19, 27, [0, 3, 7, 12], 41, 29, True, 0.125, (0.4, 0.7), 0.25),
        ('warp, grow, no flip', 26, 17, [1, 5, 2], 41, 29, True, 0.875, (0.9, 0.1), 0.75),
        ('long side, wide, crop taller than the base', 23, 37, [0, 2, 9], 41, 35, False, 0.25, (0.5, 0.5), 0.75),
        ('long side, tall, shrink, flip', 37, 23, [4, 1, 8, 3], 41, 29, False, 0.0625, (0.3, 0.8), 0.125),
        ('long side, square, grow', 20, 20, [6, 0], 33, 33, False, 0.9375, (0.2, 0.6), 0.75),
    ]
    for name, h, w, classes, base, crop, warp, u, fracs, flip_u in specs:
        rgb, label = make_input(h, w, classes)
        fixed = FixedRandom(u, fracs, flip_u)
        ds = loader(cocostuff, base, crop, warp, (0.5, 1.5), True)
        img, lab = run_transform(cocostuff, ds, rgb, label, fixed)
        train.append({
            'name': name, 'height': h, 'width': w, 'classes': classes,
            'base': base, 'crop': crop, 'warp': warp, 'scale': [0.5, 1.5],
            'uScale': u, 'f': fixed.draws['f'], 'offsets': fixed.draws['offsets'], 'ranges': fixed.draws['ranges'],
            'flipU': flip_u, 'flipped': flip_u < 0.5,
            'out': {'height': int(lab.shape[0]), 'width': int(lab.shape[1]), 'image': b64(img), 'label': b64(lab.astype(np.uint8))},
        })

    # the release's sizes: a VOC-like 333×500 image, warp to 513, shrink by 0.625, crop 368
    rgb, label = make_input(333, 500, [0, 15, 7, 20])
    fixed = FixedRandom(0.125, (0.37, 0.61), 0.25)
    img, lab = run_transform(cocostuff, loader(cocostuff, 513, 368, True, (0.5, 1.5), True), rgb, label, fixed)
    full_train = {
        'name': 'release sizes: 333×500, warp 513, f 0.625, crop 368, flip', 'height': 333, 'width': 500,
        'classes': [0, 15, 7, 20], 'base': 513, 'crop': 368, 'warp': True, 'scale': [0.5, 1.5],
        'uScale': 0.125, 'f': fixed.draws['f'], 'offsets': fixed.draws['offsets'], 'ranges': fixed.draws['ranges'],
        'flipU': 0.25, 'flipped': True,
        'out': {'height': int(lab.shape[0]), 'width': int(lab.shape[1]), 'image': summary(img, pick), 'label': label_summary(lab, pick)},
    }

    evals = []
    for name, h, w, warp in (('warp (the release configs)', 333, 500, True), ('long side (warp off)', 333, 500, False), ('warp, tall odd', 281, 187, True)):
        rgb, label = make_input(h, w, [0, 3, 11, 18])
        ds = loader(cocostuff, 513, 512, warp, None, False)
        img, lab = run_transform(cocostuff, ds, rgb, label, FixedRandom(0, (), 0))
        gh, gw = grid_of(img.shape[0], img.shape[1])
        # tools.resize_target brings the label to (size, size) with size = the grid height, as the
        # release's test does; for a non-square grid (warp off) its own call would not match the
        # prediction, so the grid there is made with cv2 directly, as resize_target does per image.
        gt = torch.from_numpy(lab[None].astype(np.int64))
        if gh == gw:
            grid_label = tools.resize_target(gt, gh)[0].numpy()
        else:
            grid_label = cv2.resize(lab.astype(np.int32), (gw, gh), interpolation=cv2.INTER_NEAREST)
        evals.append({
            'name': name, 'height': h, 'width': w, 'classes': [0, 3, 11, 18], 'warp': warp, 'base': 513,
            'input': {'height': int(img.shape[0]), 'width': int(img.shape[1]), 'image': summary(img, pick), 'label': label_summary(lab, pick)},
            'grid': {'height': gh, 'width': gw, 'label': b64(grid_label.astype(np.uint8))},
        })

    sizes = [(513, 513), (512, 512), (97, 129), (341, 513), (513, 341), (368, 368), (328, 328), (1, 1), (2, 3), (7, 9), (500, 375), (640, 427)]
    grid = [[h, w, *grid_of(h, w)] for h, w in sizes]

    out = {
        'what': "the SIGN release's data loader (_CocoStuff._transform) and test-time label resizing (resize_target) on seeded inputs, with its random draws fixed",
        'source': 'SIGN release libs/datasets/cocostuff.py and tools.py, run with OpenCV %s, NumPy %s, PyTorch %s by scripts/make-release-fixtures.py' % (cv2.__version__, np.__version__, torch.__version__),
        'mean': list(MEAN_BGR),
        'inputRule': INPUT_RULE,
        'layout': 'images HWC row-major; out.image: float32 BGR minus the means; labels uint8',
        'train': train,
        'trainFull': full_train,
        'eval': evals,
        'grid': grid,
    }
    with open(OUT, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print('wrote', OUT, os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()
