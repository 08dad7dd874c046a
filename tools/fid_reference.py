#!/usr/bin/python3
"""tools/fid_reference.py - pytorch-fid's FID computed in PyTorch, to check `gancl fid` against.

    /usr/bin/python3 tools/fid_reference.py A B --weights W [--dims 2048] [--batch 50]
    /usr/bin/python3 tools/fid_reference.py --make-random-weights OUT.pth [--seed 11]

A and B are folders of images (pytorch-fid's extensions, sorted, PIL convert("RGB")) or IDX
image files (raw or .gz; gray, repeated to RGB).  W is pytorch-fid's .pth or gancl's
.safetensors.  The computation is pytorch-fid 0.3's (fid_score.py and inception.py): the network
is torchvision's Inception3 with pytorch-fid's FID blocks (see make_inception_goldens.py,
pytorch_fid_reference), inputs ToTensor()'d, resized to 299x299 bilinear (align_corners=False),
scaled 2x - 1; statistics np.mean / np.cov in float64; calculate_frechet_distance with
scipy.linalg.sqrtm.  Use it where the pytorch-fid package is not installed; where it is,
`python3 -m pytorch_fid A B` is the reference itself.

--make-random-weights writes the network's state_dict (fc included, as in pytorch-fid's release)
with gancl's deterministic random weights, for an end-to-end check without the real file:

    tools/fid_reference.py --make-random-weights /tmp/rand.pth
    tools/convert_fid_weights.py /tmp/rand.pth /tmp/rand.safetensors
    gancl fid A B --weights /tmp/rand.safetensors   vs   tools/fid_reference.py A B --weights /tmp/rand.pth
"""

import argparse
import gzip
import json
import os
import pathlib
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_inception_goldens as mig  # noqa: E402

IMAGE_EXTENSIONS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp"}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}[e["dtype"]]
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).reshape(e["shape"]).copy())
    return out


def load_weights(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    sd = torch.load(path, map_location="cpu")
    return sd.state_dict() if isinstance(sd, torch.nn.Module) else sd


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        raw = f.read()
    assert raw[:4] == b"\x00\x00\x08\x03", f"{path}: not an IDX image file"
    n, h, w = struct.unpack(">III", raw[4:16])
    return np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w)


def batches(path, batch):
    """Float tensors (N, 3, H, W) in [0, 1], as pytorch-fid's DataLoader gives them."""
    if os.path.isdir(path):
        from PIL import Image
        import torchvision.transforms as TF
        p = pathlib.Path(path)
        files = sorted([f for ext in IMAGE_EXTENSIONS for f in p.glob(f"*.{ext}")])
        if batch > len(files):
            batch = len(files)
        for i in range(0, len(files), batch):
            yield torch.stack([TF.ToTensor()(Image.open(f).convert("RGB"))
                               for f in files[i:i + batch]])
    else:
        x = read_idx(path)
        if batch > len(x):
            batch = len(x)
        for i in range(0, len(x), batch):
            t = torch.from_numpy(x[i:i + batch].astype(np.float32)).div(255)
            yield t.expand(-1, 3, -1, -1)


def activations(net, path, dims, batch):
    out = []
    with torch.no_grad():
        for x in batches(path, batch):
            out.append(mig.pytorch_fid_features(net, x, dims)[dims].numpy().astype(np.float64))
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--weights")
    ap.add_argument("--dims", type=int, default=2048, choices=[64, 192, 768, 2048])
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--make-random-weights")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = mig.pytorch_fid_reference().eval()
    if a.make_random_weights:
        mig.fill_hash(net, a.seed)
        torch.save(net.state_dict(), a.make_random_weights)
        print(f"wrote {a.make_random_weights} (seed {a.seed})")
        return
    if len(a.paths) != 2 or not a.weights:
        ap.error("need A, B and --weights")
    missing, unexpected = net.load_state_dict(load_weights(a.weights), strict=False)
    assert not unexpected and all(k.startswith("fc.") for k in missing), (missing, unexpected)
    stats = []
    for p in a.paths:
        act = activations(net, p, a.dims, a.batch)
        stats += [np.mean(act, axis=0), np.cov(act, rowvar=False)]
        print(f"{p}: {len(act)} images", file=sys.stderr)
    print(f"FID: {mig.pytorch_fid_distance(*stats):.6f}")


if __name__ == "__main__":
    main()
