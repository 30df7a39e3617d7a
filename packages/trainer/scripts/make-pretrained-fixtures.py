#!/usr/bin/env python3
"""Writes packages/trainer/test/fixtures/pretrained/: small ImageNet-style ResNet state dicts,
saved by PyTorch, in the three namings that DeepLabV2ResNet101.loadPretrained reads, and
pretrained.json, which says what each file holds.

Usage (Debian: apt-get install python3-torch; run from the repository root):
    /usr/bin/python3 packages/trainer/scripts/make-pretrained-fixtures.py

The network is a ResNet of the DeepLabv2 shape at a REDUCED size (stem width 2 instead of 64,
blocks [2, 1, 1, 1] instead of [3, 4, 23, 3]) so that the files stay small; the names and the
order of the keys are those of each source:

- torchvision.pth: `torchvision.models.resnet101().state_dict()`'s names and order — conv1,
  bn1 (with num_batches_tracked, int64), layer1.0.conv1 ... layer4.0.bn3, layerK.0.downsample.0
  (conv) and .1 (BatchNorm), fc (the ImageNet classifier, 10 classes here). When torchvision is
  installed, the full-size key list of this script is checked against resnet101()'s.
- deeplab-pytorch.pth: the names of the PyTorch DeepLab port the SIGN release and CaGNet build on,
  as its convert.py writes them from the DeepLab caffemodels (`scale.layer1.conv1.conv.weight`,
  `scale.layer1.conv1.bn.running_mean`, `scale.layer2.block1.reduce.conv.weight`, ...,
  `scale.aspp.stages.c0.weight`: here 5 output channels); no num_batches_tracked (the values
  come from Caffe).
- pytorch-deeplab-resnet.pth: the names of the other DeepLab port (`Scale.conv1.weight`,
  `Scale.bn1.*`, `Scale.layer1.0.conv1.weight`, `Scale.layer1.0.downsample.0.weight`, ...,
  `Scale.layer5.conv2d_list.K.*`: its ASPP, 5 classes here).
- misnamed.pth: torchvision.pth with one key renamed ('layer2.0.conv2.weight' ->
  'layer2.0.conv_2.weight'), which the loader must refuse naming it.

The same trunk tensor has the same values in every file: value[i] = a + b*sin(0.61803*i + 0.5*k)
over the flat row-major PyTorch index i, k = the tensor's index in the release's key order
(deeplab-pytorch.pth's). pretrained.json lists, for each file, each key with its shape, k, a, b and
the release name of the layer it belongs to (`layer4.block1.reduce.conv.weight`, ...; null for
heads and counters), so a test can check where each tensor must land without this script's or
the loader's mapping.
"""
import json
import os
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'pretrained')
WIDTH, BLOCKS = 2, [2, 1, 1, 1]
ASPP_OUT, FC_OUT = 5, 10
BN_PARTS = ['weight', 'bias', 'running_mean', 'running_var']


def trunk(width, blocks):
    """[(release name, torchvision name, shape)] of the ResNet trunk, in the release's order."""
    w = width
    out = [('layer1.conv1.conv.weight', 'conv1.weight', [w, 3, 7, 7])]
    out += [('layer1.conv1.bn.' + p, 'bn1.' + p, [w]) for p in BN_PARTS]
    cin = w
    for li, (n, mid) in enumerate(zip(blocks, [w, 2 * w, 4 * w, 8 * w])):
        cout = 4 * mid
        for b in range(n):
            convs = [('reduce', 1, cin if b == 0 else cout, mid, 1), ('conv3x3', 2, mid, mid, 3), ('increase', 3, mid, cout, 1)]
            rel = 'layer%d.block%d.' % (li + 2, b + 1)
            tv = 'layer%d.%d.' % (li + 1, b)
            for name, j, ci, co, k in convs:
                out.append((rel + name + '.conv.weight', tv + 'conv%d.weight' % j, [co, ci, k, k]))
                out += [(rel + name + '.bn.' + p, tv + 'bn%d.' % j + p, [co]) for p in BN_PARTS]
            if b == 0:
                out.append((rel + 'proj.conv.weight', tv + 'downsample.0.weight', [cout, cin, 1, 1]))
                out += [(rel + 'proj.bn.' + p, tv + 'downsample.1.' + p, [cout]) for p in BN_PARTS]
        cin = cout
    return out


def torchvision_order(entries):
    """The torchvision state-dict order: within a block conv1, bn1, conv2, bn2, conv3, bn3, downsample."""
    def rank(e):
        tv = e[1]
        parts = tv.split('.')
        if parts[0] in ('conv1', 'bn1'):
            return (0, 0, 0, 0 if parts[0] == 'conv1' else 1)
        layer, block = int(parts[0][5:]), int(parts[1])
        if parts[2] == 'downsample':
            return (layer, block, 9, int(parts[3]))
        j = int(parts[2][-1])
        return (layer, block, j, 0 if parts[2].startswith('conv') else 1)
    return sorted(entries, key=rank)  # stable: BN parts keep their order


def value(shape, k, a, b):
    n = 1
    for s in shape:
        n *= s
    i = torch.arange(n, dtype=torch.float64)
    return (a + b * torch.sin(0.61803 * i + 0.5 * k)).reshape(shape).to(torch.float32)


def coefficients(name, shape):
    if name.endswith('running_var'):
        return 1.25, 0.25
    if name.endswith('bn.weight'):
        return 1.0, 0.1
    if name.endswith('bn.bias') or name.endswith('running_mean') or name.endswith('.bias'):
        return 0.0, 0.1
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    return 0.0, 1.5 / fan_in ** 0.5


def check_against_torchvision():
    try:
        import torchvision
    except ImportError:
        return 'not checked: torchvision is not installed'
    want = [k for k in torchvision.models.resnet101().state_dict().keys()]
    ours = []
    for rel, tv, _ in torchvision_order(trunk(64, [3, 4, 23, 3])):
        ours.append(tv)
        if tv.endswith('running_var'):
            ours.append(tv[: -len('running_var')] + 'num_batches_tracked')
    ours += ['fc.weight', 'fc.bias']
    if ours != want:
        diff = next(i for i, (a, b) in enumerate(zip(ours + [None] * len(want), want)) if a != b)
        raise SystemExit('key list differs from torchvision resnet101 at %d: %s vs %s' % (diff, ours[diff], want[diff]))
    return 'the full-size key list equals torchvision %s resnet101().state_dict() (%d keys)' % (torchvision.__version__, len(want))


def main():
    check = check_against_torchvision()
    print(check)
    os.makedirs(OUT, exist_ok=True)
    entries = trunk(WIDTH, BLOCKS)
    tensors = {}
    for k, (rel, tv, shape) in enumerate(entries):
        a, b = coefficients(rel, shape)
        tensors[rel] = (value(shape, k, a, b), k, a, b)
    c5 = 32 * WIDTH
    files = {}

    def record(sd, key, rel, t, k=None, a=None, b=None):
        sd[key] = t
        return {'key': key, 'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''), 'release_name': rel, 'k': k, 'a': a, 'b': b}

    # torchvision
    sd, meta = OrderedDict(), []
    for rel, tv, shape in torchvision_order(entries):
        t, k, a, b = tensors[rel]
        meta.append(record(sd, tv, rel, t, k, a, b))
        if tv.endswith('running_var'):
            meta.append(record(sd, tv[: -len('running_var')] + 'num_batches_tracked', None, torch.tensor(7, dtype=torch.int64)))
    meta.append(record(sd, 'fc.weight', None, value([FC_OUT, c5], 1000, 0.0, 0.01)))
    meta.append(record(sd, 'fc.bias', None, value([FC_OUT], 1001, 0.0, 0.01)))
    files['torchvision.pth'] = (sd, meta)
    # misnamed: torchvision with one key renamed
    bad = OrderedDict((('layer2.0.conv_2.weight' if key == 'layer2.0.conv2.weight' else key), t) for key, t in sd.items())
    files['misnamed.pth'] = (bad, [dict(m, key='layer2.0.conv_2.weight') if m['key'] == 'layer2.0.conv2.weight' else m for m in meta])
    # deeplab-pytorch (the release's names, under its MSC wrapper's 'scale.')
    sd, meta = OrderedDict(), []
    for rel, tv, shape in entries:
        t, k, a, b = tensors[rel]
        meta.append(record(sd, 'scale.' + rel, rel, t, k, a, b))
    for s in range(4):
        meta.append(record(sd, 'scale.aspp.stages.c%d.weight' % s, None, value([ASPP_OUT, c5, 3, 3], 2000 + s, 0.0, 0.01)))
        meta.append(record(sd, 'scale.aspp.stages.c%d.bias' % s, None, value([ASPP_OUT], 2100 + s, 0.0, 0.01)))
    files['deeplab-pytorch.pth'] = (sd, meta)
    # pytorch-deeplab-resnet ('Scale.' + torchvision's module names; its ASPP is layer5.conv2d_list)
    sd, meta = OrderedDict(), []
    for rel, tv, shape in torchvision_order(entries):
        t, k, a, b = tensors[rel]
        meta.append(record(sd, 'Scale.' + tv, rel, t, k, a, b))
    for s in range(4):
        meta.append(record(sd, 'Scale.layer5.conv2d_list.%d.weight' % s, None, value([ASPP_OUT, c5, 3, 3], 3000 + s, 0.0, 0.01)))
        meta.append(record(sd, 'Scale.layer5.conv2d_list.%d.bias' % s, None, value([ASPP_OUT], 3100 + s, 0.0, 0.01)))
    files['pytorch-deeplab-resnet.pth'] = (sd, meta)

    summary = {
        'what': 'ImageNet-style ResNet state dicts at reduced size in three namings (see scripts/make-pretrained-fixtures.py)',
        'source': 'packages/trainer/scripts/make-pretrained-fixtures.py, PyTorch %s' % torch.__version__,
        'torchvision_check': check,
        'config': {'width': WIDTH, 'blocks': BLOCKS},
        'rule': 'value[i] = a + b*sin(0.61803*i + 0.5*k) over the flat row-major PyTorch index i (float64, then float32)',
        'files': {},
    }
    for name, (sd, meta) in files.items():
        torch.save(sd, os.path.join(OUT, name))
        summary['files'][name] = meta
        print(name, len(sd), 'keys', os.path.getsize(os.path.join(OUT, name)), 'bytes')
    with open(os.path.join(OUT, 'pretrained.json'), 'w') as f:
        files_json = summary.pop('files')
        head = json.dumps(summary, separators=(',', ':'))[:-1]
        parts = []
        for name, meta in files_json.items():
            rows = ',\n'.join(json.dumps(m, separators=(',', ':')) for m in meta)
            parts.append('%s:[\n%s]' % (json.dumps(name), rows))
        f.write(head + ',"files":{\n' + ',\n'.join(parts) + '}}\n')


if __name__ == '__main__':
    main()
