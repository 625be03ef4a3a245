# lit configuration for Tessel's golden tests (.tsl files). RUN lines may use
# `tessel` or `%tessel` (the built CLI), `FileCheck` and `not`.
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
