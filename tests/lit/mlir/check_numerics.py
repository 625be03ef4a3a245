#!/usr/bin/env python3
"""Checks that Tessel's MLIR export computes what the reference interpreter computes.

For one .tsl model: random inputs (seeded) go through `tessel run` (the interpreter) and through the
MLIR export, lowered by mlir-opt (one-shot bufferization, linalg to loops, then to LLVM) and run by
mlir-cpu-runner. The exported module gets one extra function per output that calls @main on the same
inputs (embedded as dense constants) and counts the elements that differ from the interpreter's
output, and @check_all sums those counts; the runner prints the sum, which must be 0. Floats may differ by rounding only
(|a - b| <= 1e-6 + 1e-5 * |b|, equal infinities, NaN against NaN); integers and bools must be equal.

Usage: check_numerics.py TESSEL MLIR_OPT MLIR_CPU_RUNNER MODEL.tsl [NAME=VALUE ...]
  NAME=VALUE binds a symbol (N=2) or fixes a scalar input's value (start=-2.0); specials=1 mixes edge
  values (inf, NaN, -0, integer extremes) into the random inputs.
Strided copies (from tensor.pad / insert_slice) call memrefCopy in libmlir_c_runner_utils (package
libmlir-19), found next to the LLVM tools.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

PIPELINE = [
    "--one-shot-bufferize=bufferize-function-boundaries",
    "--convert-linalg-to-loops",
    "--convert-math-to-funcs=convert-ctlz=false",
    "--expand-strided-metadata",
    "--lower-affine",
    "--convert-scf-to-cf",
    "--convert-math-to-llvm",
    "--convert-math-to-libm",
    "--convert-arith-to-llvm",
    "--convert-index-to-llvm",
    "--finalize-memref-to-llvm",
    "--convert-func-to-llvm",
    "--convert-cf-to-llvm",
    "--reconcile-unrealized-casts",
]

NUMPY_DTYPES = {
    "f32": np.float32, "f64": np.float64, "f16": np.float16, "i8": np.int8, "i16": np.int16,
    "i32": np.int32, "i64": np.int64, "u8": np.uint8, "u16": np.uint16, "u32": np.uint32,
    "u64": np.uint64, "bool": np.bool_,
}
MLIR_ELEMENT = {"f32": "f32", "f64": "f64", "f16": "f16", "i8": "i8", "i16": "i16", "i32": "i32",
                "i64": "i64", "u8": "i8", "u16": "i16", "u32": "i32", "u64": "i64", "bool": "i1"}


def parse_signature(text):
    """(inputs, outputs) of @main as [(name, dtype, [dim text])] from the .tsl text."""
    match = re.search(r"func @main\((.*?)\) -> \((.*?)\) \{", text)
    if not match:
        sys.exit("check_numerics: no `func @main(...) -> (...)` in the model")

    def values(part):
        found = re.findall(r'%?"?([\w.]+)"?: (\w+)\[([^\]]*)\]', part)
        return [(name, dtype, [d.strip() for d in dims.split(",") if d.strip()]) for name, dtype, dims in found]

    return values(match.group(1)), values(match.group(2))


def shape_of(dims, symbols):
    shape = []
    for dim in dims:
        value = eval(dim, {"__builtins__": {}}, dict(symbols))  # dims are small integer expressions
        shape.append(int(value))
    return shape


def random_input(dtype, shape, rng, specials):
    """Values in [-2, 2) (floats) or [-3, 3] (integers); with `specials`, about one element in five is an
    edge value instead: +-0, +-inf, NaN, halves (floats), or the dtype's extremes, -1 and 0 (integers)."""
    if dtype == "bool":
        return rng.random(shape) < 0.5
    np_type = NUMPY_DTYPES[dtype]
    if dtype.startswith("f"):
        values = rng.uniform(-2.0, 2.0, shape).astype(np_type)
        edge = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, -1.5, 2.5], dtype=np_type)
    else:
        low = 0 if dtype.startswith("u") else -3
        values = rng.integers(low, 4, shape).astype(np_type)
        info = np.iinfo(np_type)
        edge = np.array([info.min, info.max, 0, 1, info.max if dtype.startswith("u") else -1], dtype=np_type)
    if specials and values.size:
        mask = rng.random(shape) < 0.2
        values[mask] = rng.choice(edge, size=int(mask.sum()))
    return values


def literal(array, dtype):
    """`dense<...> : tensor<...>` holding `array`: hex bytes, or nested true/false lists for bool (MLIR
    packs i1 hex data into bits)."""
    tensor = static_type(dtype, array.shape)
    if array.size == 0:
        return f"dense<> : {tensor}"
    if dtype == "bool":
        text = np.array2string(array, separator=", ", threshold=sys.maxsize).replace("\n", "")
        return f"dense<{text.replace('True', 'true').replace('False', 'false')}> : {tensor}"
    return f'dense<"0x{np.ascontiguousarray(array).tobytes().hex().upper()}"> : {tensor}'


def tensor_type(dtype, dims):
    element = MLIR_ELEMENT[dtype]
    parts = [d if re.fullmatch(r"\d+", d) else "?" for d in dims]
    return f"tensor<{'x'.join(parts + [element])}>"


def static_type(dtype, shape):
    element = MLIR_ELEMENT[dtype]
    return f"tensor<{'x'.join([str(d) for d in shape] + [element])}>"


def mismatch_body(dtype):
    """Body of a linalg.generic over (actual, expected, count) adding 1 where they differ."""
    element = MLIR_ELEMENT[dtype]
    lines = []
    if dtype.startswith("f"):
        lines += [
            f"%a64 = arith.extf %a : {element} to f64" if element != "f64" else "%a64 = arith.addf %a, %zero64 : f64",
            f"%b64 = arith.extf %b : {element} to f64" if element != "f64" else "%b64 = arith.addf %b, %zero64 : f64",
            "%diff = arith.subf %a64, %b64 : f64",
            "%adiff = math.absf %diff : f64",
            "%bmag = math.absf %b64 : f64",
            "%rel = arith.mulf %bmag, %rtol : f64",
            "%tol = arith.addf %rel, %atol : f64",
            "%close = arith.cmpf ole, %adiff, %tol : f64",
            "%same = arith.cmpf oeq, %a64, %b64 : f64",
            "%anan = arith.cmpf uno, %a64, %a64 : f64",
            "%bnan = arith.cmpf uno, %b64, %b64 : f64",
            "%bothnan = arith.andi %anan, %bnan : i1",
            "%ok1 = arith.ori %close, %same : i1",
            "%ok = arith.ori %ok1, %bothnan : i1",
            "%bad = arith.xori %ok, %true : i1",
        ]
    else:
        lines.append(f"%bad = arith.cmpi ne, %a, %b : {element}")
    lines += ["%one = arith.extui %bad : i1 to i64", "%next = arith.addi %count, %one : i64",
              "linalg.yield %next : i64"]
    return lines


def check_function(index, inputs, outputs, input_arrays, expected, out_dtype):
    args, arg_types, body = [], [], []
    for k, ((name, dtype, dims), array) in enumerate(zip(inputs, input_arrays)):
        body.append(f"%in{k}_s = arith.constant {literal(array, dtype)}")
        arg_type = tensor_type(dtype, dims)
        body.append(f"%in{k} = tensor.cast %in{k}_s : {static_type(dtype, array.shape)} to {arg_type}")
        args.append(f"%in{k}")
        arg_types.append(arg_type)
    result_types = [tensor_type(dtype, dims) for _, dtype, dims in outputs]
    count = len(outputs)
    results = "%r" if count == 1 else f"%r:{count}"
    body.append(f"{results} = call @main({', '.join(args)}) : ({', '.join(arg_types)}) -> ({', '.join(result_types)})")
    result = "%r" if count == 1 else f"%r#{index}"
    static = static_type(out_dtype, expected.shape)
    rank = expected.ndim
    dims = ", ".join(f"d{i}" for i in range(rank))
    iterators = ", ".join(['"reduction"'] * rank)
    body += [
        f"%actual = tensor.cast {result} : {result_types[index]} to {static}",
        f"%expected = arith.constant {literal(expected, out_dtype)}",
        "%true = arith.constant true",
        "%atol = arith.constant 1.0e-6 : f64",
        "%rtol = arith.constant 1.0e-5 : f64",
        "%zero64 = arith.constant 0.0 : f64",
        "%c0 = arith.constant 0 : i64",
        "%init = tensor.empty() : tensor<i64>",
        "%zero = linalg.fill ins(%c0 : i64) outs(%init : tensor<i64>) -> tensor<i64>",
        f"%counted = linalg.generic {{indexing_maps = [affine_map<({dims}) -> ({dims})>, affine_map<({dims}) -> ({dims})>, "
        f"affine_map<({dims}) -> ()>], iterator_types = [{iterators}]}} "
        f"ins(%actual, %expected : {static}, {static}) outs(%zero : tensor<i64>) {{",
        f"^bb0(%a: {MLIR_ELEMENT[out_dtype]}, %b: {MLIR_ELEMENT[out_dtype]}, %count: i64):",
        *["  " + line for line in mismatch_body(out_dtype)],
        "} -> tensor<i64>",
        "%mismatches = tensor.extract %counted[] : tensor<i64>",
        "return %mismatches : i64",
    ]
    return f"  func.func @check_{index}() -> i64 {{\n" + "".join(f"    {line}\n" for line in body) + "  }\n"


def check_all(count):
    """@check_all: the sum of every output's mismatch count."""
    body = ["%total0 = arith.constant 0 : i64"]
    for i in range(count):
        body.append(f"%c{i} = call @check_{i}() : () -> i64")
        body.append(f"%total{i + 1} = arith.addi %total{i}, %c{i} : i64")
    body.append(f"return %total{count} : i64")
    return "  func.func @check_all() -> i64 {\n" + "".join(f"    {line}\n" for line in body) + "  }\n"


def runner_utils(mlir_opt):
    """-shared-libs for libmlir_c_runner_utils, looked up in the lib folder beside mlir-opt's bin."""
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(mlir_opt))), "lib")
    found = sorted(glob.glob(os.path.join(lib, "libmlir_c_runner_utils.so*")))
    if not found:
        sys.exit(f"check_numerics: libmlir_c_runner_utils.so not found in {lib}; install libmlir-19")
    return [f"-shared-libs={found[0]}"]


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    tessel, mlir_opt, runner, model = sys.argv[1:5]
    for tool in (mlir_opt, runner):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"check_numerics: tool '{tool}' not found; install mlir-19-tools and libmlir-19")
    bindings = dict(arg.split("=", 1) for arg in sys.argv[5:])
    specials = bindings.pop("specials", "0") == "1"
    symbols = {k: int(v) for k, v in bindings.items() if re.fullmatch(r"-?\d+", v)}
    with open(model) as f:
        inputs, outputs = parse_signature(f.read())
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as scratch:
        input_arrays, specs = [], []
        for name, dtype, dims in inputs:
            shape = shape_of(dims, symbols)
            if name in bindings and not dims:
                array = np.array(float(bindings[name])).astype(NUMPY_DTYPES[dtype])
            else:
                array = random_input(dtype, shape, rng, specials)
            path = os.path.join(scratch, f"{name}.npy")
            np.save(path, array)
            input_arrays.append(array)
            specs += ["--input", f"{name}={path}"]
        out_dir = os.path.join(scratch, "out")
        subprocess.run([tessel, "run", model, *specs, "-o", out_dir], check=True)
        expected = [np.load(os.path.join(out_dir, f"{name}.npy")) for name, _, _ in outputs]
        exported = subprocess.run([tessel, "dump", model, "--format=mlir"], check=True, capture_output=True,
                                  text=True).stdout
        checks = "".join(check_function(i, inputs, outputs, input_arrays, expected[i], outputs[i][1])
                         for i in range(len(outputs)))
        checks += check_all(len(outputs))
        module = exported.rstrip().removesuffix("}") + "\n" + checks + "}\n"
        source = os.path.join(scratch, "module.mlir")
        with open(source, "w") as f:
            f.write(module)
        lowered = os.path.join(scratch, "lowered.mlir")
        subprocess.run([mlir_opt, source, *PIPELINE, "-o", lowered], check=True)
        utils = runner_utils(mlir_opt)

        def mismatches(entry):
            run = subprocess.run([runner, lowered, "-e", entry, "-entry-point-result=i64", *utils],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"check_numerics: {runner} failed running {entry}:\n{run.stderr}")
            return int(run.stdout.strip().splitlines()[-1])

        # One JIT run on success; on a mismatch, one more per output to say which differ.
        total = mismatches("check_all")
        sizes = ", ".join(f"{name} {dtype}{list(expected[i].shape)}" for i, (name, dtype, _) in enumerate(outputs))
        print(f"{os.path.basename(model)}: {total} elements differ from the interpreter ({sizes})")
        failures = 0
        if total:
            for i, (name, dtype, _) in enumerate(outputs):
                count = mismatches(f"check_{i}")
                if count:
                    print(f"  output '{name}' ({dtype}{list(expected[i].shape)}): {count} of {expected[i].size} differ")
                    failures += 1
            failures = max(failures, 1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
