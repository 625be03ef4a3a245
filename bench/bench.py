#!/usr/bin/env python3
"""Tessel's CPU bench: Tessel beside its peers, measured side by side in one run, printed as a table of
latencies and ratios (issue 5's targets: GEMM >= 0.7x OpenBLAS; seed CNN and ResNet-18 at batch 1 at least as
fast as onnxruntime's CPU provider with the same thread count). Nothing here is asserted: machines are noisy.

    python3 bench/bench.py [--tessel build/tools/tessel] [--threads 2] [--out bench/results/cpu.md]

Peers: numpy's sgemm (Debian's OpenBLAS; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from ITS
environment only, they slow it here) and onnxruntime (pip). ResNet-18 is generated with Debian's torch
(bench/make_resnet18.py) into bench/.cache on first use.

Each workload is measured in --rounds alternating rounds (Tessel, then its peer, then Tessel again, ...),
each with a share of the --seconds budget: a slow spell of a shared machine then lands on both sides. The
table gives the median of the rounds' medians and the median of the rounds' ratios, and lists every
round's ratio.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")


def tessel_bench(tessel, model, threads, batch, seconds):
    cmd = [tessel, "bench", model, "--backend=llvm", f"--threads={threads}", f"--batch={batch}",
           f"--seconds={seconds}", "--warmup=3"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    median = float(re.search(r"latency: median ([0-9.]+) ms", out).group(1))
    compile_s = float(re.search(r"compile time: ([0-9.]+) s", out).group(1))
    return median, compile_s


def time_call(fn, seconds):
    for _ in range(3):
        fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2]


def numpy_sgemm_ms(n, threads, seconds):
    code = f"""
import numpy as np, time
a = np.random.rand({n}, {n}).astype(np.float32); b = np.random.rand({n}, {n}).astype(np.float32)
for _ in range(3): a @ b
ts, s0 = [], time.perf_counter()
while time.perf_counter() - s0 < {seconds} or len(ts) < 5:
    t = time.perf_counter(); a @ b; ts.append((time.perf_counter() - t) * 1e3)
ts.sort(); print(ts[len(ts) // 2])
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    return float(out.strip())


def onnxruntime_timer(model, threads, batch):
    """A function of a time budget that runs `model` in one onnxruntime session and returns the median ms."""
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    feeds = {}
    rng = np.random.default_rng(42)
    for i in session.get_inputs():
        shape = [batch if not isinstance(d, int) else d for d in i.shape]
        feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return lambda seconds: time_call(lambda: session.run(None, feeds), seconds)


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def side_by_side(rounds, seconds, ours, theirs):
    """Alternates `ours` and `theirs` (functions of a time budget returning (ms, extra) and ms) for `rounds`
    rounds; returns the medians, the median ratio (theirs / ours), every round's ratio and ours' extra."""
    our_ms, their_ms, extra = [], [], None
    for _ in range(rounds):
        ms, extra = ours(seconds / rounds)
        our_ms.append(ms)
        their_ms.append(theirs(seconds / rounds))
    ratios = [t / o for o, t in zip(our_ms, their_ms)]
    return median(our_ms), median(their_ms), median(ratios), ratios, extra


def gemm_model(n):
    path = os.path.join(CACHE, f"gemm{n}.tsl")
    with open(path, "w") as f:
        f.write(f"func @main(%a: f32[N, {n}], %b: f32[{n}, {n}]) -> (c: f32[N, {n}]) {{\n"
                f"  %c = matmul(%a, %b) : f32[N, {n}]\n  return %c\n}}\n")
    return path


def resnet18_model():
    path = os.path.join(CACHE, "resnet18.onnx")
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "make_resnet18.py"), path], check=True)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tessel", default=os.path.join(ROOT, "build", "tools", "tessel"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per measurement")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "cpu.md"))
    parser.add_argument("--rounds", type=int, default=3, help="alternating Tessel / peer rounds per workload")
    parser.add_argument("--skip-resnet", action="store_true")
    args = parser.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    t = args.threads
    rows = []

    def rounds_note(ratios):
        return "rounds " + ", ".join(f"{r:.2f}" for r in ratios)

    n = 1024
    gemm = gemm_model(n)
    ours, theirs, ratio, ratios, compile_s = side_by_side(
        args.rounds, args.seconds, lambda s: tessel_bench(args.tessel, gemm, t, n, s),
        lambda s: numpy_sgemm_ms(n, t, s))
    gflops = 2 * n ** 3 / (ours * 1e6)
    rows.append((f"sgemm {n}x{n}x{n}", "OpenBLAS (numpy)", ours, theirs, ratio, compile_s, ">= 0.70",
                 f"{gflops:.0f} GFLOP/s; {rounds_note(ratios)}"))

    models = [("seed CNN, batch 1", os.path.join(ROOT, "tests", "fixtures", "models", "seed_cnn", "model.onnx"))]
    if not args.skip_resnet:
        models.append(("ResNet-18, batch 1", resnet18_model()))
    for name, model in models:
        ours, theirs, ratio, ratios, compile_s = side_by_side(
            args.rounds, args.seconds, lambda s: tessel_bench(args.tessel, model, t, 1, s),
            onnxruntime_timer(model, t, 1))
        rows.append((name, "onnxruntime CPU", ours, theirs, ratio, compile_s, ">= 1.00", rounds_note(ratios)))

    lines = [f"Threads: {t} (Tessel, OpenBLAS and onnxruntime alike); {args.rounds} alternating rounds per "
             "workload. Ratio = peer time / Tessel time, the median of the rounds' ratios (above 1: Tessel is "
             "faster).", "",
             "| workload | peer | Tessel ms | peer ms | ratio | target | Tessel compile s | note |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, peer, ours, theirs, ratio, compile_s, target, note in rows:
        lines.append(f"| {name} | {peer} | {ours:.3f} | {theirs:.3f} | {ratio:.2f} | {target} | "
                     f"{compile_s:.2f} | {note} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("# CPU bench (bench/bench.py)\n\n" + table + "\n")


if __name__ == "__main__":
    main()
