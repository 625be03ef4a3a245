// The execution backends the CLI offers (interp, llvm) behind one interface: compile a module once, run it
// on inputs many times. `tessel run`, `tessel conformance` and `tessel bench` share it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Tensor.h"

namespace tessel::cli {

using RunModule = std::function<Expected<std::vector<Tensor>>(const std::vector<Tensor>&)>;

struct BackendOptions {
  std::string backend = "interp";  ///< interp | llvm
  std::string target = "host";
  int threads = 0;  ///< 0: TESSEL_NUM_THREADS or every core
  bool fast_math = false;
  bool profile = false;  ///< llvm: time each kernel (read back with tessel_profile_*)
};

/// "interp, llvm".
std::string backend_names();

/// An error naming the known backends unless `name` is one.
Status check_backend_name(const std::string& name);

/// Prepares `module` (as imported or parsed: the llvm backend runs the -O3 pipeline first) for running.
/// `compile_seconds` (if set) receives the time spent compiling.
Expected<RunModule> prepare_backend(std::unique_ptr<Module> module, const BackendOptions& options,
                                    double* compile_seconds = nullptr);

}  // namespace tessel::cli
