// fold-constants: evaluates ops whose operands are all constants.
//
// Expects: a verified module.
// Guarantees: every op (other than `const`) whose present operands are all defined by `const` ops, whose
// results have static shapes and together take at most options.fold_max_bytes, is replaced by `const` ops
// holding the interpreter kernel's results (new constants go to the module's pool; the old ones are left
// for dce). Results are bit for bit what the interpreter would compute at run time, since they come from
// the same kernels. Tensors over the budget are never materialized: the size is checked from the result
// types before any kernel runs. Ops with string results and kernel ops are left alone.
#include <algorithm>

#include <fmt/format.h>

#include "passes/Passes.h"
#include "passes/Rewriter.h"

namespace tessel {
namespace {

/// The static shapes of `op`'s results, or nothing if a shape is symbolic, a dtype is a string or the
/// results together exceed `budget` bytes.
std::optional<std::vector<std::vector<int64_t>>> foldable_shapes(const Op& op, int64_t budget) {
  std::vector<std::vector<int64_t>> shapes;
  int64_t bytes = 0;
  for (const Value* result : op.results()) {
    if (result->type().dtype == DType::String) return std::nullopt;
    auto shape = static_shape(result->type().shape);
    if (!shape) return std::nullopt;
    int64_t numel = 1;
    for (int64_t d : *shape) {
      if (d != 0 && numel > budget / d) return std::nullopt;  // overflow-safe: already over any budget
      numel *= d;
    }
    int64_t size = static_cast<int64_t>(dtype_size(result->type().dtype));
    if (numel != 0 && numel > (budget - bytes) / size) return std::nullopt;
    bytes += numel * size;
    shapes.push_back(std::move(*shape));
  }
  return shapes;
}

bool all_constant_operands(const Op& op) {
  bool any = false;
  for (const Value* operand : op.operands()) {
    if (!operand) continue;
    if (!constant_of(operand)) return false;
    any = true;
  }
  return any;
}

std::string hint_for(const Op& op) {
  const std::string& name = op.result()->name();
  bool numeric = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
  return numeric ? fmt::format("folded_{}", op.name()) : name;
}

Expected<bool> fold_op(Function& function, Op* op, int64_t budget) {
  if (op->kind() == OpKind::Const || !all_constant_operands(*op)) return false;
  if (op->info().family == OpFamily::Kernel) return false;
  auto shapes = foldable_shapes(*op, budget);
  if (!shapes) return false;
  EvalContext ctx{op->kind(), {}, op->attr(), {}, {}, function.module()};
  for (const Value* operand : op->operands()) ctx.inputs.push_back(operand ? constant_of(operand) : nullptr);
  for (size_t i = 0; i < op->num_results(); ++i) {
    ctx.result_dtypes.push_back(op->result(i)->type().dtype);
    ctx.result_shapes.emplace_back((*shapes)[i]);
  }
  auto results = op->info().eval(ctx);
  // A kernel error here (say an index out of range) would also happen at run time; leave the op to report it.
  if (!results || results->size() != op->num_results()) return false;
  for (size_t i = 0; i < results->size(); ++i) {
    const Tensor& tensor = (*results)[i];
    if (tensor.dtype() != op->result(i)->type().dtype || tensor.shape() != (*shapes)[i]) return false;
  }
  Rewriter rewriter(function, op, op->location());
  for (size_t i = 0; i < results->size(); ++i) {
    Value* folded = rewriter.constant((*results)[i], hint_for(*op));
    carry_name(op->result(i), folded);
    function.replace_all_uses(op->result(i), folded);
  }
  function.erase(op);
  return true;
}

}  // namespace

Expected<bool> fold_constants(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) {
    for (Op* op : function->ops()) {
      TESSEL_ASSIGN(bool folded, fold_op(*function, op, context.options.fold_max_bytes));
      changed = changed || folded;
    }
  }
  return changed;
}

}  // namespace tessel
