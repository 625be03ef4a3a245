// The pass-pipeline options of the CLI (-O0..-O3, --passes, --print-ir-*, --stop-after, --verify-each,
// --time-passes, --target), registered on any subcommand by one function so that `tessel dump` and
// `tessel compile` take the same flags, and run through one function.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"

namespace CLI {
class App;
}

namespace tessel::cli {

struct PassCliOptions {
  int opt_level = -1;  ///< -1: the command's default level
  std::string passes;  ///< "a,b,c"; replaces the -O pipeline when set
  bool print_ir_after_all = false;
  bool print_ir_after_change = false;
  std::vector<std::string> print_ir_before;
  std::vector<std::string> print_ir_after;
  std::string stop_after;
  bool verify_each = false;
  bool time_passes = false;
  std::string target = "host";
  int64_t fold_max_bytes = int64_t{1} << 20;  ///< fold-constants materializes no bigger tensor
};

/// Adds the pass options to `command` (a CLI11 subcommand).
void add_pass_options(CLI::App& command, PassCliOptions& options);

/// Runs the selected pipeline (`--passes`, else -O level, else `default_opt_level`) on `module`, then
/// verifies the result. IR dumps, verbose notes and the --time-passes table go to `err`.
Status run_pass_pipeline(Module& module, const PassCliOptions& options, int default_opt_level, bool verbose,
                         std::ostream& err);

/// The pass table and the pipelines, for `tessel passes`.
std::string pass_list_text();

}  // namespace tessel::cli
