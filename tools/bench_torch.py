#!/usr/bin/python3
"""tools/bench_torch.py - the PyTorch side of gancl's benchmarks.

Trains the same models as `gancl bench train` (seed and dcgan, 28x28x1) with
the same batch size and thread count, and runs torchvision's Inception-v3
(weights=None, eval) for `gancl bench fid`, reporting steady-state images/s
as the median of several timed windows.  With --gancl PATH it also runs the
gancl benchmark in the same invocation and prints the ratio, so both figures
come from the same machine state.

Fairness: Debian's PyTorch uses OpenBLAS, which starts its own threads unless
OPENBLAS_NUM_THREADS=1; without that, 2 threads of PyTorch plus OpenBLAS's
threads oversubscribe a 2-core machine.  This script sets it (before torch is
imported) and torch.set_num_threads(--threads).

usage: tools/bench_torch.py [--model seed|dcgan|inception|all] [--batch 64]
                            [--threads 2] [--windows 5] [--window 1.0]
                            [--gancl build/gancl] [--device 0]
"""
import argparse
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


def train_step_fn(g, d, batch, latent):
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, 28, 28)
    ones = torch.ones(batch, 1)
    zeros = torch.zeros(batch, 1)

    def step():
        z = torch.randn(batch, latent)
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


def inception_fn(batch):
    from torchvision.models import inception_v3
    net = inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    net = net.to(memory_format=torch.channels_last)
    x = torch.rand(batch, 3, 299, 299).to(memory_format=torch.channels_last)

    def step():
        with torch.no_grad():
            net(x)
    return step


def measure(step, batch, windows, window):
    step()  # warm-up
    step()
    rates = []
    for _ in range(windows):
        n = 0
        t0 = time.perf_counter()
        while True:
            step()
            n += 1
            t1 = time.perf_counter()
            if t1 - t0 >= window:
                break
        rates.append(n * batch / (t1 - t0))
    return statistics.median(rates)


def run_gancl(args, model):
    cmd = [args.gancl, "bench", "fid" if model == "inception" else "train"]
    if model != "inception":
        cmd += ["--model", model]
    cmd += ["--batch", str(args.batch), "--device", args.device]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  gancl failed: {out.stderr.strip()}", file=sys.stderr)
        return None
    m = re.search(r"([0-9.]+)\s*img/s", out.stdout)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="all", choices=["seed", "dcgan", "inception", "all"])
    ap.add_argument("--batch", type=int, default=None,
                    help="default 64 for training, 50 for inception")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--gancl", default=None, help="path of the gancl binary to compare with")
    ap.add_argument("--device", default="0")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = ["seed", "dcgan", "inception"] if args.model == "all" else [args.model]
    print(f"torch {torch.__version__}, {args.threads} threads, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    for model in models:
        batch = args.batch or (50 if model == "inception" else 64)
        args_batch = args.batch
        args.batch = batch
        if model == "inception":
            step = inception_fn(batch)
        else:
            g, d = (seed_models if model == "seed" else dcgan_models)(100)
            step = train_step_fn(g, d, batch, 100)
        rate = measure(step, batch, args.windows, args.window)
        line = f"{model:10s} batch {batch:4d}  pytorch {rate:9.1f} images/s"
        if args.gancl:
            ours = run_gancl(args, model)
            if ours:
                line += f"  gancl {ours:9.1f} images/s  ratio {ours / rate:5.2f}x"
        print(line, flush=True)
        args.batch = args_batch


if __name__ == "__main__":
    main()
