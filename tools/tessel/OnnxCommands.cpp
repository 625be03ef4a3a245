// `tessel import` and `tessel conformance` (see OnnxCommands.h).
#include "tools/tessel/OnnxCommands.h"

#include "tools/tessel/Backends.h"

#include <fstream>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "frontends/onnx/Conformance.h"
#include "frontends/onnx/Expectations.h"
#include "frontends/onnx/Importer.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "tools/tessel/Backends.h"

namespace tessel::cli {
namespace {

bool has_onnx_extension(const std::string& file) {
  return file.size() >= 5 && file.compare(file.size() - 5, 5, ".onnx") == 0;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return make_error("{}: cannot open for writing", path);
  out << text;
  if (!out) return make_error("{}: write failed", path);
  return Status::success();
}

Status import_command(const ImportCommandOptions& options, std::ostream& out) {
  TESSEL_ASSIGN(std::unique_ptr<Module> module, onnx::import_file(options.file));
  std::string text = print_module(*module);
  if (options.output.empty()) {
    out << text;
    return Status::success();
  }
  return write_text(options.output, text);
}

Status conformance_command(const ConformanceCommandOptions& options, bool verbose, std::ostream& out) {
  onnx::ConformanceOptions run;
  if (options.backend != "interp") {
    BackendOptions backend;
    backend.backend = options.backend;
    backend.threads = options.threads;
    TESSEL_TRY(check_backend_name(backend.backend));
    run.compile = [backend](std::unique_ptr<Module> module) -> Expected<onnx::CompiledRun> {
      TESSEL_ASSIGN(RunModule compiled, prepare_backend(std::move(module), backend));
      return onnx::CompiledRun(std::move(compiled));
    };
  }
  run.filter = options.filter;
  run.rtol = options.rtol;
  run.atol = options.atol;
  if (!options.list.empty()) {
    TESSEL_ASSIGN(run.only, onnx::read_test_list(options.list));
  }
  auto on_result = [&](const onnx::TestResult& result) {
    if (result.outcome == onnx::Outcome::Fail || (verbose && result.outcome == onnx::Outcome::Unsupported) ||
        (options.show_passes && result.outcome == onnx::Outcome::Pass))
      out << onnx::result_line(result) << "\n" << std::flush;
  };
  TESSEL_ASSIGN(onnx::ConformanceSummary summary, onnx::run_conformance(options.dir, run, on_result));
  out << onnx::summary_line(summary) << "\n";
  if (!options.report.empty())
    TESSEL_TRY(
        write_text(options.report, onnx::markdown_report(summary, "ONNX conformance (" + options.backend + ")")));
  if (options.check && summary.passed != summary.total())
    return make_error("{} of {} conformance test(s) did not pass ({} failed, {} unsupported)",
                      summary.total() - summary.passed, summary.total(), summary.failed, summary.unsupported);
  bool complete_run = options.filter.empty() && options.list.empty();
  if (!options.write_expectations.empty()) {
    std::string header = fmt::format(
        "# Tests of {} expected NOT to pass on the {} backend, each with the reason.\n"
        "# CI fails on a regression (a test not listed that does not pass) and on a listed test that passes.\n"
        "# Regenerate: tessel conformance DIR --backend={} --write-expectations THIS_FILE\n",
        options.dir, options.backend, options.backend);
    TESSEL_TRY(write_text(options.write_expectations, onnx::write_expectations(summary, header)));
  }
  if (!options.expectations.empty()) {
    TESSEL_ASSIGN(onnx::Expectations expectations, onnx::read_expectations(options.expectations));
    TESSEL_TRY(onnx::check_expectations(summary, expectations, options.expectations, complete_run));
    out << fmt::format("matches {} ({} tests expected not to pass)\n", options.expectations,
                       expectations.expected_failures.size());
  }
  return Status::success();
}

}  // namespace

void add_onnx_commands(CLI::App& app, OnnxCommandOptions& options) {
  CLI::App* import = app.add_subcommand("import", "Import an ONNX model and print it as .tsl text");
  import->add_option("FILE", options.import.file, "The .onnx file")->required();
  import->add_option("-o,--output", options.import.output, "Write the .tsl text here instead of stdout")
      ->type_name("PATH");
  options.import_app = import;

  CLI::App* conformance = app.add_subcommand("conformance", "Run the ONNX backend node tests in DIR");
  auto& c = options.conformance;
  conformance->add_option("DIR", c.dir, "Folder of node tests (each with model.onnx and test_data_set_*)")->required();
  conformance->add_option("--backend", c.backend, "Execution backend: " + backend_names())->capture_default_str();
  conformance->add_option("--threads", c.threads, "Threads of compiled backends (0: TESSEL_NUM_THREADS or all)");
  conformance->add_option("--filter", c.filter, "Only tests whose name matches this regex")->type_name("REGEX");
  conformance->add_option("--list", c.list, "Only the tests named in this file (one per line)")->type_name("FILE");
  conformance->add_option("--report", c.report, "Write a markdown report of every failure")->type_name("FILE");
  conformance->add_flag("--check", c.check, "Exit with an error unless every selected test passes");
  conformance
      ->add_option("--expectations", c.expectations,
                   "Exit with an error unless exactly the tests listed in FILE (with reasons) fail to pass")
      ->type_name("FILE");
  conformance
      ->add_option("--write-expectations", c.write_expectations,
                   "Write every test that did not pass, with its reason, to FILE")
      ->type_name("FILE");
  conformance->add_option("--rtol", c.rtol, "Relative tolerance of the comparison")->capture_default_str();
  conformance->add_option("--atol", c.atol, "Absolute tolerance of the comparison")->capture_default_str();
  conformance->add_flag("--show-passes", c.show_passes, "Print a line for passing tests too");
  options.conformance_app = conformance;
}

Status run_onnx_commands(const OnnxCommandOptions& options, bool verbose, std::ostream& out, bool& ran) {
  ran = false;
  if (options.import_app && options.import_app->parsed()) {
    ran = true;
    return import_command(options.import, out);
  }
  if (options.conformance_app && options.conformance_app->parsed()) {
    ran = true;
    return conformance_command(options.conformance, verbose, out);
  }
  return Status::success();
}

Expected<std::unique_ptr<Module>> load_any_model(const std::string& file) {
  if (has_onnx_extension(file)) return onnx::import_file(file);
  return parse_file(file);
}

}  // namespace tessel::cli
