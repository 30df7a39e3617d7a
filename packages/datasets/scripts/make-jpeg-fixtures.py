#!/usr/bin/python3
"""Makes test/fixtures/jpeg.json: small JPEG files written by OpenCV (one by Pillow) and the pixels OpenCV's
`cv2.imread(path, IMREAD_COLOR)` decodes from them (converted to RGB), the reference for
@sign/datasets/node's JPEG decoding (sharp): the release reads its images with cv2.imread, so the
same pixels must come out here.

    /usr/bin/python3 packages/datasets/scripts/make-jpeg-fixtures.py

Cases: colour with 4:2:0 chroma subsampling (OpenCV's default, as most dataset JPEGs), colour
4:4:4, odd sizes, and a grey JPEG (which IMREAD_COLOR replicates to three channels).
"""
import base64
import json
import os

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'jpeg.json')


def image(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 9 + y * 2) % 256, (y * 7 + 40) % 256, ((x + y) * 5 + 90) % 256], -1)
    return np.clip(base + rng.integers(-30, 30, (h, w, 3)), 0, 255).astype(np.uint8)


def main():
    cases = []
    for name, h, w, params, grey in (
        ('colour 4:2:0, quality 90', 29, 37, [cv2.IMWRITE_JPEG_QUALITY, 90], False),
        ('colour 4:4:4, quality 95 (written by Pillow)', 31, 22, 'pillow-444', False),
        ('colour 4:2:0, quality 75, odd', 17, 43, [cv2.IMWRITE_JPEG_QUALITY, 75], False),
        ('grey, quality 85', 23, 19, [cv2.IMWRITE_JPEG_QUALITY, 85], True),
    ):
        img = image(h, w, len(cases))
        src = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if grey else img[..., ::-1]
        if params == 'pillow-444':  # OpenCV 4.6 cannot choose the subsampling
            import io
            from PIL import Image
            out = io.BytesIO()
            Image.fromarray(img).save(out, format='JPEG', quality=95, subsampling=0)
            buf = np.frombuffer(out.getvalue(), np.uint8)
        else:
            ok, buf = cv2.imencode('.jpg', src, params)
            assert ok
        path = os.path.join('/tmp', 'sign-jpeg-fixture.jpg')
        with open(path, 'wb') as f:
            f.write(buf.tobytes())
        decoded = cv2.imread(path, cv2.IMREAD_COLOR)[..., ::-1]  # BGR → RGB
        cases.append({'name': name, 'height': h, 'width': w, 'grey': grey, 'jpeg': base64.b64encode(buf.tobytes()).decode('ascii'),
                      'rgb': base64.b64encode(np.ascontiguousarray(decoded).tobytes()).decode('ascii')})
    with open(OUT, 'w') as f:
        json.dump({'what': 'JPEGs written by cv2.imencode and their cv2.imread(IMREAD_COLOR) pixels as RGB', 'opencv': cv2.__version__, 'cases': cases}, f)
        f.write('\n')
    print('wrote', OUT, os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()
