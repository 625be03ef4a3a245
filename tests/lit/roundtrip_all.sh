#!/usr/bin/env bash
# Checks that every .tsl file under a directory round-trips through the CLI:
# `tessel dump` of the file, dumped again, gives the same text. Files expected
# to fail (first line `// EXPECT-ERROR`, or under lit/errors/) are skipped.
# Usage: roundtrip_all.sh TESSEL_BINARY TESTS_DIR
set -u
tessel=$1
root=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

checked=0
failed=0
while IFS= read -r -d '' file; do
  case "$file" in */lit/errors/*) continue ;; esac
  if head -n 1 "$file" | grep -q '^// EXPECT-ERROR'; then continue; fi
  checked=$((checked + 1))
  if ! "$tessel" dump --full-constants "$file" > "$scratch/first.tsl" 2> "$scratch/err"; then
    echo "FAIL: $file: tessel dump failed:"; cat "$scratch/err"
    failed=$((failed + 1))
    continue
  fi
  if ! "$tessel" dump --full-constants "$scratch/first.tsl" > "$scratch/second.tsl" 2> "$scratch/err"; then
    echo "FAIL: $file: the dump does not parse back:"; cat "$scratch/err"
    failed=$((failed + 1))
    continue
  fi
  if ! diff -u "$scratch/first.tsl" "$scratch/second.tsl"; then
    echo "FAIL: $file: dumping the dump changes it (diff above)"
    failed=$((failed + 1))
  fi
done < <(find "$root" -name '*.tsl' -type f -print0 | sort -z)

echo "round-trip: $checked files checked, $failed failed"
if [ "$checked" -eq 0 ]; then
  echo "FAIL: no .tsl files found under $root"
  exit 1
fi
[ "$failed" -eq 0 ]
