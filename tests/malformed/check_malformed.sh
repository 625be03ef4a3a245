#!/usr/bin/env bash
# The malformed-model test set: `tessel dump MODEL` must exit with code 1 (an error, never a crash or a
# signal) and print the text expected.txt gives for MODEL. Every .onnx file here needs an entry.
# Usage: check_malformed.sh TESSEL_BINARY
set -u
tessel=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/*.onnx "$work"/
# A link inside the model folder that leads outside it must be refused like `..`.
echo "outside" > "$work/../tessel_malformed_outside.bin.$$" && ln -s "$work/../tessel_malformed_outside.bin.$$" "$work/escape_link.bin"
trap 'rm -rf "$work" "$work/../tessel_malformed_outside.bin.$$"' EXIT

failures=0
checked=0
for model in "$work"/*.onnx; do
  name=$(basename "$model")
  expected=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$here/expected.txt")
  if [[ -z "$expected" ]]; then
    echo "FAIL $name: no entry in expected.txt"
    failures=$((failures + 1))
    continue
  fi
  output=$("$tessel" dump "$model" 2>&1 >/dev/null)
  rc=$?
  checked=$((checked + 1))
  if [[ $rc -ne 1 ]]; then
    echo "FAIL $name: exit code $rc (expected 1); output: $output"
    failures=$((failures + 1))
  elif [[ "$output" != *"$expected"* ]]; then
    echo "FAIL $name: message lacks '$expected'; got: $output"
    failures=$((failures + 1))
  elif [[ "$output" != "tessel: error: "* ]]; then
    echo "FAIL $name: message does not start with 'tessel: error: '; got: $output"
    failures=$((failures + 1))
  fi
done
echo "malformed models: $checked checked, $failures failed"
[[ $failures -eq 0 ]]
