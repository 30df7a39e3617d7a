#!/usr/bin/python3
"""Writes the .pth fixtures of @sign/torch-io's tests with PyTorch, and beside each one a JSON
description of what torch.load gives for it (the reference the tests compare against).

Run with a Python that has torch (Debian: `apt-get install -y python3-torch`, then
`/usr/bin/python3 packages/torch-io/scripts/make-fixtures.py`). Seeds and zip dates are fixed, so
a rerun gives the same bytes, except in the two legacy files, whose storage keys PyTorch takes
from memory addresses. Small: the whole folder is under 200 kB.

Nothing here unpickles a hostile file: forbidden-global.pth is written as raw bytes and never
loaded (and the legacy-forbidden one likewise).
"""
import collections
import io
import json
import math
import os
import struct
import sys
import zipfile

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
DTYPE = {
    torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16',
    torch.bfloat16: 'bfloat16', torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16',
    torch.int8: 'int8', torch.uint8: 'uint8', torch.bool: 'bool',
}


def number(x):
    """A Python number as JSON: plain when exact in a double, else tagged."""
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x if abs(x) <= 2**53 else {'__int__': str(x)}
    if math.isnan(x):
        return {'__float__': 'nan'}
    if math.isinf(x):
        return {'__float__': 'inf' if x > 0 else '-inf'}
    return {'__float__': repr(x)} if x == int(x) else x


def describe(v):
    """What torch.load gave, as JSON that keeps the Python types apart."""
    if isinstance(v, torch.Tensor):
        t = v.detach()
        if t.dtype in (torch.float16, torch.bfloat16):
            values = t.float().flatten().tolist()
        else:
            values = t.flatten().tolist()
        if t.dtype == torch.int64:
            values = [str(x) for x in values]  # exact beyond 2^53
        elif t.dtype.is_floating_point:
            values = [x if math.isfinite(x) else ('nan' if math.isnan(x) else ('inf' if x > 0 else '-inf')) for x in values]
        elif t.dtype == torch.bool:
            values = [bool(x) for x in values]
        return {'__tensor__': {'dtype': DTYPE[t.dtype], 'shape': list(t.shape), 'values': values,
                               'parameter': isinstance(v, nn.Parameter), 'requiresGrad': v.requires_grad}}
    if isinstance(v, torch.storage.TypedStorage):
        return {'__storage__': {'dtype': DTYPE[v.dtype], 'values': describe(torch.tensor(v, dtype=v.dtype))['__tensor__']['values']}}
    if isinstance(v, collections.OrderedDict):
        return {'__ordereddict__': [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, dict):
        return {'__dict__': [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, tuple):
        return {'__tuple__': [describe(x) for x in v]}
    if isinstance(v, list):
        return [describe(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {'__set__': sorted((describe(x) for x in v), key=json.dumps)}
    if isinstance(v, (bytes, bytearray)):
        return {'__bytes__': bytes(v).hex()}
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return number(v)
    raise TypeError(f'cannot describe {type(v)}')


def save(name, obj, **kwargs):
    path = os.path.join(OUT, name + '.pth')
    torch.save(obj, path, **kwargs)
    loaded = torch.load(path)
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'value': describe(loaded)}, f, indent=0, sort_keys=False)
        f.write('\n')
    return path


# --- 1. a plain state_dict (an OrderedDict with _metadata; 0-d int64 num_batches_tracked)
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, bias=True)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 2)


torch.manual_seed(0)
tiny = Tiny()
with torch.no_grad():
    tiny.bn.running_mean.uniform_(-1, 1)
    tiny.bn.running_var.uniform_(0.5, 2)
    tiny.bn.num_batches_tracked.fill_(7)
save('plain-state-dict', tiny.state_dict())


# --- 2. the SIGN release's checkpoint structure: {'state_dict': ..., optimizer states, counters}
class ConvBn(nn.Module):
    def __init__(self, cin, cout, k, bias=False, bn=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=bias)
        if bn:
            self.bn = nn.BatchNorm2d(cout)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Module()
        self.layer1.conv1 = ConvBn(3, 4, 3)
        self.aspp = nn.Module()
        self.aspp.stages = nn.Module()
        for i in range(2):
            setattr(self.aspp.stages, f'c{i}', nn.Conv2d(4, 5, 3, bias=True))
        self.positional1 = ConvBn(5, 5, 1, bn=False)


class Back(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = Scale()


class Dis(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ConvBn(5, 6, 1, bias=True, bn=False)
        self.pred = nn.Conv2d(6, 1, 1)
        self.cls = nn.Conv2d(6, 4, 1)


class Gen(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.ModuleList([ConvBn(3, 5, 1, bias=True, bn=False), ConvBn(5, 5, 1, bias=True, bn=False)])


class Release(nn.Module):
    def __init__(self):
        super().__init__()
        self.back = Back()
        self.dis = Dis()
        self.gen = Gen()
        self.Em_vis = nn.Embedding(3, 3)
        self.Em_all = nn.Embedding(4, 3)


torch.manual_seed(1)
net = Release()
opt_back = torch.optim.SGD(net.back.parameters(), lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
opt_dis = torch.optim.Adam(net.dis.parameters(), lr=2.5e-4, betas=(0.5, 0.999))
opt_gen = torch.optim.Adam(net.gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
x = torch.randn(1, 3, 6, 6)
h = net.back.scale.positional1.conv(net.back.scale.aspp.stages.c0(net.back.scale.layer1.conv1.bn(net.back.scale.layer1.conv1.conv(x))))
g = net.gen.mlp[1].conv(net.gen.mlp[0].conv(net.Em_all.weight[:, :, None, None]))
loss = net.dis.cls(net.dis.fc.conv(h)).mean() + net.dis.pred(net.dis.fc.conv(g)).mean() + net.back.scale.aspp.stages.c1(net.back.scale.layer1.conv1.conv(x)).mean()
loss.backward()
for o in (opt_back, opt_dis, opt_gen):
    o.step()
save('release-checkpoint', {
    'state_dict': net.state_dict(),
    'optimizer_back': opt_back.state_dict(),
    'optimizer_dis': opt_dis.state_dict(),
    'optimizer_gen': opt_gen.state_dict(),
    'iter': 20000,
    'best_miou': 0.4375,
})

# --- 3. every dtype the reader maps, with edge values; 0-d and empty tensors
dtypes = {
    'f32': torch.tensor([[1.5, -2.25, 3.0], [float('inf'), float('-inf'), float('nan')]], dtype=torch.float32),
    'f64': torch.tensor([0.1, -1e300, 5e-324], dtype=torch.float64),
    'f16': torch.tensor([1.0, -0.5, 65504.0, 6e-8, float('inf'), float('nan'), -0.0], dtype=torch.float16),
    'bf16': torch.tensor([1.0, -3.140625, 1e38, -1e-38, float('-inf')], dtype=torch.bfloat16),
    'i64': torch.tensor([0, -1, 2**31 - 1, -2**31, 2**40, -2**62], dtype=torch.int64),
    'i64_small': torch.tensor([[3, -4], [5, 2**31 - 1]], dtype=torch.int64),
    'i32': torch.tensor([-2**31, 2**31 - 1, 7], dtype=torch.int32),
    'i16': torch.tensor([-32768, 32767], dtype=torch.int16),
    'i8': torch.tensor([-128, 127, 0], dtype=torch.int8),
    'u8': torch.tensor([0, 255, 17], dtype=torch.uint8),
    'bool': torch.tensor([[True, False], [False, True]]),
    'scalar_f32': torch.tensor(2.5),
    'scalar_i64': torch.tensor(7),
    'empty': torch.zeros(0, 3),
}
save('dtypes', dtypes)

# --- 4. shared storages, offsets, strides (views are materialised by the reader)
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
shared = collections.OrderedDict([
    ('base', base),
    ('transposed', base.t()),
    ('column', base[:, 2]),
    ('slice', base[1:3, ::2]),
    ('offset_flat', base.view(-1)[5:11]),
    ('expanded', torch.tensor([1.0, 2.0, 3.0]).expand(4, 3)),
    ('same_again', base),
    ('half_view', torch.arange(8, dtype=torch.float16)[1::3]),
    ('long_view', torch.arange(10, dtype=torch.int64).reshape(2, 5)[:, 1:4]),
])
save('shared-strided', shared)

# tied parameters: two Parameters over one storage
lin = nn.Linear(2, 2)
tied = collections.OrderedDict([('a.weight', lin.weight), ('b.weight', lin.weight), ('a.bias', lin.bias)])
save('tied-parameters', tied)

# --- 5. containers and Python values
containers = collections.OrderedDict([
    ('ints', [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**53, 2**63, -2**70]),
    ('floats', [0.0, -0.0, 1.5, 1e-310, float('inf'), float('-inf'), float('nan')]),
    ('strings', ['', 'ascii', 'ünïcødé ✓', 'x' * 300]),
    ('bytes', b'\x00\x01\xfe\xff'),
    ('flags', (True, False, None)),
    ('nested', [(1, [2, (3, 4)]), {'k': (5,)}, [], ()]),
    ('int_keys', {0: 'zero', -5: 'minus five', 2**40: 'big'}),
    ('tuple_keys', {(1, 2): 'a'}),
    ('set', {1, 2, 3}),
    ('frozenset', frozenset(['a'])),
    ('tensor_in_list', [torch.tensor([1, 2], dtype=torch.int32), (torch.tensor([True]),)]),
])
save('containers', containers)
# the same object with pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE ...)
save('containers-protocol4', containers, pickle_protocol=4)
# and protocol 1 (no PROTO opcode; protocol 0 cannot hold torch's tuple persistent ids at all)
save('containers-protocol1', containers, pickle_protocol=1)

# storages saved on their own: a typed one, and an untyped one ('torch.storage.UntypedStorage')
save('storages', {'typed': torch.arange(4, dtype=torch.float32).storage(),
                  'untyped': torch.tensor([0, 7, 255], dtype=torch.uint8).storage().untyped()})

# --- 6. the legacy (non-zip) format of torch < 1.6
save('legacy', collections.OrderedDict([('dtypes', dtypes), ('shared', shared)]), _use_new_zipfile_serialization=False)
save('legacy-state-dict', tiny.state_dict(), _use_new_zipfile_serialization=False)

# --- 7. the whole module (pickles classes by reference): the reader must refuse it
torch.save(tiny, os.path.join(OUT, 'whole-module.pth'))

# --- 8. the same tensors written big-endian (as torch >= 2.1 records in 'byteorder'), rezipped
# by Python's zipfile (so a second zip writer is covered too)
def entry(name, compress=zipfile.ZIP_STORED):
    """A zip entry with a fixed date (zipfile would stamp the current time; fixtures stay byte-identical)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    return info


def rezip(src, dst, transform):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', compression=zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = transform(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(entry(info.filename), data)
        extra = transform('__add__', None)
        for name, data in (extra or {}).items():
            zout.writestr(entry(name), data)


elem = {}
src = os.path.join(OUT, 'dtypes.pth')
with zipfile.ZipFile(src) as z:
    prefix = z.infolist()[0].filename.split('/')[0]
    pkl = z.read(prefix + '/data.pkl')
# element size per storage key, read from the pickle's persistent ids (protocol 2, torch 1.13 layout)
import pickle
class Peek(pickle.Unpickler):
    def find_class(self, module, name):
        if module == 'torch' and name.endswith('Storage'):
            return name
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return lambda storage, *a: None
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f'{module}.{name}')
    def persistent_load(self, pid):
        size = {'FloatStorage': 4, 'DoubleStorage': 8, 'HalfStorage': 2, 'BFloat16Storage': 2, 'LongStorage': 8,
                'IntStorage': 4, 'ShortStorage': 2, 'CharStorage': 1, 'ByteStorage': 1, 'BoolStorage': 1}[pid[1]]
        elem[pid[2]] = size
        return None
Peek(io.BytesIO(pkl)).load()


def swap(name, data):
    if name == '__add__':
        return {prefix + '/byteorder': b'big'}
    key = name.split('/data/')[-1] if '/data/' in name else None
    if key is None:
        return data
    n = elem[key]
    if n == 1:
        return data
    fmt = {2: 'H', 4: 'I', 8: 'Q'}[n]
    vals = struct.unpack('<%d%s' % (len(data) // n, fmt), data)
    return struct.pack('>%d%s' % (len(vals), fmt), *vals)


rezip(src, os.path.join(OUT, 'dtypes-big-endian.pth'), swap)
# a little-endian record too, to cover 'byteorder' = little
rezip(src, os.path.join(OUT, 'dtypes-little-endian.pth'), lambda n, d: {prefix + '/byteorder': b'little'} if n == '__add__' else d)
# the same file with the pickle deflate-compressed (torch writes stored entries; other zip tools may not)
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(os.path.join(OUT, 'dtypes-deflated.pth'), 'w') as zout:
    for info in zin.infolist():
        zout.writestr(entry(info.filename, zipfile.ZIP_DEFLATED), zin.read(info.filename))

# --- 9. a forbidden global, written as bytes (pickle protocol 2): os.system('echo pwned').
# Never loaded here: torch.load would run it.
evil = (b'\x80\x02' + b'cos\nsystem\n' + b'X\x0a\x00\x00\x00echo pwned' + b'\x85' + b'R' + b'.')
with zipfile.ZipFile(os.path.join(OUT, 'forbidden-global.pth'), 'w', compression=zipfile.ZIP_STORED) as z:
    z.writestr(entry('forbidden-global/data.pkl'), evil)
    z.writestr(entry('forbidden-global/version'), b'3\n')
# the same inside a legacy-format stream (magic number, protocol version, sys info, then the payload)
magic = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
with open(os.path.join(OUT, 'legacy-forbidden-global.pth'), 'wb') as f:
    f.write(magic + pickle.dumps(1001, protocol=2) + pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, protocol=2) + evil)

sizes = {n: os.path.getsize(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT))}
print(json.dumps({'torch': torch.__version__, 'python': sys.version.split()[0], 'bytes': sizes}, indent=1))
