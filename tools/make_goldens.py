#!/usr/bin/python3
"""tools/make_goldens.py - writes tests/data/goldens/*.bin, PyTorch's answers for gancl's ops.

tests/test_golden.c runs each gc_* op on the inputs stored here and compares its outputs with
PyTorch's, so the op semantics (padding, output_padding, count_include_pad, running statistics,
align_corners=False, Adam's bias correction and eps placement, ...) are pinned to PyTorch and
not merely to the other gancl backend.

Run:  /usr/bin/python3 tools/make_goldens.py [OUTDIR]   (default: tests/data/goldens)
The output is deterministic (fixed seeds, one thread), so rerunning it gives byte-identical
files; commit them.  All files together are about 770 KB; the 299x299 resizes dominate, which
is why one of them stores only a subset of its output rows (see resize_case).

Numerics: inputs are drawn in float32 and stored as float32.  PyTorch then computes in
float64 on exactly those values, and the results are rounded once to float32.  Scalar
hyper-parameters (eps, momentum, lr, betas) are likewise rounded to float32 first, because the C
ops receive them as float.  So a golden is the exact answer to within one float32 rounding, and
the test's tolerance measures only the gancl op's own error.

File format (all integers and floats little-endian), also documented in tests/support/golden.h:
    char     magic[8] = "GCGOLD01"
    uint32   count                      number of arrays
    count times:
        char     name[32]               NUL-padded ASCII, at least one NUL
        uint32   ndim                   1..4
        int64    dims[4]                dims[i] >= 1 for i < ndim, 1 for i >= ndim
        float32  data[prod(dims)]       row-major (NCHW)
and nothing after the last array.  Scalars are 1-element arrays named "param.<name>"
(param.stride_h, param.eps, ...).  Integer parameters are stored as exact floats.
"""

import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

MAGIC = b"GCGOLD01"
NAME_LEN = 32


def f32(v):
    """A Python float rounded to float32, as the C side will see it."""
    return float(np.float32(v))


def t64(a):
    """float32 numpy array -> float64 torch tensor holding exactly the same values."""
    return torch.from_numpy(np.asarray(a, dtype=np.float32).astype(np.float64))


def write_golden(path, arrays):
    """arrays: list of (name, array-like).  Writes the file described in the module docstring."""
    out = [MAGIC, struct.pack("<I", len(arrays))]
    seen = set()
    for name, a in arrays:
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 0:
            a = a.reshape(1)
        assert 1 <= a.ndim <= 4, (name, a.shape)
        assert all(d >= 1 for d in a.shape), (name, a.shape)
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


class Gen:
    """A seeded source of float32 inputs; one per case so cases do not shift each other."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, *shape, std=1.0, mean=0.0):
        return (self.rng.standard_normal(shape) * std + mean).astype(np.float32)

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def ints(self, lo, hi, *shape):
        return self.rng.integers(lo, hi, size=shape, endpoint=True).astype(np.float32)


def grads(outputs, inputs, grad_outputs):
    g = torch.autograd.grad(outputs, inputs, grad_outputs)
    return [x.detach() for x in g]


# ---- convolutions --------------------------------------------------------------------------


def conv_case(seed, n, c, h, w, oc, kh, kw, stride, pad, transposed=False, out_pad=(0, 0)):
    g = Gen(seed)
    x = g.normal(n, c, h, w)
    wshape = (c, oc, kh, kw) if transposed else (oc, c, kh, kw)
    fan_in = c * kh * kw
    wt = g.normal(*wshape, std=1.0 / np.sqrt(fan_in))
    b = g.normal(oc, std=0.5)
    X, W, B = t64(x).requires_grad_(), t64(wt).requires_grad_(), t64(b).requires_grad_()
    if transposed:
        Y = F.conv_transpose2d(X, W, B, stride=stride, padding=pad, output_padding=out_pad)
    else:
        Y = F.conv2d(X, W, B, stride=stride, padding=pad)
    dy = g.normal(*Y.shape)
    dx, dw, db = grads(Y, (X, W, B), t64(dy))
    return [
        ("param.stride_h", stride[0]), ("param.stride_w", stride[1]),
        ("param.pad_h", pad[0]), ("param.pad_w", pad[1]),
        ("param.out_pad_h", out_pad[0]), ("param.out_pad_w", out_pad[1]),
        ("x", x), ("w", wt), ("b", b), ("y", Y), ("dy", dy), ("dx", dx), ("dw", dw), ("db", db),
    ]


# ---- pooling -------------------------------------------------------------------------------


def pool_case(seed, kind, k, s, p, count_include_pad=True, ties=False, shape=(2, 3, 13, 12)):
    g = Gen(seed)
    # Mostly negative values: a max pool that pads with 0 instead of -inf then gets the border
    # windows wrong.  ties=True draws few distinct values to pin "the first maximum wins".
    x = g.ints(-3, 1, *shape) if ties else g.normal(*shape, mean=-0.7)
    X = t64(x).requires_grad_()
    if kind == "max":
        Y = F.max_pool2d(X, k, s, p)
    else:
        Y = F.avg_pool2d(X, k, s, p, count_include_pad=count_include_pad)
    dy = g.normal(*Y.shape)
    (dx,) = grads(Y, (X,), t64(dy))
    return [
        ("param.kernel_h", k), ("param.kernel_w", k), ("param.stride_h", s),
        ("param.stride_w", s), ("param.pad_h", p), ("param.pad_w", p),
        ("param.count_include_pad", 1 if count_include_pad else 0),
        ("x", x), ("y", Y), ("dy", dy), ("dx", dx),
    ]


# ---- batchnorm -----------------------------------------------------------------------------


def bn_train_case(seed, eps, momentum=0.1, shape=(3, 5, 7, 9)):
    g = Gen(seed)
    c = shape[1]
    # Per-channel offsets and scales so that the mean and variance matter.
    x = (g.normal(*shape) * g.uniform(0.5, 3.0, 1, c, 1, 1) + g.normal(1, c, 1, 1, std=2.0))
    x = x.astype(np.float32)
    gamma = g.uniform(0.5, 1.5, c)
    beta = g.normal(c, std=0.5)
    rm0 = g.normal(c, std=0.3)
    rv0 = g.uniform(0.5, 2.0, c)
    eps, momentum = f32(eps), f32(momentum)
    X, G, Bt = (t64(a).requires_grad_() for a in (x, gamma, beta))
    rm, rv = t64(rm0), t64(rv0)
    Y = F.batch_norm(X, rm, rv, G, Bt, training=True, momentum=momentum, eps=eps)
    dims = (0, 2, 3)
    mean = X.detach().mean(dims)
    invstd = 1.0 / torch.sqrt(X.detach().var(dims, unbiased=False) + eps)
    dy = g.normal(*shape)
    dx, dgamma, dbeta = grads(Y, (X, G, Bt), t64(dy))
    return [
        ("param.eps", eps), ("param.momentum", momentum),
        ("x", x), ("gamma", gamma), ("beta", beta),
        ("running_mean_in", rm0), ("running_var_in", rv0),
        ("y", Y), ("save_mean", mean), ("save_invstd", invstd),
        ("running_mean_out", rm), ("running_var_out", rv),
        ("dy", dy), ("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta),
    ]


def bn_eval_case(seed, eps, shape=(3, 5, 7, 9)):
    g = Gen(seed)
    c = shape[1]
    x = g.normal(*shape, std=2.0, mean=0.5)
    gamma = g.uniform(0.5, 1.5, c)
    beta = g.normal(c, std=0.5)
    rm = g.normal(c, std=1.0)
    rv = g.uniform(0.2, 4.0, c)
    eps = f32(eps)
    Y = F.batch_norm(t64(x), t64(rm), t64(rv), t64(gamma), t64(beta), training=False, eps=eps)
    return [
        ("param.eps", eps), ("x", x), ("gamma", gamma), ("beta", beta),
        ("running_mean", rm), ("running_var", rv), ("y", Y),
    ]


# ---- resize, loss, optimiser, dense, activations ---------------------------------------------


# A full 299x299 output is 350 KiB.  One 299 case keeps every row; the other keeps the first
# and last 12 rows (where the source coordinate is clamped) and every 5th row between, each
# row complete: enough to catch a wrong scale or offset while keeping the files small.
SPARSE_ROWS_299 = sorted(set(range(12)) | set(range(12, 287, 5)) | set(range(287, 299)))


def resize_case(seed, n, c, h, w, oh, ow, rows=None):
    x = Gen(seed).normal(n, c, h, w)
    Y = F.interpolate(t64(x), size=(oh, ow), mode="bilinear", align_corners=False)
    if rows is None:
        return [("x", x), ("y", Y)]
    # y_rows holds output rows `rows` of every (n, c) plane: shape (n, c, len(rows), ow).
    return [("param.out_h", oh), ("rows", np.float32(rows)), ("x", x),
            ("y_rows", Y[:, :, rows, :])]


def bce_case(seed, target, scale, n=37):
    g = Gen(seed)
    z = g.uniform(-8.0, 8.0, n, 1)
    z[0, 0], z[1, 0], z[2, 0], z[3, 0] = 100.0, -100.0, 0.0, 30.0
    target, scale = f32(target), f32(scale)
    Z = t64(z).requires_grad_()
    loss = F.binary_cross_entropy_with_logits(Z, torch.full_like(Z, target), reduction="mean")
    (dz,) = grads(scale * loss, (Z,), None)
    return [("param.target", target), ("param.scale", scale), ("z", z), ("loss", loss),
            ("dz", dz)]


def softmax_ce_case(seed, n, k, scale):
    """Labels are class indices stored as float32 (gancl's tensors are fp32)."""
    g = Gen(seed)
    z = g.uniform(-8.0, 8.0, n, k)
    labels = g.ints(0, k - 1, n)
    # Large logits (exp overflows without the max subtraction) and a row of
    # tied maxima (the argmax is the first one, as torch.argmax documents).
    z[0, :] = -100.0
    z[0, k - 1] = 100.0
    if k > 2:
        z[1, :] = 3.0
        z[2, :2] = 50.0
    Z = t64(z).requires_grad_()
    L = torch.from_numpy(labels.astype(np.int64))
    loss = F.cross_entropy(Z, L, reduction="mean")
    scale = f32(scale)
    (dz,) = grads(scale * loss, (Z,), None)
    correct = (Z.detach().argmax(dim=1) == L).sum().double()
    return [("param.scale", scale), ("z", z), ("labels", labels), ("loss", loss),
            ("correct", correct), ("dz", dz)]


def class_case(seed, kind, n, k, shape, y_col=False):
    """Class conditioning with a table e (K, F) and labels stored as float32.

    embed:    y = y0 + e[labels] (y of any shape (N, ...), F = its per-sample size);
              de = index_add of dy over the labels.
    project:  y = y0 + <e[labels], x.flatten(1)> (y (N) or (N, 1)); dx = dx0 + dy * e[labels],
              de = index_add of dy * x.  y0 and dx0 are there because both ops accumulate.
    With K > 1 the last class gets no rows, so its row of de must stay as it was."""
    g = Gen(seed)
    f = int(np.prod(shape))
    labels = g.ints(0, k - 2, n) if k > 1 else g.ints(0, 0, n)
    e = g.normal(k, f)
    L = torch.from_numpy(labels.astype(np.int64))
    E = t64(e).requires_grad_()
    if kind == "embed":
        y0 = g.normal(n, *shape)
        Y = t64(y0) + E.index_select(0, L).reshape(n, *shape)
        dy = g.normal(n, *shape)
        (de,) = grads(Y, (E,), t64(dy))
        # index_add states the same gradient directly; both must agree.
        ref = torch.zeros(k, f, dtype=torch.float64).index_add_(0, L, t64(dy).reshape(n, f))
        assert torch.allclose(de, ref, rtol=0, atol=1e-12)
        return [("e", e), ("labels", labels), ("y0", y0), ("y", Y), ("dy", dy), ("de", de)]
    x = g.normal(n, *shape)
    X = t64(x).requires_grad_()
    ycols = (n, 1) if y_col else (n,)
    y0 = g.normal(*ycols)
    rows = E.gather(0, L.reshape(n, 1).expand(n, f))
    Y = t64(y0) + (rows * X.reshape(n, f)).sum(dim=1).reshape(ycols)
    dy = g.normal(*ycols)
    dx0 = g.normal(n, *shape)
    dx, de = grads(Y, (X, E), t64(dy))
    ref = torch.zeros(k, f, dtype=torch.float64).index_add_(
        0, L, t64(dy).reshape(n, 1) * t64(x).reshape(n, f))
    assert torch.allclose(de, ref, rtol=0, atol=1e-12)
    return [("e", e), ("labels", labels), ("x", x), ("y0", y0), ("y", Y), ("dy", dy),
            ("dx0", dx0), ("dx", t64(dx0) + dx), ("de", de)]


def adam_case(seed, n=113, steps=3):
    g = Gen(seed)
    lr, b1, b2, eps = f32(2e-4), f32(0.5), f32(0.999), f32(1e-8)
    # DCGAN-sized weights (N(0, 0.02)) so an update is ~1% of a weight and a wrong step shows.
    p0 = g.normal(n, std=0.02)
    P = t64(p0).requires_grad_()
    opt = torch.optim.Adam([P], lr=lr, betas=(b1, b2), eps=eps)
    arrays = [("param.lr", lr), ("param.beta1", b1), ("param.beta2", b2), ("param.eps", eps),
              ("param.steps", steps), ("param0", p0)]
    for k in range(1, steps + 1):
        grad = g.normal(n, std=0.1)
        # Tiny gradients, comparable to eps, pin where eps goes (outside the square root);
        # zero gradients must leave the weight alone on the first step.
        grad[:4] = np.float32([1e-9, -3e-9, 1e-8, 0.0])
        grad[4] = 0.0 if k == 1 else grad[4]
        P.grad = t64(grad)
        opt.step()
        st = opt.state[P]
        # Copies: the optimiser updates these tensors in place on the next step.
        arrays += [(f"grad{k}", grad), (f"param{k}", P.detach().clone()),
                   (f"m{k}", st["exp_avg"].clone()), (f"v{k}", st["exp_avg_sq"].clone())]
    return arrays


def dense_case(seed, xshape, out):
    g = Gen(seed)
    x = g.normal(*xshape)
    fan_in = int(np.prod(xshape[1:]))
    w = g.normal(out, fan_in, std=1.0 / np.sqrt(fan_in))
    b = g.normal(out, std=0.5)
    X, W, B = t64(x).requires_grad_(), t64(w).requires_grad_(), t64(b).requires_grad_()
    Y = F.linear(X.flatten(1), W, B)
    dy = g.normal(*Y.shape)
    dx, dw, db = grads(Y, (X, W, B), t64(dy))
    return [("x", x), ("w", w), ("b", b), ("y", Y), ("dy", dy), ("dx", dx), ("dw", dw),
            ("db", db)]


def act_case(seed, name, slope=0.0, n=257):
    g = Gen(seed)
    x = g.normal(n, std=3.0)
    # Exact zeros (the derivative's convention at 0), saturation and tiny values.
    x[:10] = np.float32([0.0, -0.0, 1e-7, -1e-7, 20.0, -20.0, 100.0, -100.0, 0.5, -0.5])
    X = t64(x).requires_grad_()
    if name == "relu":
        Y = F.relu(X)
    elif name == "leaky_relu":
        slope = f32(slope)
        Y = F.leaky_relu(X, slope)
    elif name == "sigmoid":
        Y = torch.sigmoid(X)
    else:
        Y = torch.tanh(X)
    dy = g.normal(n)
    (dx,) = grads(Y, (X,), t64(dy))
    return [("param.slope", slope), ("x", x), ("y", Y), ("dy", dy), ("dx", dx)]


CASES = {
    # conv2d: (seed, n, c, h, w, oc, kh, kw, stride, pad[, transposed, out_pad])
    "conv2d_k3_s2_p1": lambda: conv_case(101, 3, 5, 13, 11, 7, 3, 3, (2, 2), (1, 1)),
    "conv2d_k1x3_s1_p0x1": lambda: conv_case(102, 3, 5, 9, 7, 4, 1, 3, (1, 1), (0, 1)),
    "conv2d_k7x1_s1_p3x0": lambda: conv_case(103, 3, 5, 9, 7, 4, 7, 1, (1, 1), (3, 0)),
    "convt_k3_s2_p1_op1": lambda: conv_case(111, 3, 5, 7, 5, 4, 3, 3, (2, 2), (1, 1), True,
                                            (1, 1)),
    "convt_k4_s2_p0": lambda: conv_case(112, 3, 5, 5, 6, 3, 4, 4, (2, 2), (0, 0), True),
    "convt_k4_s2_p1": lambda: conv_case(113, 3, 5, 5, 6, 3, 4, 4, (2, 2), (1, 1), True),
    # pooling: (seed, kind, k, s, p, count_include_pad).  Width 12 with k3 s2 p0 leaves the
    # last column outside every window, so its gradient must be written as 0.
    "maxpool_k3_s2_p0": lambda: pool_case(201, "max", 3, 2, 0),
    "maxpool_k3_s2_p1": lambda: pool_case(202, "max", 3, 2, 1),
    "maxpool_k3_s2_p1_ties": lambda: pool_case(203, "max", 3, 2, 1, ties=True),
    "avgpool_k3_s1_p1_incl": lambda: pool_case(211, "avg", 3, 1, 1, True),
    "avgpool_k3_s1_p1_excl": lambda: pool_case(212, "avg", 3, 1, 1, False),
    "avgpool_k3_s2_p1_incl": lambda: pool_case(213, "avg", 3, 2, 1, True),
    "avgpool_k3_s2_p1_excl": lambda: pool_case(214, "avg", 3, 2, 1, False),
    "avgpool_k3_s2_p0_excl": lambda: pool_case(215, "avg", 3, 2, 0, False),
    # batchnorm
    "bn_train_eps1e-5": lambda: bn_train_case(301, 1e-5),
    "bn_train_eps1e-3": lambda: bn_train_case(302, 1e-3),
    "bn_eval": lambda: bn_eval_case(303, 1e-5),
    # bilinear resize, align_corners=False: (seed, n, c, h, w, out_h, out_w[, rows kept])
    "resize_13x11_to_29x17": lambda: resize_case(401, 2, 3, 13, 11, 29, 17),
    "resize_29x17_to_7x5": lambda: resize_case(402, 2, 3, 29, 17, 7, 5),
    "resize_28x28_to_299": lambda: resize_case(403, 1, 1, 28, 28, 299, 299),
    "resize_13x13_to_299": lambda: resize_case(404, 1, 1, 13, 13, 299, 299, SPARSE_ROWS_299),
    # BCE with logits, one target per call: (seed, target, scale)
    "bce_t1": lambda: bce_case(501, 1.0, 1.0),
    "bce_t0": lambda: bce_case(502, 0.0, 0.5),
    "bce_t0.9": lambda: bce_case(503, 0.9, 1.0),
    # softmax cross-entropy with class labels: (seed, n, k, scale)
    "softmax_ce_n37_k10": lambda: softmax_ce_case(511, 37, 10, 1.0),
    "softmax_ce_n5_k1000": lambda: softmax_ce_case(512, 5, 1000, 0.5),
    "softmax_ce_n9_k2": lambda: softmax_ce_case(513, 9, 2, 1.0),
    # class conditioning: (seed, kind, n, k, per-sample shape[, y as (N, 1)])
    "class_embed_n37_k7_f53": lambda: class_case(521, "embed", 37, 7, (53,)),
    "class_embed_n5_k3_4d": lambda: class_case(522, "embed", 5, 3, (2, 3, 3)),
    "class_project_n37_k10": lambda: class_case(523, "project", 37, 10, (61,)),
    "class_project_n9_k4_4d": lambda: class_case(524, "project", 9, 4, (3, 5, 7), y_col=True),
    "class_project_n1_k1": lambda: class_case(525, "project", 1, 1, (17,)),
    # Adam, three steps
    "adam_3steps": lambda: adam_case(601),
    # dense
    "dense_2d": lambda: dense_case(701, (3, 37), 23),
    "dense_4d": lambda: dense_case(702, (3, 4, 3, 3), 11),
    # activations
    "act_relu": lambda: act_case(801, "relu"),
    "act_leaky_relu": lambda: act_case(802, "leaky_relu", 0.2),
    "act_sigmoid": lambda: act_case(803, "sigmoid"),
    "act_tanh": lambda: act_case(804, "tanh"),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data",
                                                                "goldens")
    os.makedirs(outdir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    total = 0
    for name, make in CASES.items():
        path = os.path.join(outdir, name + ".bin")
        write_golden(path, make())
        size = os.path.getsize(path)
        total += size
        print(f"{size:8d}  {name}.bin")
    print(f"{total:8d}  total")


if __name__ == "__main__":
    main()
