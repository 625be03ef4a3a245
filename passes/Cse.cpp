// cse: common subexpression elimination.
//
// Expects: a module in SSA order (verified).
// Guarantees: no two ops of a function have the same kind, operands, attributes and result types (the
// later one's results are replaced by the earlier one's and the later op is erased); no two `const` ops of
// a function read bitwise-equal tensors (constants are compared by dtype, shape and bytes, so duplicate
// weights imported twice become one value; the unused pool entry is left for dce). Every op is pure, so
// merging equal ops never changes results.
#include <unordered_map>

#include <fmt/format.h>

#include "passes/Passes.h"

namespace tessel {
namespace {

/// A text key that is equal for ops that compute the same thing. Operands are compared by identity,
/// attributes by their printed text (exact: floats print to round-trip), result types by text.
std::string op_key(const Op& op) {
  std::string key(op.name());
  for (const Value* operand : op.operands()) key += fmt::format(" {}", static_cast<const void*>(operand));
  for (const auto& [name, attr] : op.attrs()) key += " " + name + "=" + attr_value_str(attr);
  for (const Value* result : op.results()) key += " :" + result->type().str();
  return key;
}

/// Constants key on their content, so that two pool entries with equal bytes merge.
std::string const_key(const Op& op, const Module& module) {
  const Tensor* tensor = module.constant(op.attr().s("name"));
  if (!tensor) return op_key(op);  // the verifier would have refused this; keep the op as is
  return fmt::format("const {} {:016x}", tensor->type_str(), tensor->content_hash());
}

bool cse_function(Function& function) {
  const Module& module = *function.module();
  std::unordered_map<std::string, std::vector<Op*>> seen;
  bool changed = false;
  for (Op* op : function.ops()) {
    bool is_const = op->kind() == OpKind::Const;
    std::string key = is_const ? const_key(*op, module) : op_key(*op);
    std::vector<Op*>& candidates = seen[key];
    Op* match = nullptr;
    for (Op* candidate : candidates) {
      if (!is_const) {
        match = candidate;
        break;
      }
      // A hash match is checked byte for byte.
      const Tensor* a = module.constant(candidate->attr().s("name"));
      const Tensor* b = module.constant(op->attr().s("name"));
      if (a && b && a->bitwise_equal(*b) && candidate->result()->type() == op->result()->type()) {
        match = candidate;
        break;
      }
    }
    if (!match) {
      candidates.push_back(op);
      continue;
    }
    for (size_t i = 0; i < op->num_results(); ++i) function.replace_all_uses(op->result(i), match->result(i));
    function.erase(op);
    changed = true;
  }
  return changed;
}

}  // namespace

Expected<bool> cse(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) changed = cse_function(*function) || changed;
  return changed;
}

}  // namespace tessel
