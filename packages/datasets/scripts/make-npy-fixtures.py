#!/usr/bin/python3
"""Makes test/fixtures/npy/: small .npy files written by NumPy itself (the format of the SIGN
release's split lists: `<U64` path strings and int64 class ids), and expected.json with what
NumPy reads back from each, the reference for src/sign-release/npy.ts.

    /usr/bin/python3 packages/datasets/scripts/make-npy-fixtures.py

Files numpy refuses to load without allow_pickle (object arrays) and arrays that are not 1-D are
included too: the reader must refuse them, naming the file.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'npy')


def main():
    os.makedirs(OUT, exist_ok=True)
    arrays = {
        'paths-u.npy': np.array(['/home/x/dataset/annotations/train/2008_000002.png', '/users/pascal_context/annotations/val/2008_004344', 'ünïcødé/😀/val/a b'], dtype='<U64'),
        'paths-s.npy': np.array([b'annotations/train2017/000000000139.png', b'x/val/y'], dtype='S40'),
        'big-endian-u.npy': np.array(['train/a', 'val/bb'], dtype='>U9'),
        'ids-i8.npy': np.array([20, 24, 32, 33, 40, 56, 86, 99, 105, 123, 144, 147, 148, 168, 171], dtype=np.int64),
        'ids-i4.npy': np.array([10, 14, 18, 8], dtype=np.int32),
        'ids-u1.npy': np.array([0, 255, 7], dtype=np.uint8),
        'empty-u.npy': np.array([], dtype='<U1'),
        'column-i8.npy': np.array([[3], [1], [2]], dtype=np.int64),
    }
    expected = {}
    for name, a in arrays.items():
        np.save(os.path.join(OUT, name), a)
        back = np.load(os.path.join(OUT, name))
        data = [x.decode('latin1') if isinstance(x, bytes) else (str(x) if a.dtype.kind == 'U' else int(x)) for x in back.reshape(-1).tolist()]
        expected[name] = {'dtype': back.dtype.str, 'shape': list(back.shape), 'data': data}
    # version 2.0 and 3.0 headers
    with open(os.path.join(OUT, 'version2-i8.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array([1, 2, 3], dtype=np.int64), version=(2, 0))
    expected['version2-i8.npy'] = {'dtype': '<i8', 'shape': [3], 'data': [1, 2, 3]}
    with open(os.path.join(OUT, 'version3-u.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.array(['a/b', 'c/d'], dtype='<U3'), version=(3, 0))
    expected['version3-u.npy'] = {'dtype': '<U3', 'shape': [2], 'data': ['a/b', 'c/d']}
    # refused
    np.save(os.path.join(OUT, 'object.npy'), np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT, 'matrix-i4.npy'), np.arange(12, dtype=np.int32).reshape(3, 4))
    np.save(os.path.join(OUT, 'floats-f4.npy'), np.array([0.5, 1.5], dtype=np.float32))
    expected['refused'] = {'object.npy': 'object', 'matrix-i4.npy': '2-D', 'floats-f4.npy': "dtype '<f4'"}
    expected['numpy'] = np.__version__
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write('\n')
    print('wrote', OUT)


if __name__ == '__main__':
    main()
