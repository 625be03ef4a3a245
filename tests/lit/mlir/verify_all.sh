#!/usr/bin/env bash
# Exports every .tsl model under a directory to MLIR (`tessel dump --format=mlir`)
# and checks that mlir-opt parses and verifies the result. A model holding an op
# that the exporter does not support (recurrent layers, tree ensembles, kernels, bitcast,
# scatter_elements) must instead fail with the exporter's own error naming that
# op. Files that are not valid models (first line `// EXPECT-ERROR`, or under
# lit/errors/) are skipped.
# Usage: verify_all.sh TESSEL_BINARY MLIR_OPT TESTS_DIR
set -u
tessel=$1
mlir_opt=$2
root=$3
if [ -z "$mlir_opt" ] || [ ! -x "$mlir_opt" ]; then
  echo "FAIL: mlir-opt not found ('$mlir_opt'); install it with: apt-get install -y mlir-19-tools"
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

unsupported_ops='lstm|gru|rnn|tree_ensemble|scatter_elements|kernel|bitcast'
verified=0
refused=0
failed=0
while IFS= read -r -d '' file; do
  case "$file" in */lit/errors/*) continue ;; esac
  if head -n 1 "$file" | grep -q '^// EXPECT-ERROR'; then continue; fi
  # An unsupported op appears as `= lstm(` (or `%a, %b = gru(`) in a function body.
  expected_op=$(grep -v "^[[:space:]]*//" "$file" | grep -oE "= ($unsupported_ops)\(" | head -n 1 | sed -E 's/^= (.*)\($/\1/')
  if "$tessel" dump "$file" --format=mlir > "$scratch/out.mlir" 2> "$scratch/err"; then
    if [ -n "$expected_op" ]; then
      echo "FAIL: $file: holds op '$expected_op' but the export succeeded"
      failed=$((failed + 1))
      continue
    fi
    if ! "$mlir_opt" "$scratch/out.mlir" > /dev/null 2> "$scratch/opt_err"; then
      echo "FAIL: $file: mlir-opt rejects the export:"
      head -n 20 "$scratch/opt_err"
      failed=$((failed + 1))
      continue
    fi
    verified=$((verified + 1))
    continue
  fi
  if [ -z "$expected_op" ]; then
    echo "FAIL: $file: the export failed:"; cat "$scratch/err"
    failed=$((failed + 1))
    continue
  fi
  if ! grep -q "MLIR export does not support op '$expected_op' (.*); decompose it first" "$scratch/err"; then
    echo "FAIL: $file: the export of op '$expected_op' failed without the expected message:"; cat "$scratch/err"
    failed=$((failed + 1))
    continue
  fi
  refused=$((refused + 1))
done < <(find "$root" -name '*.tsl' -type f -print0 | sort -z)

echo "mlir export: $verified verified by $mlir_opt, $refused refused with the expected error, $failed failed"
if [ $((verified + refused)) -eq 0 ]; then
  echo "FAIL: no .tsl files found under $root"
  exit 1
fi
[ "$failed" -eq 0 ]
