// The pass manager: runs a list of passes from the pass table (Passes.def) by
// name, with the instrumentation every compiler driver wants -- print the IR
// before/after a pass, after every pass or only when it changed something;
// stop after a pass; run the verifier after every pass (an error names the
// pass that broke the IR); time each pass. Pipelines -O0..-O3 are plain name
// lists (build_pipeline), so they read like Halide's Lower.cpp.
//
//   PassContext context;
//   PassManager pm(context);
//   pm.add("cse");                        // or pm.add_pipeline(2) / pm.add_list("a,b")
//   Expected<bool> changed = pm.run(module);
#pragma once

#include <iosfwd>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Printer.h"
#include "passes/Pass.h"

namespace tessel {

/// Every pass of Passes.def, in table order.
std::span<const PassInfo> all_passes();
/// The pass named `name`, or null.
const PassInfo* find_pass(std::string_view name);
/// "canonicalize, cse, dce, ..." -- the known pass names, for error messages.
std::string known_pass_names();

/// The pass names of optimization level 0..3 (see docs/passes.md); an error for other levels.
Expected<std::vector<std::string>> build_pipeline(int opt_level);

/// What the pass manager prints and checks around each pass.
struct PassInstrumentation {
  bool print_after_all = false;
  bool print_after_change = false;     ///< print after a pass only when it reports a change
  std::set<std::string> print_before;  ///< pass names
  std::set<std::string> print_after;   ///< pass names
  std::string stop_after;              ///< stop after the first run of this pass; empty: run all
  bool time_passes = false;            ///< collect timings (print_timings writes the table)
  /// Where IR dumps go (the CLI uses stderr, so stdout stays the final IR); null: std::cerr.
  std::ostream* ir_out = nullptr;
  PrintOptions print_options;
};

/// Time spent in one pass over all its runs.
struct PassTiming {
  std::string name;
  int runs = 0;
  double ms = 0;
};

class PassManager {
 public:
  /// `context` (options, target, log) is shared by every pass and must outlive the manager.
  explicit PassManager(PassContext& context, PassInstrumentation instrumentation = {});

  /// Appends a pass from the table. An unknown name is kept as an error that run() and status()
  /// report (so that building a list reads as a list), naming the known passes.
  PassManager& add(std::string_view name);
  /// Appends a pass that is not in the table (tests, experiments).
  PassManager& add(const PassInfo& pass);
  /// Appends every pass of a comma-separated list ("cse,dce").
  PassManager& add_list(std::string_view names);
  /// Appends the pipeline of an optimization level.
  PassManager& add_pipeline(int opt_level);

  /// The first error met while adding passes or checking options, or success.
  Status status() const;
  /// The pass names, in order.
  std::vector<std::string> pass_names() const;

  /// Runs the passes in order; returns whether any changed the module. Stops at the first error,
  /// which names the pass.
  Expected<bool> run(Module& module);

  const std::vector<PassTiming>& timings() const { return timings_; }
  /// The --time-passes table: pass, runs, ms, % of the total, one line per pass, then the total.
  void print_timings(std::ostream& out) const;

 private:
  void fail(Error error);
  Status check_names() const;
  void dump(const Module& module, std::string_view when, std::string_view pass) const;
  PassTiming& timing_of(std::string_view name);

  PassContext& context_;
  PassInstrumentation instrumentation_;
  std::vector<PassInfo> passes_;
  std::vector<PassTiming> timings_;
  Error error_;
  bool failed_ = false;
};

}  // namespace tessel
