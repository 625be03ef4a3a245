// The `tessel` command-line driver: maps command-line syntax (CLI11) onto the
// subcommands in Commands.h, and owns the process's error contract: every
// failure -- a usage error, an Error from the libraries, even an unexpected
// exception -- prints `tessel: error: ...` on stderr and exits with 1;
// --help and --version exit with 0.
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/tessel/Commands.h"
#include "tools/tessel/CompileCommands.h"
#include "tools/tessel/OnnxCommands.h"
#include "tools/tessel/PassOptions.h"

#ifndef TESSEL_VERSION
#define TESSEL_VERSION "unknown"
#endif

namespace {

int report(const std::string& message) {
  std::cerr << "tessel: error: " << message << "\n";
  return 1;
}

int run_main(int argc, char** argv) {
  using namespace tessel::cli;
  GlobalOptions global;
  DumpOptions dump_options;
  RunOptions run_options;

  CLI::App app{"Tessel: a compiler from ML models to fast kernels.", "tessel"};
  app.set_version_flag("--version", std::string("tessel ") + TESSEL_VERSION);
  app.add_flag("-v,--verbose", global.verbose, "Narrate each step on stderr");
  app.require_subcommand(1);
  app.fallthrough();  // set before adding subcommands, which inherit it: `tessel run --verbose` works
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return "tessel: error: " + std::string(error.what()) + "\nRun with --help for more information.\n";
  });

  CLI::App* dump = app.add_subcommand("dump", "Parse, verify and print a .tsl module");
  dump->add_option("FILE", dump_options.file, "The .tsl file")->required();
  dump->add_option("--format", dump_options.format,
                   "text (.tsl, parses back), dot (Graphviz), mlir (func/linalg/tensor/arith/math), loops (the loop "
                   "IR of every kernel), llvm / llvm-raw (generated LLVM IR after / before LLVM's optimizer) or asm; "
                   "all but text, dot and mlir need fused, scheduled kernels, e.g. -O3")
      ->check(CLI::IsMember({"text", "dot", "mlir", "loops", "llvm", "llvm-raw", "asm"}))
      ->capture_default_str();
  bool full_constants = false;  // the default already; the flag exists to say so explicitly in scripts
  CLI::Option* full = dump->add_flag("--full-constants", full_constants, "Print every constant in full (the default)");
  CLI::Option* elide = dump->add_option("--elide-constants", dump_options.elide_constants_above,
                                        "Elide constants with more than N elements (the text no longer parses back)")
                           ->type_name("N")
                           ->check(CLI::NonNegativeNumber);
  full->excludes(elide);
  dump->add_flag("--stats", dump_options.stats,
                 "Print `kernels: K`, `arena bytes: B`, `peak bytes: P` (after the passes) to stderr");
  add_pass_options(*dump, dump_options.passes);

  CLI::App* passes = app.add_subcommand("passes", "List the passes and the -O0..-O3 pipelines");

  CLI::App* run = app.add_subcommand("run", "Run a .tsl module's entry function on .npy inputs");
  run->add_option("FILE", run_options.file, "The .tsl file")->required();
  run->add_option("--backend", run_options.backend.backend, "Execution backend: " + backend_names())
      ->capture_default_str();
  run->add_option("--target", run_options.backend.target, "CPU target of the llvm backend")->capture_default_str();
  run->add_option("--threads", run_options.backend.threads, "Threads (0: TESSEL_NUM_THREADS or every core)");
  run->add_flag("--fast-math", run_options.backend.fast_math, "Let the llvm backend reassociate float math");
  run->add_option("-i,--input", run_options.inputs, "An input as NAME=PATH.npy; repeat for each input")
      ->type_name("NAME=PATH")
      ->allow_extra_args(false);
  run->add_option("-o,--output-dir", run_options.output_dir,
                  "Write each output to DIR/<output name>.npy (created if missing); without it, print the outputs")
      ->type_name("DIR");

  OnnxCommandOptions onnx_options;
  add_onnx_commands(app, onnx_options);
  CompileCommands compile_options;
  add_compile_commands(app, compile_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 uses codes such as 105 or 106 for usage errors; our contract is 1 for every failure.
    return app.exit(error) == 0 ? 0 : 1;
  }

  tessel::Status status;
  if (dump->parsed()) status = dump_command(dump_options, global, std::cout);
  if (run->parsed()) status = run_command(run_options, global, std::cout);
  if (passes->parsed()) std::cout << pass_list_text();
  bool onnx_ran = false;
  if (!dump->parsed() && !run->parsed() && !passes->parsed())
    status = run_onnx_commands(onnx_options, global.verbose, std::cout, onnx_ran);
  bool compile_ran = false;
  if (status.ok() && !onnx_ran && !dump->parsed() && !run->parsed() && !passes->parsed())
    status = run_compile_commands(compile_options, global.verbose, std::cout, compile_ran);
  std::cout.flush();
  if (!status.ok()) return report(status.error().str());
  if (!std::cout) return report("cannot write to standard output");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& error) {
    return report(std::string("unexpected failure: ") + error.what());
  } catch (...) {
    return report("unexpected failure (unknown exception)");
  }
}
