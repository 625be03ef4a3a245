// The `choose-tree-strategy` pass: gives every tree_ensemble op a `tree_strategy` (how the loop lowering
// emits it; docs/classical-ml.md) and, for the tensorized and gemm strategies, the tables they read.
//
// Expects: tree_ensemble ops anywhere in the module (it runs before `fuse` in -O3, but works on kernel
// bodies too). Chooses, per op: the op's own tree_strategy when set; else the TESSEL_TREE_STRATEGY
// environment variable (branch, tensorized, gemm, tensorized-quantized or auto; TESSEL_TREE_QUANTIZE=1
// quantizes the thresholds of tensorized ensembles); else (auto) the cost model of passes/LowerTrees.h.
// An explicit gemm on an ensemble gemm cannot lower (trees::gemm_refusal), or a quantization u16 codes
// cannot hold, is an error naming the op and the reason; auto never picks them then.
// Guarantees: tree_strategy is "branch", "tensorized", "gemm" or "tensorized-quantized"; a table-driven
// op names in `tree_tables` a prefix P such that the constants @P_feature, @P_threshold, ...
// (trees::kTableSuffixes, kGemmTableSuffixes, kQuantizedTableSuffixes) hold its tables. It never
// changes what an op computes. (`dce` drops constants no const op names, so it must not run between
// this pass and the lowering; -O3 runs fuse, schedule, plan-memory and lower-loops after it.)
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "passes/LowerTrees.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

/// A table prefix none of whose tables exists yet.
std::string fresh_prefix(const Module& module) {
  for (int n = 0;; ++n) {
    std::string prefix = fmt::format("tree_tables_{}", n);
    bool taken = false;
    for (const char* suffix : trees::kTableSuffixes) taken = taken || module.constant(prefix + "_" + suffix);
    for (const char* suffix : trees::kGemmTableSuffixes) taken = taken || module.constant(prefix + "_" + suffix);
    for (const char* suffix : trees::kQuantizedTableSuffixes) taken = taken || module.constant(prefix + "_" + suffix);
    if (!taken) return prefix;
  }
}

/// The strategy the environment asks for, or null for auto (the cost model).
Expected<std::optional<trees::StrategySpec>> requested_strategy() {
  const char* env = std::getenv("TESSEL_TREE_STRATEGY");
  if (!env || std::string_view(env).empty() || std::string_view(env) == "auto")
    return std::optional<trees::StrategySpec>{};
  auto spec = trees::parse_strategy_spec(env);
  if (!spec)
    return spec.error().with_hint("TESSEL_TREE_STRATEGY is branch, tensorized, gemm, tensorized-quantized or auto");
  return std::optional<trees::StrategySpec>{*spec};
}

/// TESSEL_TREE_QUANTIZE=1: tensorized ensembles (chosen by the environment or the cost model) compare
/// quantized thresholds.
bool quantize_requested() {
  const char* env = std::getenv("TESSEL_TREE_QUANTIZE");
  return env && std::string_view(env) == "1";
}

Status check_accepted(const Op& op, const trees::Model& model, const trees::StrategySpec& spec) {
  std::string refusal;
  if (spec.strategy == trees::Strategy::Gemm) refusal = trees::gemm_refusal(model);
  if (spec.quantized) refusal = trees::quantize_refusal(model);
  if (refusal.empty()) return Status::success();
  return make_error("tree_ensemble at {}: the {} tree strategy cannot lower this ensemble: {}", op.location(),
                    trees::strategy_spec_name(spec), refusal)
      .with_hint("ask for branch, tensorized or auto (the cost model never picks it for this ensemble)");
}

Expected<bool> choose_for(Module& module, Op& op, std::optional<trees::StrategySpec> requested, PassContext& context) {
  auto model = trees::read_model(op.attr());
  if (!model) return model.error().at("tree_ensemble at " + op.location());
  std::string current = op.attr().s("tree_strategy");
  trees::StrategySpec spec = requested ? *requested : trees::StrategySpec{trees::choose_strategy(*model), false};
  if (spec.strategy == trees::Strategy::Tensorized && quantize_requested()) spec.quantized = true;
  if (!current.empty()) {
    auto parsed = trees::parse_strategy_spec(current);
    if (!parsed) return parsed.error().at("tree_ensemble at " + op.location());
    spec = *parsed;
  }
  TESSEL_TRY(check_accepted(op, *model, spec));
  std::string name = trees::strategy_spec_name(spec);
  bool changed = current != name;
  op.set_attr("tree_strategy", name);
  if (context.log && context.options.verbose) {
    trees::Costs costs = trees::estimate_costs(*model);
    *context.log << fmt::format(
        "choose-tree-strategy: {} trees, depth {}, {} nodes, {} leaf additions: {} (cost/row: branch {:.0f}, "
        "tensorized {:.0f}, gemm {})\n",
        model->roots.size(), model->depth, model->nodes.size(), model->leaf_entries, name, costs.branch,
        costs.tensorized, trees::gemm_refusal(*model).empty() ? fmt::format("{:.0f}", costs.gemm) : "refused");
  }
  if (spec.strategy == trees::Strategy::Branch) return changed;
  // Tables made for another strategy (the attribute changed since) are replaced.
  if (!op.attr().s("tree_tables").empty() && !changed) return changed;
  TESSEL_ASSIGN(auto tables,
                spec.strategy == trees::Strategy::Gemm ? trees::make_gemm_tables(*model) : trees::make_tables(*model));
  if (spec.quantized) {
    TESSEL_ASSIGN(auto quantization, trees::make_quantized_tables(*model));
    for (auto& entry : quantization) tables.push_back(std::move(entry));
  }
  std::string prefix = fresh_prefix(module);
  for (auto& [suffix, tensor] : tables) {
    std::string constant = module.add_constant(prefix + "_" + suffix, tensor);
    if (constant != prefix + "_" + suffix)
      return make_error("choose-tree-strategy: constant @{}_{} was renamed", prefix, suffix);
  }
  op.set_attr("tree_tables", prefix);
  return true;
}

}  // namespace

Expected<bool> choose_tree_strategy(Module& module, PassContext& context) {
  TESSEL_ASSIGN(auto requested, requested_strategy());
  bool changed = false;
  std::vector<Op*> ensembles;
  for (const auto& function : module.functions())
    for (Op* op : function->ops())
      if (op->kind() == OpKind::TreeEnsemble) ensembles.push_back(op);
  for (Op* op : ensembles) {
    TESSEL_ASSIGN(bool op_changed, choose_for(module, *op, requested, context));
    changed = changed || op_changed;
  }
  return changed;
}

}  // namespace tessel
