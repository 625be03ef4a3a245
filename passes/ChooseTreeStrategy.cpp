// The `choose-tree-strategy` pass: gives every tree_ensemble op a `tree_strategy` (how the loop lowering
// emits it; docs/classical-ml.md) and, for the tensorized strategy, the node tables it reads.
//
// Expects: tree_ensemble ops anywhere in the module (it runs before `fuse` in -O3, but works on kernel
// bodies too). Chooses, per op: the op's own tree_strategy when set; else the TESSEL_TREE_STRATEGY
// environment variable (branch, tensorized or auto); else (auto) the cost model of passes/LowerTrees.h.
// Guarantees: tree_strategy is "branch" or "tensorized"; a tensorized op names in `tree_tables` a prefix
// P such that the constants @P_feature, @P_threshold, ... (trees::kTableSuffixes) hold its tables. It
// never changes what an op computes. (`dce` drops constants no const op names, so it must not run
// between this pass and the lowering; -O3 runs fuse, schedule, plan-memory and lower-loops after it.)
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
    if (!taken) return prefix;
  }
}

/// The strategy the environment asks for, or null for auto (the cost model).
Expected<std::optional<trees::Strategy>> requested_strategy() {
  const char* env = std::getenv("TESSEL_TREE_STRATEGY");
  if (!env || std::string_view(env).empty() || std::string_view(env) == "auto") return std::optional<trees::Strategy>{};
  auto strategy = trees::parse_strategy(env);
  if (!strategy) return strategy.error().with_hint("TESSEL_TREE_STRATEGY is branch, tensorized or auto");
  return std::optional<trees::Strategy>{*strategy};
}

Expected<bool> choose_for(Module& module, Op& op, std::optional<trees::Strategy> requested, PassContext& context) {
  auto model = trees::read_model(op.attr());
  if (!model) return model.error().at("tree_ensemble at " + op.location());
  std::string current = op.attr().s("tree_strategy");
  trees::Strategy strategy = requested ? *requested : trees::choose_strategy(*model);
  if (!current.empty()) {
    auto parsed = trees::parse_strategy(current);
    if (!parsed) return parsed.error().at("tree_ensemble at " + op.location());
    strategy = *parsed;
  }
  bool changed = current != trees::strategy_name(strategy);
  op.set_attr("tree_strategy", std::string(trees::strategy_name(strategy)));
  if (context.log && context.options.verbose) {
    trees::Costs costs = trees::estimate_costs(*model);
    *context.log << fmt::format(
        "choose-tree-strategy: {} trees, depth {}, {} nodes, {} leaf additions: {} (cost/row: branch {:.0f}, "
        "tensorized {:.0f})\n",
        model->roots.size(), model->depth, model->nodes.size(), model->leaf_entries, trees::strategy_name(strategy),
        costs.branch, costs.tensorized);
  }
  if (strategy != trees::Strategy::Tensorized || !op.attr().s("tree_tables").empty()) return changed;
  TESSEL_ASSIGN(auto tables, trees::make_tables(*model));
  std::string prefix = fresh_prefix(module);
  for (auto& [suffix, tensor] : tables) {
    std::string name = module.add_constant(prefix + "_" + suffix, tensor);
    if (name != prefix + "_" + suffix)
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
