#include "ir/Builder.h"

namespace tessel {

bool Builder::fail(Error error) {
  if (!failed_) {
    error_ = std::move(error);
    failed_ = true;
  }
  return false;
}

Value* Builder::input(std::string name, TensorType type) {
  return function_->add_input(std::move(name), std::move(type));
}

Value* Builder::constant(Tensor value, const std::string& name_hint) {
  TensorType type{value.dtype(), to_shape(value.shape())};
  std::string name = module()->add_constant(name_hint, std::move(value));
  Op* op = function_->append(OpKind::Const, {}, {type}, {{"name", name}}, location_);
  op->result()->set_name(name);
  return op->result();
}

Value* Builder::scalar(double value, DType dtype) {
  return constant(Tensor::from_doubles(dtype, {}, {value}), "scalar");
}

void Builder::output(Value* value, std::string name) {
  if (!value) {
    fail(make_error("output '{}' comes from an op that failed", name));
    return;
  }
  auto values = function_->outputs();
  auto names = function_->output_names();
  values.push_back(value);
  names.push_back(name.empty() ? "output" + std::to_string(values.size() - 1) : std::move(name));
  function_->set_outputs(std::move(values), std::move(names));
}

std::vector<Value*> Builder::create(OpKind kind, std::vector<Value*> operands, AttrMap attrs, int num_results) {
  const OpInfo& info = op_info(kind);
  // Required operands that are null come from an op that already failed: stay silent.
  for (int i = 0; i < info.min_operands && i < static_cast<int>(operands.size()); ++i)
    if (!operands[i]) {
      fail(make_error("operand {} of '{}' is missing", i, info.name));
      return std::vector<Value*>(num_results, nullptr);
    }
  ShapeContext ctx{kind, {}, AttrReader(kind, attrs), num_results, module()};
  for (Value* operand : operands) ctx.operands.push_back(operand ? &operand->type() : nullptr);
  auto types = info.infer(ctx);
  if (!types) {
    std::string where = "op '" + std::string(info.name) + "'";
    if (!location_.empty()) where += " (node '" + location_ + "')";
    fail(types.error().at(where));
    return std::vector<Value*>(num_results, nullptr);
  }
  Op* op = function_->append(kind, std::move(operands), std::move(*types), std::move(attrs), location_);
  return op->results();
}

Value* Builder::op(OpKind kind, std::vector<Value*> operands, AttrMap attrs) {
  return create(kind, std::move(operands), std::move(attrs), 1).front();
}

Value* Builder::gemm(Value* a, Value* b, Value* c, bool trans_b) {
  std::vector<Value*> operands{a, b};
  if (c) operands.push_back(c);
  return op(OpKind::Gemm, std::move(operands), {{"trans_b", int64_t{trans_b}}});
}

Value* Builder::conv(Value* x, Value* weight, Value* bias, std::vector<int64_t> strides, std::vector<int64_t> pads,
                     int64_t group) {
  std::vector<Value*> operands{x, weight};
  if (bias) operands.push_back(bias);
  AttrMap attrs{{"group", group}};
  if (!strides.empty()) attrs.emplace("strides", std::move(strides));
  if (!pads.empty()) attrs.emplace("pads", std::move(pads));
  return op(OpKind::Conv, std::move(operands), std::move(attrs));
}

Value* Builder::max_pool(Value* x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                         std::vector<int64_t> pads) {
  AttrMap attrs{{"kernel", std::move(kernel)}};
  if (!strides.empty()) attrs.emplace("strides", std::move(strides));
  if (!pads.empty()) attrs.emplace("pads", std::move(pads));
  return op(OpKind::MaxPool, {x}, std::move(attrs));
}

Value* Builder::avg_pool(Value* x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                         std::vector<int64_t> pads) {
  AttrMap attrs{{"kernel", std::move(kernel)}};
  if (!strides.empty()) attrs.emplace("strides", std::move(strides));
  if (!pads.empty()) attrs.emplace("pads", std::move(pads));
  return op(OpKind::AvgPool, {x}, std::move(attrs));
}

Value* Builder::reduce(OpKind kind, Value* x, std::vector<int64_t> axes, bool keepdims) {
  return op(kind, {x}, {{"axes", std::move(axes)}, {"keepdims", int64_t{keepdims}}});
}

Value* Builder::layer_norm(Value* x, Value* scale, Value* bias, int64_t axis, double epsilon) {
  return op(OpKind::LayerNorm, {x, scale, bias}, {{"axis", axis}, {"epsilon", epsilon}});
}

Value* Builder::flatten(Value* x, int64_t axis) {
  if (!x) return op(OpKind::Reshape, {x});
  const Shape& shape = x->type().shape;
  int64_t rank = static_cast<int64_t>(shape.size());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) {
    fail(make_error("flatten axis {} is out of range for {}", axis, x->type().str()));
    return nullptr;
  }
  Dim outer(1), inner(1);
  for (int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) = (i < axis ? outer : inner) * shape[i];
  return reshape(x, {outer, inner});
}

}  // namespace tessel
