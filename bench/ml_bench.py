#!/usr/bin/env python3
"""Prediction throughput of the classical-ML fixtures (tests/fixtures/ml): Tessel's LLVM backend against
scikit-learn, onnxruntime and (trees) treelite/tl2cgen, at batch 1 and at 10,000 rows, in one table.

Every runtime sees the same kind of input: float32 rows uniform in [-1, 1] (what `tessel bench` feeds).
scikit-learn's model is retrained exactly as tests/fixtures/ml/make_ml_fixtures.py trains it (same data,
same seed), so it is the model the fixture's model.onnx was exported from. Each number is the median
latency over repeated runs (about --seconds per cell) turned into rows per second. All runtimes get the
same thread count (--threads; scikit-learn's n_jobs, onnxruntime's intra-op threads, tl2cgen's nthread,
tessel bench --threads). For tree models Tessel is run with each lowering strategy
(TESSEL_TREE_STRATEGY=branch / tensorized / gemm / tensorized-quantized) and with the cost model's choice
(auto); a strategy that refuses a model (gemm on MIN/MAX ensembles or too large path matrices) shows `-`.

    pip install scikit-learn skl2onnx onnxruntime onnx treelite tl2cgen
    python3 bench/ml_bench.py [--tessel build/tools/tessel] [--threads 1 2] [--only NAME ...]

Prints the table and writes it to bench/results/ml.md.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ml"
sys.path.insert(0, str(FIXTURES))
import make_ml_fixtures as fixtures  # noqa: E402  (the training recipe of the fixtures)

TREES = {"random_forest_digits", "random_forest_breast_cancer", "extra_trees_wine",
         "gradient_boosting_classifier_iris", "gradient_boosting_classifier_breast_cancer",
         "gradient_boosting_regressor_diabetes", "hist_gradient_boosting_classifier_breast_cancer"}
OTHERS = ["svc_linear_iris", "svc_rbf_wine", "svc_poly_breast_cancer", "svr_rbf_diabetes", "linear_svc_digits",
          "logistic_regression_digits", "linear_regression_diabetes", "pipeline_scaler_logistic_breast_cancer"]
BATCHES = [1, 10_000]
# A tessel run (compile + timing) longer than this is reported as `-` (branch code of large ensembles).
COMPILE_TIMEOUT = 60


def time_call(fn, seconds: float) -> float:
    """Median seconds per call of fn(), after one warm-up call, over about `seconds` of runs."""
    fn()
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or (time.perf_counter() - start < seconds and len(samples) < 10_000):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def train(name: str):
    for spec_name, data, estimator, _ in fixtures.specs():
        if spec_name == name:
            x, y = fixtures.load(data)
            estimator.fit(x.astype(np.float64), y)
            return estimator, x.shape[1]
    raise KeyError(name)


def sklearn_predict(estimator, threads: int):
    """What the fixture's expected outputs come from: predict_proba, else decision_function (LinearSVC), or
    predict for regressors."""
    from sklearn.base import is_regressor

    final = fixtures.final_step(estimator)
    if hasattr(final, "n_jobs"):
        final.n_jobs = threads
    if is_regressor(final):
        return estimator.predict
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba
    return estimator.decision_function


def tessel_rate(tessel: str, model: pathlib.Path, batch: int, threads: int, strategy: str | None,
                seconds: float) -> float | None:
    env = dict(os.environ)
    if strategy:
        env["TESSEL_TREE_STRATEGY"] = strategy
    cmd = [tessel, "bench", str(model), "--backend=llvm", "--batch", str(batch), "--threads", str(threads),
           "--seconds", str(seconds)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"  tessel ({strategy}) on {model.parent.name} (batch {batch}) took over {COMPILE_TIMEOUT} s",
              file=sys.stderr)
        return None
    match = re.search(r"latency: median ([0-9.eE+-]+) ms", run.stdout)
    if run.returncode != 0 or not match:
        print(f"  tessel failed on {model.parent.name} (batch {batch}): {run.stderr.strip()[:300]}", file=sys.stderr)
        return None
    return batch / (float(match.group(1)) / 1000.0)


def ort_rate(model: pathlib.Path, x: np.ndarray, threads: int, seconds: float) -> float:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return len(x) / time_call(lambda: session.run(None, {name: x}), seconds)


def tl2cgen_predictor(estimator, name: str, threads: int):
    """A tl2cgen-compiled predictor of the tree model, or None when treelite cannot import it."""
    try:
        import tl2cgen
        import treelite
    except ImportError:
        return None
    try:
        model = treelite.sklearn.import_model(fixtures.final_step(estimator))
    except Exception as error:  # noqa: BLE001 (an unsupported estimator is reported, not fatal)
        print(f"  treelite cannot import {name}: {error}", file=sys.stderr)
        return None
    libpath = pathlib.Path(tempfile.gettempdir()) / f"tessel_ml_bench_{name}.so"
    tl2cgen.export_lib(model, toolchain="gcc", libpath=str(libpath), params={"parallel_comp": 8}, verbose=False)
    return tl2cgen.Predictor(str(libpath), nthread=threads), tl2cgen


def fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.1f}k" if rate >= 1e3 else f"{rate:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tessel", default=str(ROOT / "build" / "tools" / "tessel"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--only", nargs="*", help="fixture names")
    parser.add_argument("--seconds", type=float, default=0.5, help="timing budget per cell")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "ml.md"))
    args = parser.parse_args()

    names = [n for n in sorted(TREES) + OTHERS if not args.only or n in args.only]
    header = ("| model | rows | threads | tessel (auto) | tessel branch | tessel tensorized | tessel gemm | "
              "tessel tensorized-quantized | scikit-learn | onnxruntime | tl2cgen | vs sklearn | vs ort | vs tl2cgen |")
    lines = [header, "|" + "---|" * 14]
    print(header, flush=True)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    for name in names:
        model = FIXTURES / name / "model.onnx"
        estimator, features = train(name)
        tree = name in TREES
        for threads in args.threads:
            predict = sklearn_predict(estimator, threads)
            compiled = tl2cgen_predictor(estimator, name, threads) if tree else None
            for batch in BATCHES:
                x = rng.uniform(-1, 1, size=(batch, features)).astype(np.float32)
                auto = tessel_rate(args.tessel, model, batch, threads, "auto", args.seconds)
                branch = tessel_rate(args.tessel, model, batch, threads, "branch", args.seconds) if tree else None
                tensor = tessel_rate(args.tessel, model, batch, threads, "tensorized", args.seconds) if tree else None
                gemm = tessel_rate(args.tessel, model, batch, threads, "gemm", args.seconds) if tree else None
                quantized = (tessel_rate(args.tessel, model, batch, threads, "tensorized-quantized", args.seconds)
                             if tree else None)
                with threadpool_limits(limits=threads):
                    sk = batch / time_call(lambda: predict(x), args.seconds)
                ort = ort_rate(model, x, threads, args.seconds)
                tl = None
                if compiled:
                    predictor, tl2cgen = compiled
                    dmat = tl2cgen.DMatrix(x)
                    tl = batch / time_call(lambda: predictor.predict(dmat), args.seconds)
                row = (f"| {name} | {batch} | {threads} | {fmt_rate(auto)} | {fmt_rate(branch)} | {fmt_rate(tensor)} | "
                       f"{fmt_rate(gemm)} | {fmt_rate(quantized)} | {fmt_rate(sk)} | {fmt_rate(ort)} | {fmt_rate(tl)} | {ratio(auto, sk)} | {ratio(auto, ort)} | "
                       f"{ratio(auto, tl)} |")
                lines.append(row)
                print(row, flush=True)
    note = (f"Rows per second (median latency); ratios are Tessel (auto) over the peer, > 1 means Tessel is faster. "
            "Inputs: float32 uniform in [-1, 1]. `-`: not applicable (non-tree models have one Tessel strategy; "
            f"tl2cgen compiles trees only), failed or took over {COMPILE_TIMEOUT} s to compile (see stderr). "
            f"Machine: {os.cpu_count()} cores, shared with other jobs while measured.")
    output = pathlib.Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("# Classical ML prediction throughput\n\n" + note + "\n\n" + "\n".join(lines) + "\n")
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    main()
