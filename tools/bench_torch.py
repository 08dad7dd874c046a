#!/usr/bin/python3
"""tools/bench_torch.py - the PyTorch side of gancl's benchmarks.

Trains the same models as `gancl bench train` (seed and dcgan, 28x28x1) with
the same batch size and thread count, runs torchvision's Inception-v3
(weights=None, eval) for `gancl bench fid`, and times the GEMM shapes of
`gancl bench ops` (--model gemm), reporting steady-state images/s (GFLOP/s for
gemm) as the median of several timed windows.  With --gancl PATH it also runs
the gancl benchmark of each model in the same invocation and prints the
ratio, so both figures come from the same machine state.

--device cpu (the default) or cuda[:N] picks where PyTorch runs.  On CUDA the
device is drained at each window's edges (as gancl does), cuDNN picks its
fastest algorithms (cudnn.benchmark), and TF32 is off for convolutions and
matrix products, so both sides compute in plain fp32.

Fairness on the CPU: Debian's PyTorch uses OpenBLAS, which starts its own
threads unless OPENBLAS_NUM_THREADS=1; without that, 2 threads of PyTorch plus
OpenBLAS's threads oversubscribe a 2-core machine.  This script sets it
(before torch is imported) and torch.set_num_threads(--threads).

usage: tools/bench_torch.py [--model seed,dcgan,inception,gemm|all] [--batch 64]
                            [--device cpu|cuda[:N]] [--threads 2] [--windows 5]
                            [--window 1.0] [--gancl build/gancl]
                            [--gancl-device 0] [--json FILE]

--model takes a comma-separated list; all is seed,dcgan,inception.  --json
writes the figures to FILE: {"torch": version, "device": name,
"results": [{"figure": ..., "value": ..., "unit": "img/s"|"GFLOP/s"}, ...]}.
Exit status 3: the --device asked for is not available.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MODELS = ["seed", "dcgan", "inception", "gemm"]

# (transposes, M, N, K) as `gancl bench ops` names them: C[MxN] = op(A) op(B),
# NT meaning B is stored N x K and TN meaning A is stored K x M.
GEMM_SHAPES = [("NN", 256, 256, 256), ("NN", 512, 512, 512), ("NN", 1024, 1024, 1024),
               ("NN", 128, 3136, 576), ("NN", 12544, 128, 576), ("NT", 12544, 128, 576),
               ("TN", 12544, 128, 576)]


def seed_models(latent):
    g = nn.Sequential(
        nn.Linear(latent, 7 * 7 * 128), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 3, 2, 1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
    return g, d


def dcgan_models(latent):
    # Must match src/models (gancl's --model dcgan): see `gancl train --help`.
    g = nn.Sequential(
        nn.Linear(latent, 7 * 7 * 128, bias=False), nn.Unflatten(1, (128, 7, 7)),
        nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
    return g, d


def train_step_fn(g, d, batch, latent, dev):
    g.to(dev)
    d.to(dev)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, 28, 28, device=dev)
    ones = torch.ones(batch, 1, device=dev)
    zeros = torch.zeros(batch, 1, device=dev)

    def step():
        z = torch.randn(batch, latent, device=dev)
        fake = g(z)
        opt_d.zero_grad(set_to_none=True)
        loss_d = (F.binary_cross_entropy_with_logits(d(real), ones) +
                  F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        loss_g.backward()
        opt_g.step()
    return step


def inception_fn(batch, dev):
    from torchvision.models import inception_v3
    net = inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    net = net.to(dev, memory_format=torch.channels_last)
    x = torch.rand(batch, 3, 299, 299, device=dev).to(memory_format=torch.channels_last)

    def step():
        with torch.no_grad():
            net(x)
    return step


def gemm_fn(trans, m, n, k, dev):
    a = torch.rand(m, k, device=dev) if trans[0] == "N" else torch.rand(k, m, device=dev).t()
    b = torch.rand(k, n, device=dev) if trans[1] == "N" else torch.rand(n, k, device=dev).t()
    c = torch.empty(m, n, device=dev)

    def step():
        torch.mm(a, b, out=c)
    return step


def measure(step, per_step, windows, window, sync):
    """Median over the windows of per_step units (images, flops) per second.

    The window's end is read after sync(), so work queued on a device counts
    in the window that launched it."""
    step()  # warm-up
    step()
    sync()
    rates = []
    for _ in range(windows):
        n = 0
        t0 = time.perf_counter()
        while True:
            step()
            n += 1
            if time.perf_counter() - t0 >= window:
                sync()
                t1 = time.perf_counter()
                break
        rates.append(n * per_step / (t1 - t0))
    return statistics.median(rates)


def run_gancl(args, model, batch):
    cmd = [args.gancl, "bench", "fid" if model == "inception" else "train"]
    if model != "inception":
        cmd += ["--model", model]
    cmd += ["--batch", str(batch), "--device", args.gancl_device]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  gancl failed: {out.stderr.strip()}", file=sys.stderr)
        return None
    m = re.search(r"([0-9.]+)\s*img/s", out.stdout)
    return float(m.group(1)) if m else None


def model_list(text):
    names = []
    for name in text.split(","):
        name = name.strip()
        if name == "all":
            names += ["seed", "dcgan", "inception"]
        elif name in MODELS:
            names.append(name)
        else:
            raise argparse.ArgumentTypeError(
                f"unknown model '{name}' (choose from {', '.join(MODELS)}, all)")
    return list(dict.fromkeys(names))


def device_arg(text):
    if text == "cpu" or re.fullmatch(r"cuda(:[0-9]+)?", text):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid device '{text}': use cpu, cuda or cuda:N (gancl's device is --gancl-device)")


def open_device(name):
    """The torch.device, its printable name and a function that drains it; exits 3 if absent."""
    dev = torch.device(name)
    if dev.type == "cpu":
        return dev, "cpu", lambda: None
    if not torch.cuda.is_available():
        print(f"bench_torch: --device {name}: CUDA is not available to torch {torch.__version__}",
              file=sys.stderr)
        sys.exit(3)
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        print(f"bench_torch: --device {name}: only {torch.cuda.device_count()} CUDA devices",
              file=sys.stderr)
        sys.exit(3)
    torch.cuda.set_device(index)
    torch.backends.cudnn.benchmark = True
    # Plain fp32, as gancl computes; PyTorch 2.9 replaced allow_tf32 by
    # fp32_precision and refuses a mix of the two.
    if hasattr(torch.backends, "fp32_precision"):
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return dev, torch.cuda.get_device_name(index), lambda: torch.cuda.synchronize(index)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=model_list, default=model_list("all"),
                    help="comma-separated: seed, dcgan, inception, gemm or all "
                         "(seed,dcgan,inception; the default)")
    ap.add_argument("--batch", type=int, default=None,
                    help="default 64 for training, 50 for inception")
    ap.add_argument("--device", type=device_arg, default="cpu",
                    help="where PyTorch runs: cpu (default), cuda or cuda:N")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--gancl", default=None, help="path of the gancl binary to compare with")
    ap.add_argument("--gancl-device", default="0", help="gancl's --device for --gancl")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev, dev_name, sync = open_device(args.device)
    print(f"torch {torch.__version__} on {args.device} ({dev_name}), {args.threads} threads, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}", flush=True)
    results = []

    def record(figure, value, unit):
        results.append({"figure": figure, "value": value, "unit": unit})
        if args.json:  # rewritten after each figure: a run cut short keeps what it measured
            with open(args.json, "w") as f:
                json.dump({"torch": torch.__version__, "device": dev_name,
                           "results": results}, f, indent=1)

    for model in args.model:
        if model == "gemm":
            for trans, m, n, k in GEMM_SHAPES:
                rate = measure(gemm_fn(trans, m, n, k, dev), 2.0 * m * n * k, args.windows,
                               args.window, sync) / 1e9
                figure = f"gemm {trans} M={m} N={n} K={k}"
                record(figure, rate, "GFLOP/s")
                print(f"{figure:32s} pytorch {rate:9.1f} GFLOP/s", flush=True)
            continue
        batch = args.batch or (50 if model == "inception" else 64)
        if model == "inception":
            try:
                step = inception_fn(batch, dev)
            except ImportError as e:
                print(f"{model:10s} skipped: {e}", flush=True)
                continue
        else:
            g, d = (seed_models if model == "seed" else dcgan_models)(100)
            step = train_step_fn(g, d, batch, 100, dev)
        rate = measure(step, batch, args.windows, args.window, sync)
        record(model, rate, "img/s")
        line = f"{model:10s} batch {batch:4d}  pytorch {rate:9.1f} images/s"
        if args.gancl:
            ours = run_gancl(args, model, batch)
            if ours:
                line += f"  gancl {ours:9.1f} images/s  ratio {ours / rate:5.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
