// The semantic guard of the pass pipeline: for every .tsl model under tests/ and the ONNX node tests of
// the cnn_core, rnn and transformer lists (every test), the interpreter's results on seeded random inputs agree
// before and after each single pass, and after each -O pipeline. Passes that never change what an op
// computes (infer-shapes, fold-constants, cse, dce) must agree exactly (NaN equals NaN); the others
// (canonicalize reassociates batch-norm and gemm, decompose rewrites in primitives) within
// |a - b| <= 1e-5 + 1e-4 |b|. Symbolic dims are bound to 2; models whose reference run fails on random
// inputs (index operands out of range, ...) are skipped and counted, and the tests require a minimum
// number of checked models so that a skip-everything bug cannot pass. The kernel-level passes (fuse and
// later, -O3) may refuse a model they cannot lower yet: such refusals are printed, not failed.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/onnx/Importer.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"
#include "passes/PassManager.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

using Loader = std::function<Expected<std::unique_ptr<Module>>()>;

/// Passes that work on kernels run after -O2 and `fuse` (alone they refuse ops outside kernels, and
/// composite ops that have no loop lowering).
bool needs_fuse(std::string_view name) { return name == "plan-memory" || name == "schedule" || name == "lower-loops"; }

bool is_exact_pass(std::string_view name) {
  return name == "infer-shapes" || name == "fold-constants" || name == "cse" || name == "dce";
}

/// Random inputs for `function` with every symbol bound to 2; nothing if a dim cannot be evaluated.
std::optional<std::vector<Tensor>> random_inputs(const Function& function, uint32_t seed) {
  std::mt19937 rng(seed);
  SymbolEnv env;
  for (const Value* input : function.inputs())
    for (const Dim& dim : input->type().shape) {
      std::set<std::string> symbols;
      dim.collect_symbols(symbols);
      for (const std::string& symbol : symbols) env.emplace(symbol, 2);
    }
  std::vector<Tensor> inputs;
  for (const Value* input : function.inputs()) {
    const TensorType& type = input->type();
    std::vector<int64_t> shape;
    for (const Dim& dim : type.shape) {
      auto value = dim.evaluate(env);
      if (!value || *value < 0) return std::nullopt;
      shape.push_back(*value);
    }
    if (type.dtype == DType::String || is_low_precision(type.dtype)) return std::nullopt;
    Tensor tensor(type.dtype, shape);
    std::uniform_real_distribution<double> real(-2.0, 2.0);
    std::uniform_int_distribution<int> small(0, 4);
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      if (is_float(type.dtype))
        tensor.set_double(i, real(rng));
      else if (type.dtype == DType::Bool)
        tensor.set_int(i, small(rng) % 2);
      else
        tensor.set_int(i, is_signed_integer(type.dtype) ? small(rng) - 2 : small(rng));
    }
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

/// Empty if `got` matches `want`; else a description of the first difference.
std::string compare(const std::vector<Tensor>& want, const std::vector<Tensor>& got, bool exact) {
  if (want.size() != got.size()) return fmt::format("{} outputs instead of {}", got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o) {
    const Tensor& a = want[o];
    const Tensor& b = got[o];
    if (a.dtype() != b.dtype() || a.shape() != b.shape())
      return fmt::format("output {} is {} instead of {}", o, b.type_str(), a.type_str());
    if (a.dtype() == DType::String) continue;
    for (int64_t i = 0; i < a.numel(); ++i) {
      double x = a.get_double(i), y = b.get_double(i);
      if (std::isnan(x) && std::isnan(y)) continue;
      bool ok = exact ? x == y : (x == y || std::abs(x - y) <= 1e-5 + 1e-4 * std::abs(x));
      if (!ok) return fmt::format("output {} element {}: {} instead of {}", o, i, y, x);
    }
  }
  return {};
}

struct GuardStats {
  int checked = 0;
  int skipped = 0;
  std::vector<std::string> refused;  ///< kernel-level passes that refused a model (printed, not failed)
};

/// Runs the guard on one model; adds a gtest failure for every disagreement.
void guard_model(const std::string& label, const Loader& load, GuardStats& stats) {
  auto reference_module = load();
  if (!reference_module || !verify(**reference_module).ok() || !(*reference_module)->entry()) {
    ++stats.skipped;
    return;
  }
  const Function& entry = *(*reference_module)->entry();
  auto inputs = random_inputs(entry, 1234);
  if (!inputs) {
    ++stats.skipped;
    return;
  }
  auto reference = interpret(entry, *inputs);
  if (!reference) {
    ++stats.skipped;
    return;
  }
  ++stats.checked;
  auto check = [&](const std::string& what, bool exact, auto&& add_passes) {
    auto module = load();
    ASSERT_TRUE(module.ok());
    PassContext context;
    context.options.verify_each = true;
    PassManager manager(context);
    add_passes(manager);
    auto changed = manager.run(**module);
    // The kernel-level passes (fuse and later, -O3) may refuse a model whose ops they cannot lower yet;
    // that is a gap to close in those passes, not a wrong result, so it is listed rather than failed.
    if (!changed.ok() && (needs_fuse(what) || what == "-O3")) {
      stats.refused.push_back(label + " " + what + ": " + changed.error().str());
      return;
    }
    ASSERT_TRUE(changed.ok()) << label << " " << what << ": " << changed.error().str();
    auto results = interpret(*(*module)->entry(), *inputs);
    ASSERT_TRUE(results.ok()) << label << " " << what << ": " << results.error().str();
    std::string difference = compare(*reference, *results, exact);
    EXPECT_EQ(difference, "") << label << " after " << what;
  };
  for (const PassInfo& pass : all_passes())
    check(std::string(pass.name), is_exact_pass(pass.name), [&](PassManager& pm) {
      if (needs_fuse(pass.name)) pm.add_pipeline(2).add("fuse");
      pm.add(pass.name);
    });
  for (int level = 1; level <= 3; ++level)
    check(fmt::format("-O{}", level), false, [&](PassManager& pm) { pm.add_pipeline(level); });
}

void report_refusals(const GuardStats& stats) {
  for (const std::string& line : stats.refused) std::cout << "refused (not checked): " << line << "\n";
  std::cout << fmt::format("numerics guard: {} models checked, {} skipped, {} kernel-pass refusals\n", stats.checked,
                           stats.skipped, stats.refused.size());
}

fs::path tests_dir() { return fs::path(__FILE__).parent_path().parent_path(); }

TEST(PassNumericsTest, EveryTslModelAgreesAfterEachPassAndPipeline) {
  GuardStats stats;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(tests_dir()))
    if (entry.path().extension() == ".tsl" && entry.path().string().find("/lit/errors/") == std::string::npos)
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::string first_line;
    std::getline(in, first_line);
    if (first_line.rfind("// EXPECT-ERROR", 0) == 0) continue;
    guard_model(
        file.string(), [&] { return parse_file(file.string()); }, stats);
  }
  EXPECT_GE(stats.checked, 15) << "skipped " << stats.skipped;
  report_refusals(stats);
}

std::vector<std::string> read_list(const fs::path& path) {
  std::vector<std::string> names;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') names.push_back(line);
  return names;
}

void guard_onnx_list(const std::string& list, size_t stride, int minimum) {
  // The define names the suite's root (holding node/ and lists/) or its node/ folder.
  fs::path root = TESSEL_ONNX_NODE_TESTS_DIR;
  fs::path node_dir = fs::exists(root / "lists") ? root / "node" : root;
  fs::path list_path = node_dir.parent_path() / "lists" / (list + ".txt");
  if (!fs::exists(list_path)) GTEST_SKIP() << "no ONNX node tests at " << node_dir;
  GuardStats stats;
  std::vector<std::string> names = read_list(list_path);
  for (size_t i = 0; i < names.size(); i += stride) {
    fs::path model = node_dir / names[i] / "model.onnx";
    if (!fs::exists(model)) continue;
    guard_model(
        names[i], [&] { return onnx::import_file(model.string()); }, stats);
  }
  EXPECT_GE(stats.checked, minimum) << "skipped " << stats.skipped;
  report_refusals(stats);
}

TEST(PassNumericsTest, OnnxRnnListAgrees) { guard_onnx_list("rnn", 1, 8); }
TEST(PassNumericsTest, OnnxCnnCoreListAgrees) { guard_onnx_list("cnn_core", 1, 100); }
TEST(PassNumericsTest, OnnxTransformerListAgrees) { guard_onnx_list("transformer", 1, 200); }

}  // namespace
}  // namespace tessel
