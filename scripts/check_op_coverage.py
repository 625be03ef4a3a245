#!/usr/bin/env python3
"""Fails unless every op in ir/Ops.def has interpreter tests.

An op counts as tested when `OpKind::<Enum>` appears in one of tests/unit/Interp*Test.cpp.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
ops = re.findall(r"^TESSEL_OP\((\w+),", (root / "ir/Ops.def").read_text(), re.M)
tests = "".join(path.read_text() for path in sorted((root / "tests/unit").glob("Interp*Test.cpp")))
used = set(re.findall(r"OpKind::(\w+)", tests))
missing = [op for op in ops if op not in used]
print(f"op coverage: {len(ops) - len(missing)} of {len(ops)} ops have interpreter tests")
if missing:
    print("ops without interpreter tests: " + ", ".join(missing))
    sys.exit(1)
