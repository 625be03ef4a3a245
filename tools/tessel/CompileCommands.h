// `tessel compile` (AOT: a header and a static library) and `tessel bench` (compile with a backend, then time
// runs on generated inputs).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "tools/tessel/Backends.h"
#include "tools/tessel/PassOptions.h"

namespace CLI {
class App;
}

namespace tessel::cli {

struct CompileCommandOptions {
  std::string file;
  std::string output_dir;
  std::string name;
  std::string backend = "llvm";
  std::string weights = "embedded";  ///< embedded | external
  bool stats = false;
  bool fast_math = false;
  bool profile = false;   ///< the entry times each kernel (tessel_profile_* in the runtime)
  PassCliOptions passes;  ///< default -O3
};

struct BenchCommandOptions {
  std::string file;
  BackendOptions backend{"llvm"};
  int64_t batch = 1;              ///< value of the inputs' first symbolic dim
  std::vector<std::string> dims;  ///< other symbolic dims, NAME=VALUE
  int iterations = 0;             ///< 0: as many as fit in about `seconds`
  double seconds = 2.0;
  int warmup = 3;
};

struct CompileCommands {
  CompileCommandOptions compile;
  BenchCommandOptions bench;
  CLI::App* compile_app = nullptr;
  CLI::App* bench_app = nullptr;
};

void add_compile_commands(CLI::App& app, CompileCommands& options);
/// Runs whichever of the commands was parsed; `ran` says whether one was.
Status run_compile_commands(const CompileCommands& options, bool verbose, std::ostream& out, bool& ran);

}  // namespace tessel::cli
