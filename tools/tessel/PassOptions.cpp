// Maps the pass-pipeline flags onto passes/PassManager.h. Dumps go to stderr
// with MLIR-style banners so that stdout stays the final IR.
#include "tools/tessel/PassOptions.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/Target.h"

namespace tessel::cli {

void add_pass_options(CLI::App& command, PassCliOptions& options) {
  CLI::Option* level = command.add_option("-O", options.opt_level, "Optimization level 0..3 (-O0 .. -O3)")
                           ->type_name("LEVEL")
                           ->check(CLI::Range(0, 3));
  CLI::Option* list =
      command.add_option("--passes", options.passes, "Run these passes instead of a -O pipeline: a,b,c")
          ->type_name("LIST");
  list->excludes(level);
  command.add_flag("--print-ir-after-all", options.print_ir_after_all, "Print the IR (to stderr) after every pass");
  command.add_flag("--print-ir-after-change", options.print_ir_after_change,
                   "Print the IR (to stderr) after each pass that changed it");
  command.add_option("--print-ir-before", options.print_ir_before, "Print the IR (to stderr) before pass P")
      ->type_name("P")
      ->delimiter(',');
  command.add_option("--print-ir-after", options.print_ir_after, "Print the IR (to stderr) after pass P")
      ->type_name("P")
      ->delimiter(',');
  command.add_option("--stop-after", options.stop_after, "Stop the pipeline after pass P")->type_name("P");
  command.add_flag("--verify-each", options.verify_each, "Run the verifier after every pass");
  command.add_flag("--time-passes", options.time_passes, "Print the time spent in each pass (to stderr)");
  command.add_option("--fold-max-bytes", options.fold_max_bytes, "fold-constants creates no constant above N bytes")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--target", options.target, "Target: host, x86-64, x86-64-v3, x86-64-v4, cuda-smNN")
      ->capture_default_str();
}

Status run_pass_pipeline(Module& module, const PassCliOptions& options, int default_opt_level, bool verbose,
                         std::ostream& err) {
  PassContext context;
  TESSEL_ASSIGN(context.target, parse_target(options.target));
  context.options.verify_each = options.verify_each;
  context.options.fold_max_bytes = options.fold_max_bytes;
  context.options.verbose = verbose;
  if (verbose) context.log = &err;

  PassInstrumentation inst;
  inst.print_after_all = options.print_ir_after_all;
  inst.print_after_change = options.print_ir_after_change;
  inst.print_before.insert(options.print_ir_before.begin(), options.print_ir_before.end());
  inst.print_after.insert(options.print_ir_after.begin(), options.print_ir_after.end());
  inst.stop_after = options.stop_after;
  inst.time_passes = options.time_passes;
  inst.ir_out = &err;

  PassManager manager(context, inst);
  if (!options.passes.empty())
    manager.add_list(options.passes);
  else
    manager.add_pipeline(options.opt_level >= 0 ? options.opt_level : default_opt_level);
  TESSEL_TRY(manager.status());
  if (verbose) {
    std::vector<std::string> names = manager.pass_names();
    err << fmt::format("tessel: target {}\ntessel: passes: {}\n", context.target.str(),
                       names.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(names, ", ")));
  }
  TESSEL_ASSIGN(bool changed, manager.run(module));
  if (verbose) err << "tessel: the passes " << (changed ? "changed" : "did not change") << " the module\n";
  if (options.time_passes) manager.print_timings(err);
  if (Status verified = verify(module); !verified)
    return make_error("the pass pipeline produced invalid IR: {}", verified.error().str());
  return Status::success();
}

std::string pass_list_text() {
  std::string text = "passes:\n";
  for (const PassInfo& pass : all_passes()) text += fmt::format("  {:<20} {}\n", pass.name, pass.summary);
  text += "pipelines:\n";
  for (int level = 0; level <= 3; ++level) {
    auto names = build_pipeline(level);
    std::string list = !names           ? names.error().message
                       : names->empty() ? std::string("(none)")
                                        : fmt::format("{}", fmt::join(*names, ", "));
    text += fmt::format("  -O{}  {}\n", level, list);
  }
  return text;
}

}  // namespace tessel::cli
