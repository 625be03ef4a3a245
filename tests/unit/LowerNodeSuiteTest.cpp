// The lowering checked over the ONNX node test suite: every model that imports is compiled with -O3, and
// every kernel of @main is lowered under the schedule the pipeline chose and run in the loop evaluator
// on seeded random inputs (symbols bound to 2); the results must match the interpreter's run of the
// kernel body (exactly for integers and bools, within 1e-4 + 1e-4 |x| for floats, 2e-2 + 1e-2 |x| when
// the body computes in f16/bf16, whose per-op rounding points may differ). Kernels whose reference run
// fails on random inputs (indices out of range, ...) are skipped; kernels whose loop IR is too large to
// evaluate in reasonable time, and models that -O3 refuses, are listed. The test requires a minimum
// number of checked kernels, so that a skip-everything bug cannot pass.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "frontends/onnx/Importer.h"
#include "passes/PassManager.h"
#include "passes/ScheduleKernels.h"
#include "tests/unit/LowerTestUtil.h"
#include "tests/unit/NodeSuiteUtil.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

/// Random inputs of `body`'s types with every symbol bound to 2; nothing for strings or unbound dims.
std::optional<std::vector<Tensor>> random_inputs(const Function& body, uint32_t seed) {
  SymbolEnv env;
  for (const Value* input : body.inputs())
    for (const Dim& dim : input->type().shape) {
      std::set<std::string> symbols;
      dim.collect_symbols(symbols);
      for (const std::string& symbol : symbols) env.emplace(symbol, 2);
    }
  std::vector<Tensor> inputs;
  for (const Value* input : body.inputs()) {
    std::vector<int64_t> shape;
    for (const Dim& dim : input->type().shape) {
      auto value = dim.evaluate(env);
      if (!value || *value < 0) return std::nullopt;
      shape.push_back(*value);
    }
    if (input->type().dtype == DType::String) return std::nullopt;
    // Small integers keep gather/scatter indices mostly in range.
    inputs.push_back(lower_test::random_tensor(input->type().dtype, shape, seed++, -2, 2));
    Tensor& t = inputs.back();
    if (is_integer(input->type().dtype))
      for (int64_t i = 0; i < t.numel(); ++i) t.set_int(i, t.get_int(i) % 3);
  }
  return inputs;
}

/// Whether `body` computes anything in f16/bf16 (whose rounding points lowering may place differently).
bool has_low_precision(const Function& body) {
  for (const Op* op : body.ops())
    for (const Value* v : op->operands())
      if (v && (v->type().dtype == DType::F16 || v->type().dtype == DType::BF16)) return true;
  return false;
}

/// Empty if `got` matches `want`; else the first difference.
std::string compare(const std::vector<Tensor>& want, const std::vector<Tensor>& got, bool low) {
  if (want.size() != got.size()) return fmt::format("{} outputs instead of {}", got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o) {
    const Tensor &a = want[o], &b = got[o];
    if (a.type_str() != b.type_str())
      return fmt::format("output {} is {} instead of {}", o, b.type_str(), a.type_str());
    for (int64_t i = 0; i < a.numel(); ++i) {
      if (!is_float(a.dtype())) {
        if (a.get_int(i) != b.get_int(i))
          return fmt::format("output {} element {}: {} instead of {}", o, i, b.get_int(i), a.get_int(i));
        continue;
      }
      double x = a.get_double(i), y = b.get_double(i);
      if ((std::isnan(x) && std::isnan(y)) || x == y) continue;
      double tol = low ? 2e-2 + 1e-2 * std::abs(x) : 1e-4 + 1e-4 * std::abs(x);
      if (!(std::abs(x - y) <= tol)) return fmt::format("output {} element {}: {} instead of {}", o, i, y, x);
    }
  }
  return {};
}

constexpr size_t kMaxKernelChars = 100000;

struct SuiteStats {
  int models = 0, kernels = 0, checked = 0, skipped = 0;
  std::vector<std::string> refused, large;
};

void check_model(const std::string& name, const fs::path& model, SuiteStats& stats) {
  auto module = onnx::import_file(model.string());
  if (!module || !(*module)->entry()) return;
  ++stats.models;
  PassContext context;
  PassManager manager(context);
  manager.add_pipeline(3);
  auto changed = manager.run(**module);
  if (!changed) {
    stats.refused.push_back(name + ": " + changed.error().str());
    return;
  }
  const Module& m = **module;
  for (const Op* op : m.entry()->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    ++stats.kernels;
    auto body = kernel_body(m, *op);
    ASSERT_TRUE(body.ok()) << name << ": " << body.error().str();
    auto inputs = random_inputs(**body, 7);
    auto want = inputs ? interpret(**body, *inputs) : Expected<std::vector<Tensor>>(make_error("no inputs"));
    if (!want) {
      ++stats.skipped;
      continue;
    }
    auto schedule = parse_schedule(op->attr().s("schedule"));
    ASSERT_TRUE(schedule.ok()) << name << ": " << schedule.error().str();
    auto kernel = lower_kernel(**body, *schedule, context.target);
    ASSERT_TRUE(kernel.ok()) << name << " @" << (*body)->name() << ": " << kernel.error().str();
    // Lowering inlines without sharing subexpressions, so a few bodies lower to huge expressions that
    // the evaluator would take minutes on; those are listed, not run.
    if (size_t chars = loop::print(*kernel).size(); chars > kMaxKernelChars) {
      stats.large.push_back(fmt::format("{} @{}: {} characters of loop IR", name, (*body)->name(), chars));
      continue;
    }
    auto got = loop::run_kernel(*kernel, *inputs, m.constants());
    ASSERT_TRUE(got.ok()) << name << " @" << (*body)->name() << ": " << got.error().str();
    ++stats.checked;
    EXPECT_EQ(compare(*want, *got, has_low_precision(**body)), "")
        << name << " @" << (*body)->name() << " schedule '" << op->attr().s("schedule") << "'";
  }
}

TEST(LowerNodeSuite, EveryKernelAgreesWithTheInterpreter) {
  std::vector<fs::path> dirs = node_suite::model_dirs();
  if (dirs.empty()) GTEST_SKIP() << "no ONNX node tests at " << node_suite::node_dir();
  SuiteStats stats;
  for (const fs::path& dir : dirs) check_model(dir.filename().string(), dir / "model.onnx", stats);
  for (const std::string& line : stats.refused) std::cout << "-O3 refused: " << line << "\n";
  for (const std::string& line : stats.large) std::cout << "not evaluated: " << line << "\n";
  std::cout << fmt::format(
      "lowering over the node suite: {} models, {} kernels, {} checked, {} skipped, {} too large, {} refused\n",
      stats.models, stats.kernels, stats.checked, stats.skipped, stats.large.size(), stats.refused.size());
  EXPECT_GE(stats.checked, 800);
}

}  // namespace
}  // namespace tessel
