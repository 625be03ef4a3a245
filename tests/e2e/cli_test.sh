#!/usr/bin/env bash
# End-to-end tests of the `tessel` CLI: runs the committed model (data/model.tsl)
# on a committed input and compares the output .npy files byte for byte with
# expected files (hand-computed values, see the model's comments), and checks
# the error contract: `tessel: error: ...` on stderr and exit code 1.
#
# usage: cli_test.sh TESSEL DATA_DIR SCRATCH_DIR [CASE...]
#   CASE: run, errors, dump, names, usage (default: all)
set -u

TESSEL=$1
DATA=$2
SCRATCH=$3
shift 3
CASES=("$@")
[ ${#CASES[@]} -eq 0 ] && CASES=(run errors dump names usage)

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Runs tessel with the given arguments, capturing stdout, stderr and the exit code.
invoke() {
  "$TESSEL" "$@" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr"
  rc=$?
}

# expect_ok DESCRIPTION ARGS...: exit code 0.
expect_ok() {
  local what=$1
  shift
  invoke "$@"
  if [ "$rc" -ne 0 ]; then
    fail "$what: exit code $rc, expected 0; stderr: $(cat "$SCRATCH/stderr")"
  fi
}

# expect_error DESCRIPTION MESSAGE ARGS...: exit code 1 and MESSAGE (a fixed string) on stderr.
expect_error() {
  local what=$1 message=$2
  shift 2
  invoke "$@"
  if [ "$rc" -ne 1 ]; then
    fail "$what: exit code $rc, expected 1"
  fi
  if ! grep -qF -- "$message" "$SCRATCH/stderr"; then
    fail "$what: stderr lacks '$message'; it was: $(cat "$SCRATCH/stderr")"
  fi
}

# expect_same_file DESCRIPTION ACTUAL EXPECTED
expect_same_file() {
  if [ ! -f "$2" ]; then
    fail "$1: $2 was not written"
  elif ! cmp -s "$2" "$3"; then
    fail "$1: $2 differs from $3"
  fi
}

case_run() {
  local out="$SCRATCH/out/nested"  # a missing, nested directory: run must create it
  rm -rf "$SCRATCH/out"
  expect_ok "run" run "$DATA/model.tsl" --backend=interp --input "x=$DATA/x.npy" --output-dir "$out"
  expect_same_file "output y" "$out/y.npy" "$DATA/expected_y.npy"
  expect_same_file "output s" "$out/s.npy" "$DATA/expected_s.npy"
  expect_same_file "output m" "$out/m.npy" "$DATA/expected_m.npy"

  # Global --verbose narrates on stderr, before or after the subcommand.
  expect_ok "run --verbose" --verbose run "$DATA/model.tsl" -i "%x=$DATA/x.npy" -o "$SCRATCH/out/v"
  grep -qF "tessel: preparing the interp backend" "$SCRATCH/stderr" || fail "--verbose did not narrate: $(cat "$SCRATCH/stderr")"
  expect_ok "run ... --verbose" run "$DATA/model.tsl" -i "x=$DATA/x.npy" -o "$SCRATCH/out/v" --verbose
  grep -qF "tessel: output 's' -> " "$SCRATCH/stderr" || fail "--verbose after the subcommand did not narrate"

  # The compiled backend writes the same outputs.
  expect_ok "run llvm" run "$DATA/model.tsl" --backend=llvm --input "x=$DATA/x.npy" --output-dir "$SCRATCH/out/llvm"
  expect_same_file "llvm output y" "$SCRATCH/out/llvm/y.npy" "$DATA/expected_y.npy"
  expect_same_file "llvm output s" "$SCRATCH/out/llvm/s.npy" "$DATA/expected_s.npy"
  expect_same_file "llvm output m" "$SCRATCH/out/llvm/m.npy" "$DATA/expected_m.npy"

  # Without --output-dir the outputs are printed.
  expect_ok "run to stdout" run "$DATA/model.tsl" --input "x=$DATA/x.npy"
  grep -qxF "s: f32[] = [9.25]" "$SCRATCH/stdout" || fail "printed outputs: $(cat "$SCRATCH/stdout")"
  grep -qxF "y: f32[2, 3] = [2, 0, 3.5, 0, 3, 0.75]" "$SCRATCH/stdout" || fail "printed y: $(cat "$SCRATCH/stdout")"
}

case_errors() {
  expect_error "missing input" "tessel: error: missing input 'x' (f32[2, 3]) for @main; it expects x: f32[2, 3]" \
    run "$DATA/model.tsl" --output-dir "$SCRATCH/out"
  expect_error "unknown input" "tessel: error: @main has no input 'z'; it expects x: f32[2, 3]" \
    run "$DATA/model.tsl" --input "z=$DATA/x.npy" --input "x=$DATA/x.npy"
  expect_error "malformed --input" "is not of the form NAME=PATH" run "$DATA/model.tsl" --input "$DATA/x.npy"
  expect_error "repeated input" "input 'x' is given more than once" \
    run "$DATA/model.tsl" --input "x=$DATA/x.npy" --input "x=$DATA/x.npy"
  expect_error "input of the wrong shape" "input 'x' has shape f32[] that does not fit f32[2, 3]" \
    run "$DATA/model.tsl" --input "x=$DATA/expected_s.npy"
  expect_error "input that is not npy" "$DATA/model.tsl: not an npy file" \
    run "$DATA/model.tsl" --input "x=$DATA/model.tsl"
  expect_error "missing npy" "$SCRATCH/nope.npy: cannot open npy file: no such file" \
    run "$DATA/model.tsl" --input "x=$SCRATCH/nope.npy"
  expect_error "unknown backend" "tessel: error: unknown backend 'tpu' (hint: available backends: interp, llvm)" \
    run "$DATA/model.tsl" --backend=tpu --input "x=$DATA/x.npy"
  expect_error "missing model" "tessel: error: " run "$SCRATCH/no_such_model.tsl" --input "x=$DATA/x.npy"
  grep -qF "no_such_model.tsl" "$SCRATCH/stderr" || fail "missing model: the error does not name the file"

  printf 'func @main(%%x: f32[2]) -> (y: f32[2]) {\n  %%y = relu(%%x) : f32[2\n}\n' >"$SCRATCH/bad_syntax.tsl"
  expect_error "syntax error" "tessel: error: $SCRATCH/bad_syntax.tsl:" dump "$SCRATCH/bad_syntax.tsl"
  # Parses, but the declared result type contradicts add's shape rule: the verifier must reject it.
  printf 'func @main(%%x: f32[2]) -> (y: f32[3]) {\n  %%y = add(%%x, %%x) : f32[3]\n  return %%y\n}\n' \
    >"$SCRATCH/bad_type.tsl"
  expect_error "verifier error" "tessel: error: " run "$SCRATCH/bad_type.tsl" --input "x=$DATA/x.npy"
  [ -s "$SCRATCH/stdout" ] && fail "verifier error: printed output anyway"
}

case_dump() {
  expect_ok "dump text" dump "$DATA/model.tsl"
  cp "$SCRATCH/stdout" "$SCRATCH/dump1.tsl"
  expect_ok "dump of the dump" dump "$SCRATCH/dump1.tsl" --full-constants
  cmp -s "$SCRATCH/stdout" "$SCRATCH/dump1.tsl" || fail "dump does not round-trip"
  grep -qF "const @b : f32[3] = [1.0, -2.0, 0.5]" "$SCRATCH/dump1.tsl" || fail "dump lost the constant"

  expect_ok "dump elided" dump "$DATA/model.tsl" --elide-constants=2
  grep -qF "elided" "$SCRATCH/stdout" || fail "--elide-constants=2 did not elide a 3-element constant"
  expect_ok "dump not elided" dump "$DATA/model.tsl" --elide-constants=3
  grep -qF "elided" "$SCRATCH/stdout" && fail "--elide-constants=3 elided a 3-element constant"

  expect_ok "dump dot" dump --format=dot "$DATA/model.tsl"
  [ "$(head -c 7 "$SCRATCH/stdout")" = "digraph" ] || fail "dot output does not start with digraph"
  grep -qF 'label="reduce_max\naxes = [-1]\nkeepdims = 0\n%m: f32[2]"' "$SCRATCH/stdout" ||
    fail "dot output lacks the reduce_max node: $(cat "$SCRATCH/stdout")"
  grep -qF 'f0_op2 -> f0_out0 [label="f32[2, 3]"]' "$SCRATCH/stdout" || fail "dot output lacks the edge to y"
  if command -v dot >/dev/null; then
    dot -Tsvg "$SCRATCH/stdout" >/dev/null || fail "Graphviz rejects the dot output"
  fi
}

# Value and output names may hold any text: DOT labels must escape it, and output files get safe names.
case_names() {
  printf 'func @main(%%"in \\"q\\" \\\\ x": f32[2]) -> ("out/y": f32[2]) {\n' >"$SCRATCH/names.tsl"
  printf '  %%"r\\\\n" = relu(%%"in \\"q\\" \\\\ x") : f32[2]\n  return %%"r\\\\n"\n}\n' >>"$SCRATCH/names.tsl"
  expect_ok "dot with quoted names" dump --format=dot "$SCRATCH/names.tsl"
  grep -qF 'label="input %\"in \\\"q\\\" \\\\ x\"\nf32[2]"' "$SCRATCH/stdout" ||
    fail "dot label of a quoted input name: $(cat "$SCRATCH/stdout")"
  if command -v dot >/dev/null; then
    dot -Tsvg "$SCRATCH/stdout" >/dev/null || fail "Graphviz rejects the dot output for quoted names"
  fi
  # The input is named by its bare text; the output "out/y" is written as out_y.npy inside the directory.
  expect_ok "run with quoted names" run "$SCRATCH/names.tsl" --input "in \"q\" \\ x=$DATA/expected_m.npy" \
    --output-dir "$SCRATCH/names_out"
  expect_same_file "output out/y" "$SCRATCH/names_out/out_y.npy" "$DATA/expected_m.npy"  # relu([3.5, 3])
}

case_usage() {
  expect_ok "--help" --help
  grep -qF "dump" "$SCRATCH/stdout" || fail "--help does not list dump"
  expect_ok "run --help" run --help
  grep -qF -- "--output-dir" "$SCRATCH/stdout" || fail "run --help does not list --output-dir"
  expect_ok "--version" --version
  grep -qE "^tessel [0-9]" "$SCRATCH/stdout" || fail "--version printed: $(cat "$SCRATCH/stdout")"
  expect_error "no subcommand" "tessel: error: "
  expect_error "unknown option" "tessel: error: " dump "$DATA/model.tsl" --no-such-option
  expect_error "bad format" "tessel: error: " dump "$DATA/model.tsl" --format=svg
  expect_error "full and elided" "tessel: error: " dump "$DATA/model.tsl" --full-constants --elide-constants=4
  expect_error "negative elision" "tessel: error: " dump "$DATA/model.tsl" --elide-constants=-1
}

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
for name in "${CASES[@]}"; do
  case "$name" in
    run | errors | dump | names | usage) "case_$name" ;;
    *) fail "unknown case '$name'" ;;
  esac
done
if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed: ${CASES[*]}"
