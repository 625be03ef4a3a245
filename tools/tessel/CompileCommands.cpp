// `tessel compile MODEL -o OUT --name NAME`: the pass pipeline (-O3 by default, every pass flag of `dump`),
// then the LLVM backend's AOT writer. `tessel bench MODEL`: compile once, warm up, time runs, print compile
// time, median and p90 latency and throughput.
#include "tools/tessel/CompileCommands.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "codegen/llvm/Aot.h"
#include "passes/MemoryPlan.h"
#include "runtime/tessel_runtime.h"
#include "tools/tessel/OnnxCommands.h"

namespace tessel::cli {
namespace {

std::string default_name(const std::string& file) {
  std::string stem = std::filesystem::path(file).stem().string();
  std::string name;
  for (char c : stem) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "model_" + name;
  return name;
}

Status compile_command(const CompileCommandOptions& options, bool verbose, std::ostream& out) {
  if (options.backend != "llvm")
    return Error{"tessel compile has no '" + options.backend + "' backend", {}, "available: llvm"};
  if (options.weights != "embedded" && options.weights != "external")
    return Error{"--weights must be 'embedded' or 'external', not '" + options.weights + "'", {}, ""};
  TESSEL_ASSIGN(std::unique_ptr<Module> module, load_any_model(options.file));
  TESSEL_TRY(run_pass_pipeline(*module, options.passes, /*default_opt_level=*/3, verbose, std::cerr));
  if (options.stats) {
    TESSEL_ASSIGN(MemoryStats stats, memory_stats(*module));
    out << format_memory_stats(stats);
  }
  TESSEL_ASSIGN(Target target, parse_target(options.passes.target));
  llvmgen::AotOptions aot;
  aot.name = options.name.empty() ? default_name(options.file) : options.name;
  aot.external_weights = options.weights == "external";
  aot.codegen.fast_math = options.fast_math;
  aot.codegen.profile = options.profile;
  aot.source = std::filesystem::path(options.file).filename().string();
  if (verbose) std::cerr << "tessel: generating " << aot.name << " for " << target.str() << "\n";
  auto start = std::chrono::steady_clock::now();
  TESSEL_ASSIGN(llvmgen::AotResult result, llvmgen::compile_aot(*module, target, aot, options.output_dir));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& file : result.files) out << "wrote " << file << "\n";
  if (verbose) std::cerr << fmt::format("tessel: {} kernels compiled in {:.2f} s\n", result.interface.kernels, seconds);
  return Status::success();
}

/// The kernels' share of the timed runs, slowest first: mean ms per run, share of the kernels' total, label
/// ("kN" and the op's location in the model).
void print_profile(size_t runs, std::ostream& out) {
  struct Row {
    std::string label;
    double ms = 0;
  };
  std::vector<Row> rows;
  double total = 0;
  for (int32_t i = 0; i < tessel_profile_count(); ++i) {
    char label[256];
    uint64_t ns = 0;
    if (!tessel_profile_entry(i, label, sizeof label, &ns, nullptr)) break;
    rows.push_back({label, double(ns) / 1e6 / double(runs)});
    total += rows.back().ms;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  out << fmt::format("kernels: {:.4f} ms per run in {} kernels\n", total, rows.size());
  out << fmt::format("{:>10}  {:>6}  {}\n", "ms/run", "share", "kernel");
  for (const Row& row : rows)
    out << fmt::format("{:>10.4f}  {:>5.1f}%  {}\n", row.ms, total > 0 ? 100 * row.ms / total : 0.0, row.label);
}

/// Values for the inputs' symbols: the first symbol of the first input that has one is the batch.
Expected<SymbolEnv> bench_symbols(const Function& main, const BenchCommandOptions& options) {
  SymbolEnv env;
  for (const std::string& spec : options.dims) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) return Error{"--dim '" + spec + "' is not NAME=VALUE", {}, "e.g. --dim S=128"};
    env[spec.substr(0, eq)] = std::stoll(spec.substr(eq + 1));
  }
  bool batch_bound = false;
  for (const Value* input : main.inputs())
    for (const Dim& d : input->type().shape)
      if (auto symbol = d.as_symbol(); symbol && !env.count(*symbol)) {
        if (batch_bound)
          return Error{"input '" + input->name() + "' has symbolic dim '" + *symbol + "' with no value",
                       {},
                       "give it with --dim " + *symbol + "=VALUE"};
        env[*symbol] = options.batch;
        batch_bound = true;
      }
  return env;
}

Expected<std::vector<Tensor>> bench_inputs(const Function& main, const SymbolEnv& env) {
  std::mt19937 random(42);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<Tensor> inputs;
  for (const Value* input : main.inputs()) {
    std::vector<int64_t> shape;
    for (const Dim& d : input->type().shape) {
      auto v = d.evaluate(env);
      if (!v) return make_error("input '{}' dim '{}' has no value", input->name(), d.str());
      shape.push_back(*v);
    }
    Tensor t(input->type().dtype, shape);
    // Floats uniform in [-1, 1]; integers (ids, indices) and bools zero, which is in range for any table.
    for (int64_t i = 0; i < t.numel(); ++i) t.set_double(i, is_float(t.dtype()) ? uniform(random) : 0.0);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

Status bench_command(const BenchCommandOptions& options, bool verbose, std::ostream& out) {
  TESSEL_ASSIGN(std::unique_ptr<Module> module, load_any_model(options.file));
  const Function* main = module->entry();
  if (!main) return make_error("the module defines no function to run").at(options.file);
  TESSEL_ASSIGN(SymbolEnv env, bench_symbols(*main, options));
  TESSEL_ASSIGN(std::vector<Tensor> inputs, bench_inputs(*main, env));
  double compile_seconds = 0;
  TESSEL_ASSIGN(RunModule run, prepare_backend(std::move(module), options.backend, &compile_seconds));
  for (int i = 0; i < options.warmup; ++i) {
    TESSEL_ASSIGN(std::vector<Tensor> unused, run(inputs));
  }
  tessel_profile_reset();
  std::vector<double> ms;
  auto begin = std::chrono::steady_clock::now();
  while (true) {
    auto start = std::chrono::steady_clock::now();
    Expected<std::vector<Tensor>> outputs = run(inputs);
    if (!outputs) return outputs.error();
    auto end = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    if (options.iterations > 0
            ? int(ms.size()) >= options.iterations
            : std::chrono::duration<double>(end - begin).count() >= options.seconds && ms.size() >= 5)
      break;
  }
  // With --profile the kernels' totals cover the timed runs only.
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  double p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  out << fmt::format("model: {}\nbackend: {}\nbatch: {}\n", options.file, options.backend.backend, options.batch);
  out << fmt::format("compile time: {:.3f} s\n", compile_seconds);
  out << fmt::format("latency: median {:.4f} ms, p90 {:.4f} ms ({} runs)\n", median, p90, ms.size());
  out << fmt::format("throughput: {:.1f} items/s\n", options.batch * 1000.0 / median);
  if (options.backend.profile) print_profile(ms.size(), out);
  return Status::success();
}

}  // namespace

void add_compile_commands(CLI::App& app, CompileCommands& options) {
  CLI::App* compile = app.add_subcommand("compile", "Compile a model ahead of time to a C header and a static library");
  auto& c = options.compile;
  compile->add_option("FILE", c.file, "The model (.onnx or .tsl)")->required();
  compile->add_option("-o,--output", c.output_dir, "Folder for NAME.h, libNAME.a (and NAME.weights)")->required();
  compile->add_option("--name", c.name, "C name of the model (default: the file's stem)");
  compile->add_option("--backend", c.backend, "Code generator (llvm)")->capture_default_str();
  compile->add_option("--weights", c.weights, "embedded (in the library) or external (NAME.weights)")
      ->capture_default_str();
  compile->add_flag("--stats", c.stats, "Print the kernel count, arena and peak bytes");
  compile->add_flag("--fast-math", c.fast_math, "Allow reassociation of float math");
  compile->add_flag("--profile", c.profile, "Time each kernel in the runtime (tessel_profile_* reads them)");
  add_pass_options(*compile, c.passes);
  options.compile_app = compile;

  CLI::App* bench = app.add_subcommand("bench", "Compile a model and time it on generated inputs");
  auto& b = options.bench;
  bench->add_option("FILE", b.file, "The model (.onnx or .tsl)")->required();
  bench->add_option("--backend", b.backend.backend, "Execution backend: " + backend_names())->capture_default_str();
  bench->add_option("--target", b.backend.target, "CPU target of the llvm backend")->capture_default_str();
  bench->add_option("--threads", b.backend.threads, "Threads (0: TESSEL_NUM_THREADS or every core)");
  bench->add_flag("--fast-math", b.backend.fast_math, "Allow reassociation of float math");
  bench->add_flag("--profile", b.backend.profile, "Time each kernel (llvm) and print them, slowest first");
  bench->add_option("--batch", b.batch, "Value of the inputs' first symbolic dim")->capture_default_str();
  bench->add_option("--dim", b.dims, "Value of another symbolic dim, NAME=VALUE")->allow_extra_args(false);
  bench->add_option("--iterations", b.iterations, "Timed runs (default: about --seconds worth)");
  bench->add_option("--seconds", b.seconds, "Time budget of the timed runs")->capture_default_str();
  bench->add_option("--warmup", b.warmup, "Untimed runs first")->capture_default_str();
  options.bench_app = bench;
}

Status run_compile_commands(const CompileCommands& options, bool verbose, std::ostream& out, bool& ran) {
  ran = false;
  if (options.compile_app && options.compile_app->parsed()) {
    ran = true;
    return compile_command(options.compile, verbose, out);
  }
  if (options.bench_app && options.bench_app->parsed()) {
    ran = true;
    return bench_command(options.bench, verbose, out);
  }
  return Status::success();
}

}  // namespace tessel::cli
