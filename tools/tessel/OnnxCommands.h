// The ONNX subcommands of `tessel`: `import` (an .onnx model to .tsl text) and `conformance` (the ONNX
// node tests on a backend), plus the model loader that lets `dump` and `run` take .onnx files too.
// `add_onnx_commands` registers them with the CLI11 app; `run_onnx_commands` runs whichever was parsed.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "ir/Error.h"
#include "ir/Module.h"

namespace CLI {
class App;
}

namespace tessel::cli {

struct ImportCommandOptions {
  std::string file;
  std::string output;  ///< .tsl path; empty prints to stdout
};

struct ConformanceCommandOptions {
  std::string dir;
  std::string backend = "interp";
  std::string filter;              ///< regex over test names
  std::string list;                ///< file of test names
  std::string report;              ///< markdown report path
  bool check = false;              ///< exit with an error when any test fails
  std::string expectations;        ///< file of tests expected not to pass, with reasons (a regression gate)
  std::string write_expectations;  ///< write the tests that did not pass, with reasons, here
  bool show_passes = false;
  int threads = 0;
  double rtol = 1e-3;  ///< the upstream rule's tolerances by default
  double atol = 1e-7;
};

/// Options of both commands, filled in by CLI11.
struct OnnxCommandOptions {
  ImportCommandOptions import;
  ConformanceCommandOptions conformance;
  CLI::App* import_app = nullptr;
  CLI::App* conformance_app = nullptr;
};

/// Adds `import` and `conformance` to `app`, writing their options into `options`.
void add_onnx_commands(CLI::App& app, OnnxCommandOptions& options);
/// Runs the ONNX command that was parsed, if any; `ran` says whether one was.
Status run_onnx_commands(const OnnxCommandOptions& options, bool verbose, std::ostream& out, bool& ran);

/// Loads a model for any command: .onnx files through the ONNX importer, others as .tsl text.
Expected<std::unique_ptr<Module>> load_any_model(const std::string& file);

}  // namespace tessel::cli
