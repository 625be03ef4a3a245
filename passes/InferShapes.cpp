// infer-shapes: re-derives every result type from the op table's shape rules.
//
// Expects: a module in SSA order whose function input types are set; result types may be stale (a pass
// or a C++ user changed an input type, or built ops with explicit types) or carry free symbols (a
// symbol that no function input defines, e.g. an unknown dim an importer could not resolve).
// Guarantees: every result type equals what its op's shape rule gives for the current operand types,
// with symbolic dims kept symbolic (Dim arithmetic, never a guess). A declared dim is replaced only
// when it is a free symbol (refinement: the rule knows better), and a whole type when an operand is a
// function input or changed earlier in this run (the declared type is stale); a conflict -- a different dtype or rank,
// or a constant or input-bound dim that disagrees with the rule -- is an error naming the op, the value and both types.
// Kernel bodies are functions of the module and are inferred like any other function.
#include <set>

#include <fmt/format.h>

#include "ir/ValueNames.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

/// Symbols that the function's inputs define: a dim using only these is fixed by the caller.
std::set<std::string> input_symbols(const Function& function) {
  std::set<std::string> symbols;
  for (const Value* input : function.inputs())
    for (const Dim& dim : input->type().shape) dim.collect_symbols(symbols);
  return symbols;
}

bool is_free(const Dim& dim, const std::set<std::string>& bound) {
  std::set<std::string> used;
  dim.collect_symbols(used);
  for (const std::string& symbol : used)
    if (!bound.count(symbol)) return true;
  return false;
}

/// Merges a declared type with the inferred one; an error text when they conflict.
Expected<TensorType> merge(const TensorType& declared, const TensorType& inferred, const std::set<std::string>& bound,
                           bool stale) {
  if (stale) return inferred;
  if (declared.dtype != inferred.dtype || declared.rank() != inferred.rank())
    return make_error("declared type {} conflicts with the inferred {}", declared.str(), inferred.str());
  TensorType merged = inferred;
  for (size_t i = 0; i < declared.shape.size(); ++i) {
    const Dim& d = declared.shape[i];
    if (d == inferred.shape[i] || is_free(d, bound)) continue;
    return make_error("dim {} of the declared type {} conflicts with the inferred {}", i, declared.str(),
                      inferred.str());
  }
  return merged;
}

Expected<bool> infer_function(Function& function) {
  std::set<std::string> bound = input_symbols(function);
  std::set<const Value*> changed_values;
  bool changed = false;
  ValueNames names(function);
  for (Op* op : function.ops()) {
    ShapeContext ctx{op->kind(), {}, op->attr(), static_cast<int>(op->num_results()), function.module()};
    // An operand changed in this run, or is a function input (whose type the caller may have changed): the
    // declared type may be outdated, and the rule's result replaces it.
    bool stale = false;
    for (const Value* operand : op->operands()) {
      ctx.operands.push_back(operand ? &operand->type() : nullptr);
      stale = stale || changed_values.count(operand) || (operand && !operand->producer());
    }
    auto where = [&] { return fmt::format("@{}: {}", function.name(), describe_op(*op, names)); };
    auto inferred = op->info().infer(ctx);
    if (!inferred) return inferred.error().at(where());
    if (inferred->size() != op->num_results())
      return make_error("shape rule gives {} results, op defines {}", inferred->size(), op->num_results()).at(where());
    for (size_t i = 0; i < op->num_results(); ++i) {
      Value* result = op->result(i);
      auto merged = merge(result->type(), (*inferred)[i], bound, stale);
      if (!merged) return make_error("result {}: {}", names(result), merged.error().message).at(where());
      if (*merged == result->type()) continue;
      result->set_type(std::move(*merged));
      changed_values.insert(result);
      changed = true;
    }
  }
  return changed;
}

}  // namespace

Expected<bool> infer_shapes(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) {
    TESSEL_ASSIGN(bool function_changed, infer_function(*function));
    changed = changed || function_changed;
  }
  return changed;
}

}  // namespace tessel
