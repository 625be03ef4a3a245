// The `tessel` subcommands as plain functions over option structs, so that
// main.cpp only maps command-line syntax onto them. Each returns a Status;
// the caller prints failures as `tessel: error: ...` and exits with 1.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "tools/tessel/Backends.h"
#include "tools/tessel/PassOptions.h"

namespace tessel::cli {

/// Options every subcommand shares.
struct GlobalOptions {
  bool verbose = false;  ///< narrate each step on stderr
};

struct DumpOptions {
  std::string file;
  std::string format = "text";  ///< text (.tsl, parses back), dot (Graphviz), mlir, loops, llvm, llvm-raw, asm
  bool stats = false;           ///< print kernel count, arena and peak bytes (stderr)
  /// Constants with more elements than this print elided (text form only); -1 prints all in full.
  int64_t elide_constants_above = -1;
  /// The pass pipeline run before printing (default -O0: print the module as read).
  PassCliOptions passes;
};

struct RunOptions {
  std::string file;
  BackendOptions backend;
  std::vector<std::string> inputs;  ///< "NAME=PATH.npy", one per function input
  /// Where `<output name>.npy` files go (created if missing); empty prints the outputs to stdout.
  std::string output_dir;
};

/// `tessel dump`: parses and verifies a .tsl file, runs the selected passes (IR dumps on stderr), then prints
/// it as text, MLIR or a Graphviz graph.
Status dump_command(const DumpOptions& options, const GlobalOptions& global, std::ostream& out);
/// `tessel run`: parses, verifies and runs the entry function on .npy inputs, writing .npy outputs.
Status run_command(const RunOptions& options, const GlobalOptions& global, std::ostream& out);

}  // namespace tessel::cli
