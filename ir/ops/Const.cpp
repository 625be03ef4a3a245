// The const family: `const @name` reads a tensor from the module's constant pool.
#include "ir/Module.h"
#include "ir/ops/Families.h"

namespace tessel::ops {

Expected<std::vector<TensorType>> infer_const(const ShapeContext& ctx) {
  const std::string& name = ctx.attrs.s("name");
  if (!ctx.module) return make_error("const @{} needs a module to resolve its value", name);
  const Tensor* value = ctx.module->constant(name);
  if (!value) return make_error("refers to constant @{}, which the module does not define", name);
  return std::vector<TensorType>{{value->dtype(), to_shape(value->shape())}};
}

Expected<std::vector<Tensor>> eval_const(const EvalContext& ctx) {
  const std::string& name = ctx.attrs.s("name");
  const Tensor* value = ctx.module ? ctx.module->constant(name) : nullptr;
  if (!value) return make_error("constant @{} is not defined", name);
  return std::vector<Tensor>{*value};  // shares the buffer: weights are never copied per use
}

}  // namespace tessel::ops
