// dce: dead code elimination.
//
// Expects: a module in SSA order (verified).
// Guarantees: every op left in a function has a result that is a function output or is used by a later
// op; every constant left in the module's pool is named by some `const` op of some function. Function
// inputs, outputs and the functions themselves are kept (a function may be called by name, e.g. as a
// kernel body). No op in the IR has side effects, so removing an unused op never changes results.
#include <set>
#include <unordered_set>

#include "passes/Passes.h"

namespace tessel {
namespace {

bool remove_dead_ops(Function& function) {
  std::unordered_set<const Value*> live(function.outputs().begin(), function.outputs().end());
  std::vector<Op*> ops = function.ops();
  bool changed = false;
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    Op* op = *it;
    bool used = false;
    for (const Value* result : op->results()) used = used || live.count(result);
    if (!used) {
      function.erase(op);  // users come later in SSA order and were visited (and erased) first
      changed = true;
      continue;
    }
    for (const Value* operand : op->operands())
      if (operand) live.insert(operand);
  }
  return changed;
}

bool remove_unused_constants(Module& module) {
  std::set<std::string> named;
  for (const auto& function : module.functions())
    for (const Op* op : function->ops())
      if (op->kind() == OpKind::Const) named.insert(op->attr().s("name"));
  std::vector<std::string> dead;
  for (const auto& [name, tensor] : module.constants())
    if (!named.count(name)) dead.push_back(name);
  for (const std::string& name : dead) module.remove_constant(name);
  return !dead.empty();
}

}  // namespace

Expected<bool> dce(Module& module, PassContext& context) {
  bool changed = false;
  for (const auto& function : module.functions()) changed = remove_dead_ops(*function) || changed;
  changed = remove_unused_constants(module) || changed;
  return changed;
}

}  // namespace tessel
