#!/usr/bin/python3
"""Makes test/fixtures/opencv-resize.json: inputs and OpenCV's cv2.resize outputs, the reference
for @sign/datasets' resize (INTER_LINEAR and INTER_NEAREST).

Run with Debian's OpenCV (apt-get install python3-opencv):
    /usr/bin/python3 packages/datasets/scripts/make-opencv-fixtures.py

Each case: a seeded input (smooth gradients plus noise, so that both interpolation weights and
rounding are exercised), resized either to an explicit size (cv2.resize(src, (w, h))) or by a
factor (cv2.resize(src, None, fx=f, fy=f), the form random scaling uses, where OpenCV rounds the
output size and keeps f as the coordinate scale). Arrays are base64 of the raw bytes (uint8, or
little-endian float32), HWC row-major.
"""
import base64
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'opencv-resize.json')


def make_input(rng, h, w, c, dtype):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255.0 / max(w - 1, 1) + k * 40) % 256 for k in range(c)], axis=-1)
    base = base * 0.5 + (y[..., None] * 255.0 / max(h - 1, 1)) * 0.3
    noise = rng.integers(0, 64, size=(h, w, c))
    img = np.clip(base + noise, 0, 255)
    if dtype == 'uint8':
        return img.astype(np.uint8)
    return (img / 255.0).astype(np.float32)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode('ascii')


def main():
    rng = np.random.default_rng(20210811)
    cases = []
    # (name, src h, src w, channels, dtype, interpolation, target) target = ('size', h, w) | ('factor', f)
    specs = []
    for interp in ('linear', 'nearest'):
        for c in (1, 3):
            specs += [
                (interp, 5, 7, c, 'uint8', ('size', 11, 13)),   # up, odd
                (interp, 12, 16, c, 'uint8', ('size', 24, 32)),  # up 2x exactly
                (interp, 29, 37, c, 'uint8', ('size', 50, 61)),  # up, odd, wide rows (SIMD path)
                (interp, 48, 64, c, 'uint8', ('size', 17, 23)),  # down, odd
                (interp, 40, 52, c, 'uint8', ('size', 20, 26)),  # down 2x exactly
                (interp, 33, 45, c, 'uint8', ('size', 11, 15)),  # down 3x exactly
                (interp, 31, 41, c, 'uint8', ('size', 31, 41)),  # same size
                (interp, 30, 40, c, 'uint8', ('size', 45, 20)),  # up in y, down in x
                (interp, 37, 23, c, 'uint8', ('factor', 0.73)),  # random-scale form
                (interp, 21, 26, c, 'uint8', ('factor', 1.61)),
                (interp, 19, 17, c, 'uint8', ('factor', 1.5)),
            ]
        specs += [
            (interp, 9, 11, 1, 'float32', ('size', 14, 19)),
            (interp, 26, 30, 3, 'float32', ('size', 13, 12)),
        ]
    for interp, h, w, c, dtype, target in specs:
        src = make_input(rng, h, w, c, dtype)
        flag = cv2.INTER_LINEAR if interp == 'linear' else cv2.INTER_NEAREST
        if target[0] == 'size':
            dst = cv2.resize(src, (target[2], target[1]), interpolation=flag)
        else:
            dst = cv2.resize(src, None, fx=target[1], fy=target[1], interpolation=flag)
        if dst.ndim == 2:
            dst = dst[..., None]
        case = {
            'interpolation': interp,
            'dtype': dtype,
            'channels': c,
            'src': {'height': h, 'width': w, 'data': b64(src)},
            'dst': {'height': int(dst.shape[0]), 'width': int(dst.shape[1]), 'data': b64(dst)},
        }
        if target[0] == 'factor':
            case['factor'] = target[1]
        cases.append(case)
    doc = {
        'about': 'cv2.resize reference outputs; made by packages/datasets/scripts/make-opencv-fixtures.py',
        'opencv': cv2.__version__,
        'numpy': np.__version__,
        'cases': cases,
    }
    with open(OUT, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'{OUT}: {len(cases)} cases (OpenCV {cv2.__version__})', file=sys.stderr)


if __name__ == '__main__':
    main()
