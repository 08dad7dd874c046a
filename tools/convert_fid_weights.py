#!/usr/bin/python3
"""tools/convert_fid_weights.py - pytorch-fid's Inception weights (.pth) to safetensors for gancl.

    /usr/bin/python3 tools/convert_fid_weights.py pt_inception-2015-12-05-6726825d.pth \\
        ~/.cache/gancl/pt_inception-2015-12-05.safetensors

IN is pytorch-fid's release file (https://github.com/mseitzer/pytorch-fid/releases, asset
pt_inception-2015-12-05-6726825d.pth) or any state_dict of the same network.  Tensor names are
kept as they are ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch1x1.bn.running_mean", ...);
floating-point tensors are written as F32, integer ones (num_batches_tracked) as I64.  gancl
ignores fc.*, AuxLogits.* and num_batches_tracked.

Needs only torch (Debian's python3-torch) for torch.load; the safetensors file is written by the
small writer below (8-byte little-endian header length, JSON header padded with spaces to a
multiple of 8, then the raw little-endian data), so the safetensors package is not required.
The output is written to a temporary file and renamed, so an interrupted run leaves nothing.
"""

import json
import os
import struct
import sys

import numpy as np
import torch

# A few names every pytorch-fid state_dict has: a quick check that IN is the right network.
EXPECTED = [
    "Conv2d_1a_3x3.conv.weight",
    "Conv2d_4a_3x3.bn.running_var",
    "Mixed_5b.branch_pool.conv.weight",
    "Mixed_6e.branch7x7dbl_5.bn.weight",
    "Mixed_7c.branch3x3dbl_3b.conv.weight",
]


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        sys.exit(f"{path}: not a state_dict (a {type(obj).__name__})")
    out = {}
    for name, t in obj.items():
        if not isinstance(t, torch.Tensor):
            continue
        name = name[len("module."):] if name.startswith("module.") else name
        out[name] = t.detach().cpu()
    return out


def write_safetensors(path, tensors, metadata):
    """tensors: name -> numpy array (float32 or int64).  Largest element size first, then in
    the given order, so every tensor is aligned to its element size."""
    names = sorted(tensors, key=lambda n: -tensors[n].dtype.itemsize)
    header, blobs, offset = {}, [], 0
    for name in names:
        a = tensors[name]
        dtype, np_dtype = ("F32", "<f4") if a.dtype.kind == "f" else ("I64", "<i8")
        raw = np.ascontiguousarray(a, dtype=np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__.strip().split("\n\n")[1])
    src, dst = sys.argv[1], sys.argv[2]
    sd = load_state_dict(src)
    missing = [k for k in EXPECTED if k not in sd]
    if missing:
        sys.exit(f"{src}: not pytorch-fid's Inception-v3 (no {', '.join(missing)})")
    tensors = {}
    for name, t in sd.items():
        if t.is_floating_point():
            tensors[name] = t.to(torch.float32).numpy()
        else:
            tensors[name] = t.to(torch.int64).numpy()
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    write_safetensors(dst, tensors, {"format": "pt", "source": os.path.basename(src)})
    n = sum(int(np.prod(a.shape)) for a in tensors.values())
    print(f"wrote {len(tensors)} tensors ({n} values) to {dst}")


if __name__ == "__main__":
    main()
