#!/usr/bin/python3
"""tools/make_fuzz_corpus.py GANCL - writes the seed corpora of tests/fuzz/corpus/.

Small valid files of every kind each reader accepts, plus a few invalid ones
that sit next to interesting checks (lying headers, truncation, reversed
offsets).  GANCL is a built gancl binary: checkpoints are real ones it writes
for tiny models.  The outputs are committed; nothing runs this at build time.

Files named by a 40-digit SHA-1 are not made here: they are inputs libFuzzer
found in 10-minute runs (png, idx and safetensors with libpng, zlib and cJSON
instrumented too), reduced with -merge to those adding coverage and kept
below 300 bytes each, so a 30-second CI run starts deep.  This script leaves
them alone.
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus")
rng = np.random.default_rng(6)


def put(kind, name, data):
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- IDX ----------------------------------------------------------------------
def idx(dims, payload=None):
    n = int(np.prod(dims))
    if payload is None:
        payload = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    return bytes([0, 0, 8, len(dims)]) + struct.pack(">%dI" % len(dims), *dims) + payload


def gz(b):
    return gzip.compress(b, mtime=0)


images = idx([3, 4, 5])
labels = idx([7])
put("idx", "images-3x4x5", images)
put("idx", "labels-7", labels)
put("idx", "images-3x4x5.gz", gz(images))
put("idx", "labels-7.gz", gz(labels))
put("idx", "images-2x28x28.gz", gz(idx([2, 28, 28])))
put("idx", "bad-truncated", images[:-3])
put("idx", "bad-trailing", labels + b"\x00")
put("idx", "bad-lying-count", bytes([0, 0, 8, 3]) + struct.pack(">III", 0xFFFFFFFF, 16384, 16384))
put("idx", "bad-gzip-truncated", gz(images)[:-6])
put("idx", "bad-dtype", bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 2) + b"\0" * 8)
put("idx", "bad-gzip-concat", gz(images[:10]) + gz(images[10:]))

# ---- PNG ----------------------------------------------------------------------
def png(img, **kw):
    b = io.BytesIO()
    img.save(b, format="PNG", **kw)
    return b.getvalue()


def arr(h, w, c=None, dtype=np.uint8, hi=256):
    shape = (h, w) if c is None else (h, w, c)
    return rng.integers(0, hi, shape).astype(dtype)


put("png", "gray8-5x3.png", png(Image.fromarray(arr(3, 5), "L")))
put("png", "gray1-9x4.png", png(Image.fromarray(arr(4, 9, hi=2).astype(bool))))
put("png", "gray16-3x3.png", png(Image.fromarray(arr(3, 3, dtype=np.uint16, hi=65536), "I;16")))
put("png", "rgb-4x3.png", png(Image.fromarray(arr(3, 4, 3), "RGB")))
put("png", "rgba-3x2.png", png(Image.fromarray(arr(2, 3, 4), "RGBA")))
put("png", "la-2x2.png", png(Image.fromarray(arr(2, 2, 2), "LA")))
pal = Image.fromarray(arr(5, 6, hi=4), "P")
pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
put("png", "palette2-6x5.png", png(pal, bits=2))
put("png", "rgb-interlaced-8x8.png", png(Image.fromarray(arr(8, 8, 3), "RGB"), interlace=1))
good = png(Image.fromarray(arr(3, 5), "L"))
put("png", "bad-truncated.png", good[: len(good) // 2])


def chunk(tag, body):
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


sig = b"\x89PNG\r\n\x1a\n"
huge = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", 32768, 32768, 8, 0, 0, 0, 0))
huge += chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
put("png", "bad-huge-ihdr.png", huge)
# A chunk claiming 2 GiB (fuzz_png's finding: libpng allocated it first).
lying = good[:33] + struct.pack(">I", 0x7E000000) + b"sPLTpal\0" + good[33:]
put("png", "bad-lying-chunk.png", lying)

# ---- safetensors ----------------------------------------------------------------
def st(tensors, meta=None, pad=True):
    """tensors: list of (name, dtype, shape, bytes)."""
    hdr, off, data = {}, 0, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, dt, shape, b in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        data += b
    j = json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        j += b" " * (-len(j) % 8)
    return struct.pack("<Q", len(j)) + j + data


def f32(*shape):
    return rng.standard_normal(shape).astype("<f4").tobytes()


put("safetensors", "one-f32", st([("w", "F32", [2, 3], f32(2, 3))]))
put("safetensors", "mixed", st([("a", "F64", [2], rng.standard_normal(2).astype("<f8").tobytes()),
                                 ("b", "I16", [3], b"\1\0\2\0\3\0"),
                                 ("c", "U8", [1, 1, 2], b"\7\9"),
                                 ("s", "F32", [], f32(1)),
                                 ("e", "BF16", [0, 4], b"")],
                                meta={"k": "v", "format": "pt"}))
put("safetensors", "empty", st([]))
put("safetensors", "meta-only", st([], meta={"a": "1", "b": "\u00e9"}))
put("safetensors", "unpadded-misaligned", st([("x", "U8", [1], b"\1"), ("y", "F32", [1], f32(1))], pad=False))
put("safetensors", "bad-header-past-end", struct.pack("<Q", 1000) + b'{"a":1}')
put("safetensors", "bad-reversed", st([("w", "F32", [1], f32(1))]).replace(b"[0,4]", b"[4,0]"))
put("safetensors", "bad-overflow", st([("w", "U8", [4294967296, 4294967296], b"")]))
put("safetensors", "bad-dtype", st([("w", "Q7", [1], b"\0")]))

# ---- FID statistics ----------------------------------------------------------------
def stats(d, dt="F64", meta=True):
    x = rng.standard_normal((d + 3, d))
    mu, sigma = x.mean(0), np.cov(x, rowvar=False).reshape(d, d)
    np_dt = "<f8" if dt == "F64" else "<f4"
    m = {"gancl_fid_stats": "1", "dims": str(d), "count": str(d + 3), "source": "idx:x"} if meta else None
    return st([("sigma", dt, [d, d], sigma.astype(np_dt).tobytes()),
               ("mu", dt, [d], mu.astype(np_dt).tobytes())], meta=m)


put("fid_stats", "d2", stats(2))
put("fid_stats", "d3-f32", stats(3, "F32"))
put("fid_stats", "d1-nometa", stats(1, meta=False))
put("fid_stats", "bad-asymmetric", st([("mu", "F64", [2], b"\0" * 16),
                                      ("sigma", "F64", [2, 2], struct.pack("<4d", 1, 2, 3, 4))]))

# ---- checkpoints -------------------------------------------------------------------
if len(sys.argv) > 1:
    gancl = sys.argv[1]
    tmp = tempfile.mkdtemp()
    try:
        data = os.path.join(tmp, "d.idx")
        with open(data, "wb") as f:
            f.write(idx([4, 4, 4]))
        for model in ("dcgan", "seed"):
            run = os.path.join(tmp, model)
            subprocess.run([gancl, "--device", "cpu", "train", "--model", model, "--data", data,
                            "--latent", "2", "--g-width", "2", "--d-width", "1", "--batch", "2",
                            "--steps", "1", "--seed", "1", "--out", run],
                           check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(run, "checkpoint.safetensors"), "rb") as f:
                ckpt = f.read()
            put("checkpoint", model, ckpt)
            if model == "seed":  # a real file with metadata for the plain reader too
                put("safetensors", "checkpoint-seed", ckpt)
    finally:
        shutil.rmtree(tmp)
    put("checkpoint", "bad-not-checkpoint", stats(2))
