# lit configuration for Tessel's golden tests (.tsl files). RUN lines may use
# `tessel` or `%tessel` (the built CLI), `FileCheck` and `not`, and `%mlir-opt`
# (Debian's mlir-opt-19; tests that use it say `REQUIRES: mlir-opt`).
import os

import lit.formats

config.name = "Tessel"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".tsl"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.tessel_lit_binary_dir

config.substitutions.append(("%tessel", config.tessel_path))
path = [os.path.dirname(config.tessel_path), config.llvm_tools_dir, config.environment.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(path)

# MLIR export tests pipe `tessel dump --format=mlir` through mlir-opt, which parses and verifies it.
if getattr(config, "mlir_opt", "") and os.path.exists(config.mlir_opt):
    config.available_features.add("mlir-opt")
config.substitutions.append(("%mlir-opt", getattr(config, "mlir_opt", "") or "mlir-opt-not-found"))
