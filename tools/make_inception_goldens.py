#!/usr/bin/python3
"""tools/make_inception_goldens.py - PyTorch's answers for gancl's Inception-v3 and FID maths.

Writes tests/data/inception/*.bin (the GCGOLD01 format of tests/support/golden.h, read by
tests/test_inception.c and tests/test_fid.c):

  block_stem.bin, block_a.bin, block_b.bin, block_c.bin, block_d.bin, block_e_avg.bin,
  block_e_max.bin   one block of pytorch-fid's network at small channel counts and small
                    spatial sizes, seeded random weights and NON-trivial BatchNorm running
                    statistics; its input, parameters (pytorch-fid's state_dict names, local to
                    the block) and output.  The stem case includes the 2x - 1 input scaling.
  resize_28.bin, resize_13.bin
                    F.interpolate(size=(299, 299), mode='bilinear', align_corners=False) of
                    8-bit images / 255, as pytorch-fid resizes its input.
  net_tiny.bin      the whole pipeline (resize to 299, 2x - 1, every block, the four feature
                    taps) with every channel count divided down, weights from gancl's
                    deterministic generator (see hash_uniform), 3 images.
  net_full.bin      the same at pytorch-fid's real channel counts: 2 images, features only.
  fid_*.bin         two sets of feature vectors and pytorch-fid's FID of them (float64
                    mean and np.cov, scipy.linalg.sqrtm): full-rank pairs, a rank-deficient
                    pair (fewer samples than dimensions) and the 1e-6 fallback branch.

The network is written here from its description (torchvision's Inception-v3 with pytorch-fid's
FID blocks); before writing anything the script also builds pytorch-fid's own construction
(torchvision.models.inception.Inception3 with the Mixed blocks patched as pytorch-fid's
inception.py does) and checks that both give the same features, so the goldens pin gancl to
the real thing and not just to this file.

Numerics: parameters and inputs are drawn, rounded to float32 and stored as float32; PyTorch
then computes in float64 on exactly those values, and results are rounded once to float32.
FID values are stored as two float32 (hi + lo) so the C test sees them to ~1e-14.

Run:  /usr/bin/python3 tools/make_inception_goldens.py [OUTDIR]   (default tests/data/inception)
The output is deterministic; rerunning gives identical files.  Needs torch, torchvision, scipy.
"""

import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"GCGOLD01"
NAME_LEN = 32
BN_EPS = 0.001

# ---- the golden file format ----------------------------------------------------------------


def write_golden(path, arrays):
    out = [MAGIC, struct.pack("<I", len(arrays))]
    seen = set()
    for name, a in arrays:
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 0:
            a = a.reshape(1)
        assert 1 <= a.ndim <= 4, (name, a.shape)
        assert name not in seen, name
        seen.add(name)
        raw = name.encode("ascii")
        assert len(raw) < NAME_LEN, name
        dims = list(a.shape) + [1] * (4 - a.ndim)
        out.append(raw.ljust(NAME_LEN, b"\0"))
        out.append(struct.pack("<I4q", a.ndim, *dims))
        out.append(np.ascontiguousarray(a, dtype="<f4").tobytes())
    with open(path, "wb") as fp:
        fp.write(b"".join(out))
    print(f"{path}: {os.path.getsize(path)} bytes")


def hi_lo(v):
    """A double as two float32 whose sum restores it to ~1e-14 relative."""
    hi = np.float32(v)
    lo = np.float32(v - np.float64(hi))
    return [float(hi), float(lo)]


# ---- gancl's deterministic weights (mirrors src/models/inception_weights.c) ---------------

M64 = (1 << 64) - 1


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("ascii"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return h


def splitmix64(x):
    """Vectorised over a numpy uint64 array (arithmetic wraps modulo 2^64)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_uniform(seed, name, n, lo, hi):
    """n float32 values in [lo, hi): element i is splitmix64(key + i) >> 40 over 2^24, where
    key = fnv1a64(name) ^ splitmix64(seed).  Computed in float64, rounded once."""
    key = np.uint64(fnv1a64(name)) ^ splitmix64(np.array([seed], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        x = key + np.arange(n, dtype=np.uint64)
    u = (splitmix64(x) >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return (lo + (hi - lo) * u).astype(np.float32)


def hash_tensor(seed, name, shape):
    """gancl's gc_inception_random: He-uniform convolutions, BatchNorm away from identity."""
    n = int(np.prod(shape))
    if name.endswith(".conv.weight"):
        fan_in = int(np.prod(shape[1:]))
        a = np.sqrt(6.0 / fan_in)
        v = hash_uniform(seed, name, n, -a, a)
    elif name.endswith(".bn.weight"):
        v = hash_uniform(seed, name, n, 0.5, 1.5)
    elif name.endswith(".bn.bias"):
        v = hash_uniform(seed, name, n, -0.2, 0.2)
    elif name.endswith(".bn.running_mean"):
        v = hash_uniform(seed, name, n, -0.2, 0.2)
    elif name.endswith(".bn.running_var"):
        v = hash_uniform(seed, name, n, 0.5, 2.0)
    else:
        raise ValueError(name)
    return v.reshape(shape)


# ---- pytorch-fid's network, written from its description -----------------------------------


class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (eps 0.001, running statistics) -> ReLU."""

    def __init__(self, ic, oc, k, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(ic, oc, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(oc, eps=BN_EPS)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg3(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class Stem0(nn.Module):
    """Conv2d_1a_3x3 (s2), Conv2d_2a_3x3, Conv2d_2b_3x3 (p1), max pool 3/2.  ch: [1a, 2a, 2b]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(ic, ch[0], 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(ch[0], ch[1], 3)
        self.Conv2d_2b_3x3 = BasicConv2d(ch[1], ch[2], 3, padding=1)
        self.out_c = ch[2]

    def forward(self, x):
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        return F.max_pool2d(x, 3, stride=2)


class Stem1(nn.Module):
    """Conv2d_3b_1x1, Conv2d_4a_3x3, max pool 3/2.  ch: [3b, 4a]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.Conv2d_3b_1x1 = BasicConv2d(ic, ch[0], 1)
        self.Conv2d_4a_3x3 = BasicConv2d(ch[0], ch[1], 3)
        self.out_c = ch[1]

    def forward(self, x):
        return F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)


class BlockA(nn.Module):
    """FIDInceptionA.  ch: [1x1, 5x5_1, 5x5_2, dbl_1, dbl_2, dbl_3, pool]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.branch1x1 = BasicConv2d(ic, ch[0], 1)
        self.branch5x5_1 = BasicConv2d(ic, ch[1], 1)
        self.branch5x5_2 = BasicConv2d(ch[1], ch[2], 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(ic, ch[3], 1)
        self.branch3x3dbl_2 = BasicConv2d(ch[3], ch[4], 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch[4], ch[5], 3, padding=1)
        self.branch_pool = BasicConv2d(ic, ch[6], 1)
        self.out_c = ch[0] + ch[2] + ch[5] + ch[6]

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(avg3(x))
        return torch.cat([b1, b5, b3, bp], 1)


class BlockB(nn.Module):
    """InceptionB (Mixed_6a).  ch: [3x3, dbl_1, dbl_2, dbl_3]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.branch3x3 = BasicConv2d(ic, ch[0], 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(ic, ch[1], 1)
        self.branch3x3dbl_2 = BasicConv2d(ch[1], ch[2], 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch[2], ch[3], 3, stride=2)
        self.out_c = ch[0] + ch[3] + ic

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    """FIDInceptionC.  ch: [1x1, 7x7_1, 7x7_2, 7x7_3, dbl_1, dbl_2, dbl_3, dbl_4, dbl_5, pool]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.branch1x1 = BasicConv2d(ic, ch[0], 1)
        self.branch7x7_1 = BasicConv2d(ic, ch[1], 1)
        self.branch7x7_2 = BasicConv2d(ch[1], ch[2], (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(ch[2], ch[3], (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(ic, ch[4], 1)
        self.branch7x7dbl_2 = BasicConv2d(ch[4], ch[5], (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(ch[5], ch[6], (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(ch[6], ch[7], (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(ch[7], ch[8], (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(ic, ch[9], 1)
        self.out_c = ch[0] + ch[3] + ch[8] + ch[9]

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                  self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(avg3(x))
        return torch.cat([b1, b7, bd, bp], 1)


class BlockD(nn.Module):
    """InceptionD (Mixed_7a).  ch: [3x3_1, 3x3_2, 7x7x3_1, 7x7x3_2, 7x7x3_3, 7x7x3_4]."""

    def __init__(self, ic, ch):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(ic, ch[0], 1)
        self.branch3x3_2 = BasicConv2d(ch[0], ch[1], 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(ic, ch[2], 1)
        self.branch7x7x3_2 = BasicConv2d(ch[2], ch[3], (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(ch[3], ch[4], (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(ch[4], ch[5], 3, stride=2)
        self.out_c = ch[1] + ch[5] + ic

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for m in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = m(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """FIDInceptionE_1 (pool='avg') / FIDInceptionE_2 (pool='max').
    ch: [1x1, 3x3_1, 3x3_2a, 3x3_2b, dbl_1, dbl_2, dbl_3a, dbl_3b, pool]."""

    def __init__(self, ic, ch, pool):
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(ic, ch[0], 1)
        self.branch3x3_1 = BasicConv2d(ic, ch[1], 1)
        self.branch3x3_2a = BasicConv2d(ch[1], ch[2], (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(ch[1], ch[3], (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(ic, ch[4], 1)
        self.branch3x3dbl_2 = BasicConv2d(ch[4], ch[5], 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(ch[5], ch[6], (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(ch[5], ch[7], (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(ic, ch[8], 1)
        self.out_c = ch[0] + ch[2] + ch[3] + ch[6] + ch[7] + ch[8]

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "avg":
            bp = avg3(x)
        else:
            bp = F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


KINDS = {"stem0": Stem0, "stem1": Stem1, "a": BlockA, "b": BlockB, "c": BlockC, "d": BlockD,
         "e_avg": lambda ic, ch: BlockE(ic, ch, "avg"),
         "e_max": lambda ic, ch: BlockE(ic, ch, "max")}

# pytorch-fid's network: (attribute name or None for the stem, kind, channels).  The feature
# taps (64, 192, 768, 2048) are the outputs of stages 0, 1, 9 and 12 (global average pooled).
FULL = [
    (None, "stem0", [32, 32, 64]),
    (None, "stem1", [80, 192]),
    ("Mixed_5b", "a", [64, 48, 64, 64, 96, 96, 32]),
    ("Mixed_5c", "a", [64, 48, 64, 64, 96, 96, 64]),
    ("Mixed_5d", "a", [64, 48, 64, 64, 96, 96, 64]),
    ("Mixed_6a", "b", [384, 64, 96, 96]),
    ("Mixed_6b", "c", [192, 128, 128, 192, 128, 128, 128, 128, 192, 192]),
    ("Mixed_6c", "c", [192, 160, 160, 192, 160, 160, 160, 160, 192, 192]),
    ("Mixed_6d", "c", [192, 160, 160, 192, 160, 160, 160, 160, 192, 192]),
    ("Mixed_6e", "c", [192, 192, 192, 192, 192, 192, 192, 192, 192, 192]),
    ("Mixed_7a", "d", [192, 320, 192, 192, 192, 192]),
    ("Mixed_7b", "e_avg", [320, 384, 384, 384, 448, 384, 384, 384, 192]),
    ("Mixed_7c", "e_max", [320, 384, 384, 384, 448, 384, 384, 384, 192]),
]
TAPS = {0: 64, 1: 192, 9: 768, 12: 2048}


def tiny_config():
    """FULL with every channel count divided by 16 (at least 2): same shapes of computation."""
    return [(name, kind, [max(2, c // 16) for c in ch]) for name, kind, ch in FULL]


class Net(nn.Module):
    """The stages of FULL (or a variant) after resize and 2x - 1; returns the pooled taps."""

    def __init__(self, config):
        super().__init__()
        ic = 3
        self.order = []
        for i, (name, kind, ch) in enumerate(config):
            m = KINDS[kind](ic, ch)
            ic = m.out_c
            if name is None:
                # The stem's convolutions are attributes of the network itself.
                for sub, mod in m.named_children():
                    setattr(self, sub, mod)
                self.order.append(("stem", kind, m))
            else:
                setattr(self, name, m)
                self.order.append((name, kind, m))

    def forward(self, x):
        if x.shape[1] == 1:  # gray: R = G = B, as PIL's convert("RGB") gives pytorch-fid
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        taps = {}
        for i, (_, _, m) in enumerate(self.order):
            x = m(x)
            if i in TAPS:
                taps[TAPS[i]] = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        return taps


def fill_hash(module, seed):
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.startswith("fc."):  # present in pytorch-fid's file, unused for FID
                n = int(np.prod(t.shape))
                t.copy_(torch.from_numpy(hash_uniform(seed, name, n, -0.01, 0.01)).view(t.shape))
                continue
            t.copy_(torch.from_numpy(hash_tensor(seed, name, tuple(t.shape))))


# ---- pytorch-fid's own construction, for the cross-check -----------------------------------


def pytorch_fid_reference():
    """pytorch-fid's fid_inception_v3() without the download: torchvision's Inception3 with
    the Mixed blocks replaced by FID blocks whose forward is pytorch-fid's."""
    import torchvision.models.inception as tvi

    class FIDInceptionA(tvi.InceptionA):
        def forward(self, x):
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return torch.cat([b1, b5, b3, bp], 1)

    class FIDInceptionC(tvi.InceptionC):
        def forward(self, x):
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_1(x)
            bd = self.branch7x7dbl_3(self.branch7x7dbl_2(bd))
            bd = self.branch7x7dbl_5(self.branch7x7dbl_4(bd))
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return torch.cat([b1, b7, bd, bp], 1)

    class FIDInceptionE(tvi.InceptionE):
        def __init__(self, ic, maxpool):
            super().__init__(ic)
            self.maxpool = maxpool

        def forward(self, x):
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
            if self.maxpool:
                bp = F.max_pool2d(x, 3, 1, 1)
            else:
                bp = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)

    net = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, maxpool=False)
    net.Mixed_7c = FIDInceptionE(2048, maxpool=True)
    return net


def pytorch_fid_features(net, x, upto=2048):
    """pytorch-fid's InceptionV3.forward with the output blocks up to `upto` dims."""
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    blocks = [
        [net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, nn.MaxPool2d(3, 2)],
        [net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, nn.MaxPool2d(3, 2)],
        [net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c,
         net.Mixed_6d, net.Mixed_6e],
        [net.Mixed_7a, net.Mixed_7b, net.Mixed_7c],
    ]
    out = {}
    for dims, block in zip((64, 192, 768, 2048), blocks):
        for m in block:
            x = m(x)
        out[dims] = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        if dims == upto:
            break
    return out


# ---- cases ---------------------------------------------------------------------------------


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float32).astype(np.float64))


def randomise_block(module, rng):
    """Seeded float32 weights with BatchNorm statistics far from (0, 1)."""
    params = []
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            shape = tuple(t.shape)
            if name.endswith("conv.weight"):
                fan_in = int(np.prod(shape[1:]))
                v = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
            elif name.endswith("bn.weight"):
                v = rng.uniform(0.5, 1.5, shape)
            elif name.endswith("bn.bias"):
                v = rng.normal(0.0, 0.3, shape)
            elif name.endswith("running_mean"):
                v = rng.normal(0.0, 0.5, shape)
            else:
                v = rng.uniform(0.3, 2.5, shape)
            v = v.astype(np.float32)
            t.copy_(torch.from_numpy(v.astype(np.float64)))
            params.append((name, v))
    return params


def block_case(seed, kind, ic, ch, n, h, w, with_scale=False, x01=False):
    rng = np.random.default_rng(seed)
    m = KINDS[kind](ic, ch).double().eval()
    params = randomise_block(m, rng)
    if x01:
        x = rng.uniform(0.0, 1.0, (n, ic, h, w)).astype(np.float32)
    else:
        x = rng.standard_normal((n, ic, h, w)).astype(np.float32)
    with torch.no_grad():
        X = t64(x)
        y = m(2 * X - 1 if with_scale else X)
    arrays = [("param.kind", list(KINDS).index(kind)), ("param.in_c", ic), ("param.ch", ch),
              ("param.scale_input", int(with_scale)), ("x", x), ("y", y)]
    return arrays + params, m


def stem_case(seed):
    """Both stem stages at small channel counts; input in [0, 1], scaled 2x - 1 first."""
    rng = np.random.default_rng(seed)
    s0, s1 = Stem0(3, [4, 5, 6]).double().eval(), Stem1(6, [5, 7]).double().eval()
    params = randomise_block(s0, rng) + randomise_block(s1, rng)
    x = rng.uniform(0.0, 1.0, (2, 3, 45, 41)).astype(np.float32)
    with torch.no_grad():
        y0 = s0(2 * t64(x) - 1)
        y = s1(y0)
    return [("param.ch0", [4, 5, 6]), ("param.ch1", [5, 7]), ("x", x), ("y0", y0),
            ("y", y)] + params


def resize_case(seed, n, c, h, w):
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, 255, (n, c, h, w), endpoint=True) / 255.0).astype(np.float32)
    y = F.interpolate(t64(x), size=(299, 299), mode="bilinear", align_corners=False)
    return [("x", x), ("y", y)]


def net_case(config, seed, images):
    net = Net(config).double().eval()
    fill_hash(net, seed)
    arrays = [("param.seed", seed)]
    for i, x in enumerate(images):
        with torch.no_grad():
            taps = net(t64(x))
        arrays.append((f"x{i}", x))
        for dims, f in taps.items():
            arrays.append((f"f{dims}_{i}", f))
    return arrays, net


def image(rng, n, c, h, w):
    return (rng.integers(0, 255, (n, c, h, w), endpoint=True) / 255.0).astype(np.float32)


def cross_check_full(net, images):
    """pytorch-fid's construction with the same weights must give the same features."""
    ref = pytorch_fid_reference().double().eval()
    missing, unexpected = ref.load_state_dict(net.state_dict(), strict=False)
    assert not unexpected, unexpected
    assert all(k.startswith("fc.") for k in missing), missing
    for x in images:
        with torch.no_grad():
            a, b = net(t64(x)), pytorch_fid_features(ref, t64(x))
        for dims in a:
            err = (a[dims] - b[dims]).abs().max().item()
            scale = b[dims].abs().max().item()
            assert err <= 1e-12 * max(scale, 1.0), (dims, err, scale)
            print(f"  cross-check vs torchvision+pytorch-fid blocks: {dims}-d max |diff| "
                  f"{err:.2e} (max |f| {scale:.3g})")


# ---- FID -----------------------------------------------------------------------------------


def pytorch_fid_distance(mu1, sigma1, mu2, sigma2, eps=1e-6, force_offset=False):
    """pytorch-fid's calculate_frechet_distance (force_offset: take the fallback branch)."""
    from scipy import linalg
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if force_offset or not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def features(rng, n, d):
    """n float32 feature vectors of d correlated, non-negative-mean components."""
    mix = rng.standard_normal((d, d)) * rng.uniform(0.2, 2.0, d)
    x = rng.standard_normal((n, d)) @ mix + rng.uniform(0.0, 3.0, d)
    return f32(x)


def fid_case(seed, d, n, force_offset=False):
    """Two feature sets and pytorch-fid's FID of them: mean and np.cov in float64 of the
    float32 features (as get_activations + calculate_activation_statistics do), then
    calculate_frechet_distance.  gancl computes its statistics from the same features."""
    rng = np.random.default_rng(seed)
    x1, x2 = features(rng, n, d), features(rng, n, d)
    stats = []
    for x in (x1, x2):
        act = x.astype(np.float64)
        stats += [np.mean(act, axis=0), np.cov(act, rowvar=False)]
    v = pytorch_fid_distance(*stats, force_offset=force_offset)
    return [("param.offset", 1e-6 if force_offset else 0.0), ("fid", hi_lo(v)), ("x1", x1),
            ("x2", x2)]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/inception"
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)

    write_golden(f"{out}/block_stem.bin", stem_case(401))
    blocks = [
        ("a", 5, [3, 2, 4, 3, 4, 5, 2], 2, 7, 9),
        ("b", 5, [6, 3, 4, 5], 2, 9, 11),
        ("c", 6, [3, 4, 3, 5, 4, 3, 4, 2, 3, 3], 2, 9, 8),
        ("d", 6, [3, 5, 4, 3, 4, 5], 2, 11, 9),
        ("e_avg", 7, [3, 4, 3, 2, 5, 4, 3, 2, 2], 2, 5, 6),
        ("e_max", 7, [3, 4, 3, 2, 5, 4, 3, 2, 2], 2, 5, 6),
    ]
    for i, (kind, ic, ch, n, h, w) in enumerate(blocks):
        arrays, _ = block_case(410 + i, kind, ic, ch, n, h, w)
        write_golden(f"{out}/block_{kind}.bin", arrays)

    write_golden(f"{out}/resize_28.bin", resize_case(420, 1, 1, 28, 28))
    write_golden(f"{out}/resize_13.bin", resize_case(421, 1, 1, 13, 13))

    rng = np.random.default_rng(430)
    tiny_images = [image(rng, 2, 1, 28, 28), image(rng, 1, 3, 23, 31)]
    arrays, _ = net_case(tiny_config(), 7, tiny_images)
    write_golden(f"{out}/net_tiny.bin", arrays)

    full_images = [image(rng, 1, 1, 28, 28), image(rng, 1, 3, 37, 41)]
    arrays, net = net_case(FULL, 11, full_images)
    for name, a in arrays:
        if name.startswith("f"):
            a = np.asarray(a)
            print(f"  {name}: mean {a.mean():.4g}, std {a.std():.4g}, max {a.max():.4g}")
    cross_check_full(net, full_images)
    write_golden(f"{out}/net_full.bin", arrays)

    write_golden(f"{out}/fid_spd_37.bin", fid_case(440, 37, 200))
    write_golden(f"{out}/fid_spd_64.bin", fid_case(441, 64, 300))
    # Fewer samples than dimensions: both covariances singular, as with < 2048 images.
    write_golden(f"{out}/fid_rank_deficient.bin", fid_case(442, 48, 20))
    # pytorch-fid's fallback branch: sqrtm((S1 + 1e-6 I)(S2 + 1e-6 I)).
    write_golden(f"{out}/fid_offset.bin", fid_case(443, 48, 20, force_offset=True))


if __name__ == "__main__":
    main()
