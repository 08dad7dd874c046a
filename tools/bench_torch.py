#!/usr/bin/python3
"""tools/bench_torch.py - the PyTorch side of gancl's benchmarks.

Trains the same models as `gancl bench train` with the same batch size and
thread count: seed and dcgan at 1x28x28, and dcgan64, the model of `gancl
bench train --size 64 --channels 3` (pytorch/examples' DCGAN with ngf = ndf =
64, plus biases on G's output and D's first and last layers).  It runs
Inception-v3 as `gancl bench fid` does, and times the GEMM shapes of `gancl
bench ops` (--model gemm).  Each figure is the steady-state images/s
(GFLOP/s for gemm), the median of several timed windows.  With --gancl PATH
it also runs the gancl benchmark of each model in the same invocation and
prints the ratio, so both figures come from the same machine state.

What is timed, as gancl's benchmarks do it:
- training: one full step per iteration.  The real batch is copied from host
  memory (pinned on CUDA), as gancl uploads one each step.  D does a forward
  and backward on the real batch, then G(z), detached.  Adam updates D
  (lr 2e-4, betas 0.5 and 0.999, eps 1e-8).  Then G's loss, BCE with logits
  against 1 (the non-saturating loss), goes through the updated D back to G
  alone: D's weight gradients are not computed in G's pass, as in gancl.
  Adam then updates G.
- inception: torchvision's Inception-v3 (weights=None, eval, channels_last)
  up to the 2048-d pool features.  A batch of 28x28 gray images is copied
  from the host, resized to 299x299 (bilinear) and made RGB.  The features
  are read back to the host each batch.

--device cpu (the default) or cuda[:N] picks where PyTorch runs.  On CUDA the
device is drained at each window's edges (as gancl does), and cuDNN picks its
fastest algorithms (cudnn.benchmark).
--tf32 sets the fp32 math of cuDNN's convolutions and of matrix products:
- off (the default): plain fp32, as gancl computes;
- default: PyTorch's own settings (TF32 on for cuDNN convolutions, off for
  matrix products, unless the environment changed them);
- on: TF32 for both.
A comma-separated list runs every model in the first mode, then every model
in the next, each built afresh.  The flag has no effect on the CPU.

Fairness on the CPU: Debian's PyTorch uses OpenBLAS, which starts its own
threads unless OPENBLAS_NUM_THREADS=1; without that, 2 threads of PyTorch plus
OpenBLAS's threads oversubscribe a 2-core machine.  This script sets it
(before torch is imported) and torch.set_num_threads(--threads).

usage: tools/bench_torch.py [--model seed,dcgan,dcgan64,inception,gemm|all]
                            [--batch 64] [--device cpu|cuda[:N]]
                            [--tf32 off|default|on[,...]] [--threads 2]
                            [--windows 5] [--window 1.0] [--budget S]
                            [--gancl build/gancl] [--gancl-device 0]
                            [--json FILE]

--model takes a comma-separated list; all is seed,dcgan,dcgan64,inception.
--budget S starts no figure after S seconds and lists the rest as skipped.
--json writes the figures to FILE, rewritten after each one:
{"torch": version, "device": name,
 "env": {"cuda", "cudnn", "onednn", "mkl", "blas", "threads", "cpu", ...},
 "modes": {mode: {"conv": "ieee"|"tf32", "matmul": ...}},
 "results": [{"figure": ..., "tf32": mode, "value": ..., "unit": ...}, ...],
 "skipped": ["figure (tf32 mode)", ...]}.
It prints the same versions first: torch, CUDA and cuDNN (on the CPU oneDNN,
MKL and the BLAS library loaded), the thread count and the CPU model.
Exit status 3: the --device asked for is not available.
"""
import argparse
import json
import os
import platform
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

MODELS = ["seed", "dcgan", "dcgan64", "inception", "gemm"]
ALL = ["seed", "dcgan", "dcgan64", "inception"]
TF32_MODES = ["off", "default", "on"]

# (transposes, M, N, K) as `gancl bench ops` names them: C[MxN] = op(A) op(B),
# NT meaning B is stored N x K and TN meaning A is stored K x M.
GEMM_SHAPES = [("NN", 256, 256, 256), ("NN", 512, 512, 512), ("NN", 1024, 1024, 1024),
               ("NN", 128, 3136, 576), ("NN", 12544, 128, 576), ("NT", 12544, 128, 576),
               ("TN", 12544, 128, 576)]

# The image each training model sees, (channels, size), and the arguments of
# `gancl bench train` that give the same model.
IMAGES = {"seed": (1, 28), "dcgan": (1, 28), "dcgan64": (3, 64)}
GANCL_TRAIN_ARGS = {"seed": ["--model", "seed"], "dcgan": ["--model", "dcgan"],
                    "dcgan64": ["--model", "dcgan", "--size", "64", "--channels", "3"]}


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


def auto_depth(size):
    """gc_gan_auto_depth (src/models/gan.c): 2 stages at 28, 4 at 64."""
    depth = 2
    while depth < 16:
        s = size >> depth
        if s <= 7 or s % 2 or (s << depth) != size:
            break
        depth += 1
    return depth


def dcgan_models(latent, channels, size, g_width=None, ngf=64, ndf=64):
    """gancl's --model dcgan (generator_layers and discriminator_layers in
    src/models/gan.c).  G: a dense layer to g_width x s x s (no bias; the
    same map as the paper's 4x4 transposed convolution from 1x1) with
    BatchNorm and ReLU, then stages of 4x4 stride-2 transposed convolutions
    halving the width (no bias, BatchNorm, ReLU), then one to the image
    (bias) and tanh.  D: 4x4 stride-2 convolutions doubling from ndf, the
    first with a bias and no BatchNorm, the others BatchNorm without bias,
    all LeakyReLU(0.2), then a dense logit with a bias.  g_width defaults to
    ngf << (depth - 1), as `gancl bench train --size` sets it; at 28x28
    without --size gancl's default is 128."""
    depth = auto_depth(size)
    w = g_width if g_width else ngf << (depth - 1)
    s = size >> depth
    g = [nn.Linear(latent, w * s * s, bias=False), nn.Unflatten(1, (w, s, s)),
         nn.BatchNorm2d(w), nn.ReLU()]
    for stage in range(1, depth):
        g += [nn.ConvTranspose2d(w >> (stage - 1), w >> stage, 4, 2, 1, bias=False),
              nn.BatchNorm2d(w >> stage), nn.ReLU()]
    g += [nn.ConvTranspose2d(w >> (depth - 1), channels, 4, 2, 1), nn.Tanh()]
    d = [nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
    for stage in range(1, depth):
        d += [nn.Conv2d(ndf << (stage - 1), ndf << stage, 4, 2, 1, bias=False),
              nn.BatchNorm2d(ndf << stage), nn.LeakyReLU(0.2)]
    d += [nn.Flatten(), nn.Linear((ndf << (depth - 1)) * s * s, 1)]
    return nn.Sequential(*g), nn.Sequential(*d)


def gan_models(model, latent):
    if model == "seed":
        return seed_models(latent)
    if model == "dcgan":
        return dcgan_models(latent, 1, 28, g_width=128)
    return dcgan_models(latent, 3, 64)


def init_dcgan(m):
    """gancl's GC_INIT_DCGAN: N(0, 0.02) weights, BatchNorm N(1, 0.02), zero
    biases (seed keeps PyTorch's default initialisation, as gancl does)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def train_step_fn(model, batch, latent, dev):
    channels, size = IMAGES[model]
    g, d = gan_models(model, latent)
    if model != "seed":
        g.apply(init_dcgan)
        d.apply(init_dcgan)
    g.to(dev)
    d.to(dev)
    g_params = list(g.parameters())
    opt_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    # Two host batches in the model's pixel range, copied in turn.
    lo = 0.0 if model == "seed" else -1.0
    host = torch.rand(2, batch, channels, size, size) * (1.0 - lo) + lo
    if dev.type == "cuda":
        host = host.pin_memory()
    real = torch.empty(batch, channels, size, size, device=dev)
    ones = torch.ones(batch, 1, device=dev)
    zeros = torch.zeros(batch, 1, device=dev)
    count = [0]

    def step():
        real.copy_(host[count[0] & 1], non_blocking=True)
        count[0] += 1
        opt_d.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(d(real), ones).backward()
        z = torch.randn(batch, latent, device=dev)
        fake = g(z)
        F.binary_cross_entropy_with_logits(d(fake.detach()), zeros).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        loss_g.backward(inputs=g_params)  # D's weight gradients are not computed
        opt_g.step()
    return step


def inception_fn(batch, dev):
    from torchvision.models import inception_v3
    net = inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    net.fc = nn.Identity()  # the 2048-d pool features, as FID takes them
    net = net.to(dev, memory_format=torch.channels_last)
    host = torch.rand(batch, 1, 28, 28)
    if dev.type == "cuda":
        host = host.pin_memory()

    def step():
        with torch.no_grad():
            x = host.to(dev, non_blocking=True)
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            x = (2 * x - 1).expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)
            net(x).cpu()
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
    step()  # warm-up (and, on CUDA, cuDNN's algorithm search)
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
        cmd += GANCL_TRAIN_ARGS[model]
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
            names += ALL
        elif name in MODELS:
            names.append(name)
        else:
            raise argparse.ArgumentTypeError(
                f"unknown model '{name}' (choose from {', '.join(MODELS)}, all)")
    return list(dict.fromkeys(names))


def tf32_list(text):
    modes = [m.strip() for m in text.split(",")]
    for m in modes:
        if m not in TF32_MODES:
            raise argparse.ArgumentTypeError(
                f"unknown --tf32 mode '{m}' (choose from {', '.join(TF32_MODES)})")
    return list(dict.fromkeys(modes))


def device_arg(text):
    if text == "cpu" or re.fullmatch(r"cuda(:[0-9]+)?", text):
        return text
    raise argparse.ArgumentTypeError(
        f"invalid device '{text}': use cpu, cuda or cuda:N (gancl's device is --gancl-device)")


# ---- fp32 math: TF32 or not ----------------------------------------------------

# PyTorch 2.9 replaced allow_tf32 by fp32_precision ("ieee", "tf32", or "none":
# inherit from the parent setting) and refuses a mix of the two APIs.
NEW_API = hasattr(torch.backends, "fp32_precision")


def _knobs():
    """(name, object, its parents) for convolutions and matrix products."""
    if NEW_API:
        return [("conv", torch.backends.cudnn.conv, [torch.backends.cudnn, torch.backends]),
                ("matmul", torch.backends.cuda.matmul, [torch.backends.cuda, torch.backends])]
    return [("conv", torch.backends.cudnn, []), ("matmul", torch.backends.cuda.matmul, [])]


def precision_saved():
    """The settings as PyTorch (and the environment) left them."""
    attr = "fp32_precision" if NEW_API else "allow_tf32"
    return {name: getattr(obj, attr) for name, obj, _ in _knobs()}


def precision_set(mode, saved):
    if mode == "default" and saved is None:
        raise RuntimeError("PyTorch's own settings could not be read at the start")
    for name, obj, _ in _knobs():
        if mode == "default":
            value = saved[name]
        elif NEW_API:
            value = "tf32" if mode == "on" else "ieee"
        else:
            value = mode == "on"
        if NEW_API and name == "matmul":
            # This sets the legacy matmul precision and the new one together:
            # cuBLAS's check refuses them when they disagree.
            torch.set_float32_matmul_precision("high" if value == "tf32" else "highest")
        else:
            setattr(obj, "fp32_precision" if NEW_API else "allow_tf32", value)


def precision_now():
    """The effective setting of each: "tf32" or "ieee" (plain fp32)."""
    out = {}
    for name, obj, parents in _knobs():
        if not NEW_API:
            out[name] = "tf32" if getattr(obj, "allow_tf32") else "ieee"
            continue
        # The getter resolves "none" through the parents already; walking
        # them here too costs nothing where it does not.
        value = "none"
        for o in [obj] + parents:
            try:
                value = getattr(o, "fp32_precision")
            except (AttributeError, RuntimeError):
                continue
            if value != "none":
                break
        out[name] = value
    return out


# ---- the environment -----------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loaded_blas():
    """The BLAS libraries this process has mapped (after a matrix product)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if re.search(r"lib(open)?blas|libmkl_|libblis|libflexiblas", path):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def environment(dev, dev_name, threads):
    cfg = torch.__config__.show()

    def grab(pattern):
        m = re.search(pattern, cfg)
        return m.group(1) if m else None

    env = {"torch": torch.__version__, "device": dev_name, "threads": threads,
           "interop_threads": torch.get_num_interop_threads(), "cpu": cpu_model(),
           "cpus": os.cpu_count(), "python": platform.python_version(),
           "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
           "cuda": torch.version.cuda, "cudnn": None}
    if torch.backends.cudnn.is_available():
        v = torch.backends.cudnn.version()
        major, rest = (v // 10000, v % 10000) if v >= 90000 else (v // 1000, v % 1000)
        env["cudnn"] = f"{major}.{rest // 100}.{rest % 100}"
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        env["capability"] = f"{p.major}.{p.minor}"
        env["gpu_memory_mib"] = p.total_memory // 1048576
    env["onednn"] = grab(r"(?:MKL-DNN|oneDNN)[^\n]*?v([0-9][\w.]*)")
    env["mkl"] = grab(r"Math Kernel Library Version ([0-9][\w.]*)")
    env["blas_info"] = grab(r"BLAS_INFO=(\w+)")
    env["cpu_capability"] = grab(r"CPU capability usage: (\w+)")
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))  # loads the BLAS
    env["blas"] = loaded_blas()
    return env


def describe(env):
    if env["cuda"] and env["device"] != "cpu":
        lib = f"CUDA {env['cuda']}, cuDNN {env['cudnn'] or 'n/a'}"
    else:
        lib = f"oneDNN {env['onednn'] or 'n/a'}, MKL {env['mkl'] or 'n/a'}"
        if env["blas"]:
            lib += ", BLAS " + " ".join(env["blas"])
        elif env["blas_info"]:
            lib += f", BLAS_INFO={env['blas_info']}"
    return (f"torch {env['torch']} ({lib}) on {env['device']}; {env['threads']} threads, "
            f"CPU {env['cpu']} ({env['cpus']} logical CPUs), "
            f"OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}")


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
    dev = torch.device("cuda", index)
    return dev, torch.cuda.get_device_name(index), lambda: torch.cuda.synchronize(index)


def figures(models, batch_arg):
    """(model, figure, batch or None, per-step units, unit) in the order measured."""
    for model in models:
        if model == "gemm":
            for trans, m, n, k in GEMM_SHAPES:
                yield model, f"gemm {trans} M={m} N={n} K={k}", (trans, m, n, k), 2.0 * m * n * k, \
                    "GFLOP/s"
        else:
            batch = batch_arg or (50 if model == "inception" else 64)
            yield model, model, batch, batch, "img/s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=model_list, default=model_list("all"),
                    help="comma-separated: seed, dcgan, dcgan64, inception, gemm or all "
                         "(seed,dcgan,dcgan64,inception; the default)")
    ap.add_argument("--batch", type=int, default=None,
                    help="default 64 for training, 50 for inception")
    ap.add_argument("--device", type=device_arg, default="cpu",
                    help="where PyTorch runs: cpu (default), cuda or cuda:N")
    ap.add_argument("--tf32", type=tf32_list, default=["off"],
                    help="fp32 math of convolutions and matrix products: off (plain fp32, "
                         "the default), default (PyTorch's settings) or on; a comma-"
                         "separated list measures every model in each mode in turn (no "
                         "effect on the CPU)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds: start no figure after this long (those left are listed "
                         "as skipped), so that a caller's time limit ends a run cleanly")
    ap.add_argument("--gancl", default=None, help="path of the gancl binary to compare with")
    ap.add_argument("--gancl-device", default="0", help="gancl's --device for --gancl")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    t_start = time.monotonic()
    try:
        saved = precision_saved()  # before anything sets them
    except Exception as e:  # noqa: BLE001 - then only --tf32 default cannot be measured
        print(f"bench_torch: cannot read PyTorch's fp32 settings ({e})", flush=True)
        saved = None
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev, dev_name, sync = open_device(args.device)
    env = environment(dev, dev_name, torch.get_num_threads())
    print(describe(env), flush=True)
    modes, results, skipped = {}, [], []

    def save():
        if args.json:  # rewritten after each figure: a run cut short keeps what it measured
            with open(args.json, "w") as f:
                json.dump({"torch": torch.__version__, "device": dev_name, "env": env,
                           "modes": modes, "results": results, "skipped": skipped}, f, indent=1)

    ours = {}  # gancl's figure per model (--gancl), measured once
    for mode in args.tf32:
        try:
            precision_set(mode, saved)
            modes[mode] = precision_now()
        except Exception as e:  # noqa: BLE001 - one mode's settings must not cost the others
            print(f"--tf32 {mode}: cannot set it ({e}); its figures are skipped", flush=True)
            skipped += [f"{fig} (tf32 {mode})" for _, fig, *_ in figures(args.model, args.batch)]
            save()
            continue
        effect = "" if dev.type == "cuda" else " (no effect on the CPU)"
        print(f"--tf32 {mode}: convolutions {modes[mode]['conv']}, matrix products "
              f"{modes[mode]['matmul']}{effect}", flush=True)
        for model, figure, shape, per_step, unit in figures(args.model, args.batch):
            if args.budget is not None and time.monotonic() - t_start > args.budget:
                skipped.append(f"{figure} (tf32 {mode})")
                print(f"{figure:32s} tf32 {mode:7s} skipped: --budget {args.budget:g} s spent",
                      flush=True)
                save()
                continue
            if model == "gemm":
                step = gemm_fn(*shape, dev)
            elif model == "inception":
                try:
                    step = inception_fn(shape, dev)
                except ImportError as e:
                    print(f"{model:10s} skipped: {e}", flush=True)
                    skipped.append(f"{figure} (tf32 {mode}): {e}")
                    save()
                    continue
            else:
                step = train_step_fn(model, shape, 100, dev)
            rate = measure(step, per_step, args.windows, args.window, sync)
            del step
            if model == "gemm":
                rate /= 1e9
                line = f"{figure:32s} tf32 {mode:7s} pytorch {rate:9.1f} GFLOP/s"
            else:
                line = f"{model:10s} batch {shape:4d}  tf32 {mode:7s} pytorch {rate:9.1f} images/s"
                if args.gancl:
                    if model not in ours:
                        ours[model] = run_gancl(args, model, shape) or 0.0
                    if ours[model]:
                        line += (f"  gancl {ours[model]:9.1f} images/s  "
                                 f"ratio {ours[model] / rate:5.2f}x")
            results.append({"figure": figure, "tf32": mode, "value": rate, "unit": unit})
            save()
            print(line, flush=True)
            if dev.type == "cuda":
                torch.cuda.empty_cache()
    if skipped:
        print(f"skipped: {len(skipped)} figures", flush=True)


if __name__ == "__main__":
    main()
