// The kernel family: `kernel` runs a fused group of ops held in another function
// of the module (attribute `body`). Its operands are the body's inputs and its
// results the body's outputs, so the shape rule is the body's signature and the
// interpreter kernel is the interpreter itself, run on the body. Kernels are
// made by the `fuse` pass (docs/passes-fusion.md).
#include "ir/Module.h"
#include "ir/interp/Interpreter.h"
#include "ir/ops/Families.h"

namespace tessel::ops {
namespace {

Expected<const Function*> find_body(const std::string& name, const Module* module) {
  if (name.empty()) return make_error("kernel needs a non-empty 'body' naming a function");
  if (!module) return make_error("kernel body @{} needs a module to resolve", name);
  const Function* body = module->function(name);
  if (!body) return make_error("kernel body @{} is not a function of the module", name);
  // A body holding kernels could refer back to itself; bodies are flat by rule.
  for (const Op* op : body->ops())
    if (op->kind() == OpKind::Kernel)
      return make_error("kernel body @{} contains a kernel op (bodies must be flat)", name);
  return body;
}

Status check_plan_attrs(const ShapeContext& ctx, size_t num_results) {
  if (ctx.attrs.has("arena_offsets") && ctx.attrs.dims("arena_offsets").size() != num_results)
    return make_error("kernel 'arena_offsets' has {} entries, but the kernel has {} results",
                      ctx.attrs.dims("arena_offsets").size(), num_results);
  if (!ctx.attrs.has("inplace")) return Status::success();
  const auto& inplace = ctx.attrs.ints("inplace");
  if (inplace.size() != num_results)
    return make_error("kernel 'inplace' has {} entries, but the kernel has {} results", inplace.size(), num_results);
  for (int64_t operand : inplace)
    if (operand < -1 || operand >= static_cast<int64_t>(ctx.operands.size()))
      return make_error("kernel 'inplace' names operand {}, but the kernel has {} operands", operand,
                        ctx.operands.size());
  return Status::success();
}

}  // namespace

Expected<std::vector<TensorType>> infer_kernel(const ShapeContext& ctx) {
  TESSEL_ASSIGN(const Function* body, find_body(ctx.attrs.s("body"), ctx.module));
  const auto& inputs = body->inputs();
  if (ctx.operands.size() != inputs.size())
    return make_error("kernel has {} operands, but its body @{} takes {} inputs", ctx.operands.size(), body->name(),
                      inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!ctx.has_operand(i)) return make_error("kernel operand {} is absent; kernel operands are required", i);
    // TensorType equality compares symbolic dims by name: the body shares the caller's symbols.
    if (ctx.operand(i) != inputs[i]->type())
      return make_error("kernel operand {} has type {}, but body @{} input {} is {}", i, ctx.operand(i).str(),
                        body->name(), i, inputs[i]->type().str());
  }
  std::vector<TensorType> results;
  for (const Value* output : body->outputs()) results.push_back(output->type());
  TESSEL_TRY(check_plan_attrs(ctx, results.size()));
  return results;
}

Expected<std::vector<Tensor>> eval_kernel(const EvalContext& ctx) {
  TESSEL_ASSIGN(const Function* body, find_body(ctx.attrs.s("body"), ctx.module));
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.has_input(i)) return make_error("kernel operand {} is absent", i);
    inputs.push_back(ctx.input(i));  // tensors share their buffers: no copy
  }
  auto results = interpret(*body, inputs);
  if (!results) return results.error().at("in kernel body @" + body->name());
  return results;
}

}  // namespace tessel::ops
