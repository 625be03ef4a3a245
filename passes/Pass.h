// The pass interface. A pass transforms a module in place and says whether it
// changed anything; it is registered once in passes/Passes.def and run by the
// pass manager (passes/PassManager.h), which verifies, prints and times it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Target.h"

namespace tessel {

/// Limits and choices that passes read. Safe defaults; the CLI and the C++ API set them.
struct PassOptions {
  /// Constant folding never materializes a tensor larger than this.
  int64_t fold_max_bytes = int64_t{1} << 20;
  /// Run the verifier after every pass (on in tests).
  bool verify_each = false;
  /// Print what each pass does (to PassContext::log).
  bool verbose = false;
};

/// What every pass sees besides the module.
struct PassContext {
  PassOptions options;
  /// The machine the code is for (vector width, caches, cores; GPU limits).
  Target target;
  /// Where passes write verbose notes; null means silent.
  std::ostream* log = nullptr;
};

/// A pass: transforms `module` in place; returns whether it changed anything, or an error that names
/// the function, op and rule involved.
using PassFn = Expected<bool> (*)(Module& module, PassContext& context);

struct PassInfo {
  std::string_view name;     ///< "fold-constants"
  std::string_view summary;  ///< one line for `--help` and `--time-passes`
  PassFn run;
};

}  // namespace tessel
