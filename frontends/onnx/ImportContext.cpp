// NodeContext: inputs, attributes, emission and outputs of one ONNX node (see ImportContext.h).
// Folding and shape-vector propagation live in Folding.cpp.
#include "frontends/onnx/ImportContext.h"

#include <algorithm>
#include <unordered_set>

#include "frontends/onnx/TensorProto.h"

namespace tessel::onnx {

const Tensor* constant_of(const Value* value) {
  if (!value || !value->producer() || value->producer()->kind() != OpKind::Const) return nullptr;
  const Op* op = value->producer();
  return op->parent()->module()->constant(op->attr().s("name"));
}

NodeContext::NodeContext(ImportState& state, const pb::NodeProto& node, int64_t opset)
    : state_(state), node_(node), opset_(opset) {
  for (const auto& attr : node.attribute()) {
    if (attrs_.count(attr.name())) {
      fail(make_error("attribute '{}' is given twice", attr.name()));
      continue;
    }
    attrs_[attr.name()] = &attr;
  }
}

// ---- Errors ----------------------------------------------------------------------------------------

Value* NodeContext::fail(Error error) {
  if (!failed_) {
    error_ = std::move(error);
    failed_ = true;
  }
  return nullptr;
}

Value* NodeContext::fail_unsupported(Error error) {
  if (!failed_) state_.report.unsupported = true;
  return fail(std::move(error));
}

Status NodeContext::status() const {
  if (failed_) return error_;
  return state_.b.status();
}

// ---- Inputs ----------------------------------------------------------------------------------------

Value* NodeContext::input(int i) {
  if (!has_input(i)) return fail(make_error("input {} is required but absent", i));
  auto it = state_.values.find(node_.input(i));
  if (it == state_.values.end()) return fail(make_error("input '{}' is not defined", node_.input(i)));
  return it->second;
}

const Tensor* NodeContext::constant(int i) { return has_input(i) ? constant_of(input(i)) : nullptr; }

void NodeContext::record_needed_inputs(const Value* value) {
  std::vector<const Value*> stack{value};
  std::unordered_set<const Value*> seen;
  auto& needed = state_.report.inputs_needed_as_constants;
  while (!stack.empty()) {
    const Value* v = stack.back();
    stack.pop_back();
    if (!v || !seen.insert(v).second) continue;
    if (!v->producer()) {
      if (std::find(needed.begin(), needed.end(), v->name()) == needed.end()) needed.push_back(v->name());
      continue;
    }
    for (const Value* operand : v->producer()->operands()) stack.push_back(operand);
  }
}

std::optional<Tensor> NodeContext::require_constant(int i, std::string_view what) {
  Value* value = input(i);
  if (!value) return std::nullopt;
  if (const Tensor* tensor = constant_of(value)) return *tensor;
  size_t before = state_.report.inputs_needed_as_constants.size();
  record_needed_inputs(value);
  const auto& needed = state_.report.inputs_needed_as_constants;
  std::string depends;
  if (needed.size() > before)
    depends =
        fmt::format("; it depends on graph input(s) {} -- bind them to constants (ImportOptions::constant_inputs)",
                    fmt::join(needed.begin() + static_cast<long>(before), needed.end(), ", "));
  fail_unsupported(
      make_error("input {} ('{}', the {}) must be known at import time{}", i, node_.input(i), what, depends));
  return std::nullopt;
}

std::optional<std::vector<int64_t>> NodeContext::require_ints(int i, std::string_view what) {
  auto tensor = require_constant(i, what);
  if (!tensor) return std::nullopt;
  if (!is_integer(tensor->dtype())) {
    fail(make_error("input {} (the {}) must be integers, got {}", i, what, tensor->type_str()));
    return std::nullopt;
  }
  std::vector<int64_t> values(static_cast<size_t>(tensor->numel()));
  for (int64_t k = 0; k < tensor->numel(); ++k) values[k] = tensor->get_int(k);
  return values;
}

std::optional<Shape> NodeContext::dims_of(const Value* value) const {
  if (!value) return std::nullopt;
  DType dtype = value->type().dtype;
  if ((dtype != DType::I64 && dtype != DType::I32) || value->type().rank() > 1) return std::nullopt;
  if (const Tensor* tensor = constant_of(value)) {
    Shape dims;
    for (int64_t k = 0; k < tensor->numel(); ++k) dims.emplace_back(tensor->get_int(k));
    return dims;
  }
  auto it = state_.shape_vectors.find(value);
  if (it == state_.shape_vectors.end()) return std::nullopt;
  return it->second;
}

std::optional<Shape> NodeContext::require_dims(int i, std::string_view what) {
  Value* value = input(i);
  if (!value) return std::nullopt;
  if (auto dims = dims_of(value)) return dims;
  if (constant_of(value) || !is_integer(value->type().dtype)) {
    fail(make_error("input {} (the {}) must be a list of integers, got {}", i, what, value->type().str()));
    return std::nullopt;
  }
  require_constant(i, what);
  return std::nullopt;
}

std::optional<double> NodeContext::constant_scalar(int i) {
  const Tensor* tensor = constant(i);
  if (!tensor || tensor->numel() != 1) return std::nullopt;
  return tensor->get_double(0);
}

// ---- Attributes ------------------------------------------------------------------------------------

const pb::AttributeProto* NodeContext::find_attr(std::string_view name) const {
  auto it = attrs_.find(name);
  return it == attrs_.end() ? nullptr : it->second;
}

const pb::AttributeProto* NodeContext::typed_attr(std::string_view name, int type, std::string_view kind_name) {
  const pb::AttributeProto* attr = find_attr(name);
  if (!attr) return nullptr;
  if (attr->type() == type || attr->type() == pb::AttributeProto::UNDEFINED) return attr;
  fail(make_error("attribute '{}' must be {}, got {}", name, kind_name,
                  pb::AttributeProto::AttributeType_Name(attr->type())));
  return nullptr;
}

int64_t NodeContext::attr_i(std::string_view name, int64_t default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::INT, "INT");
  return attr ? attr->i() : default_value;
}

double NodeContext::attr_f(std::string_view name, double default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::FLOAT, "FLOAT");
  return attr ? static_cast<double>(attr->f()) : default_value;
}

std::string NodeContext::attr_s(std::string_view name, std::string default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::STRING, "STRING");
  return attr ? attr->s() : default_value;
}

std::vector<int64_t> NodeContext::attr_ints(std::string_view name, std::vector<int64_t> default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::INTS, "INTS");
  return attr ? std::vector<int64_t>(attr->ints().begin(), attr->ints().end()) : default_value;
}

std::vector<double> NodeContext::attr_floats(std::string_view name, std::vector<double> default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::FLOATS, "FLOATS");
  return attr ? std::vector<double>(attr->floats().begin(), attr->floats().end()) : default_value;
}

std::vector<std::string> NodeContext::attr_strings(std::string_view name, std::vector<std::string> default_value) {
  auto* attr = typed_attr(name, pb::AttributeProto::STRINGS, "STRINGS");
  return attr ? std::vector<std::string>(attr->strings().begin(), attr->strings().end()) : default_value;
}

std::optional<Tensor> NodeContext::attr_tensor(std::string_view name) {
  auto* attr = typed_attr(name, pb::AttributeProto::TENSOR, "TENSOR");
  if (!attr) return std::nullopt;
  TensorReadOptions read{state_.model_dir, state_.options.max_tensor_bytes};
  auto tensor = tensor_from_proto(attr->t(), read);
  if (!tensor) {
    Error error = tensor.error();
    error.message = fmt::format("attribute '{}': {}", name, error.message);
    dtype_from_onnx(attr->t().data_type()) ? fail(error) : fail_unsupported(error);
    return std::nullopt;
  }
  return std::move(tensor).value();
}

void NodeContext::reject_attr(std::string_view name, std::string_view why) {
  if (has_attr(name)) fail_unsupported(make_error("attribute '{}' is not supported: {}", name, why));
}

// ---- Emitting --------------------------------------------------------------------------------------

std::vector<Value*> NodeContext::create(OpKind kind, std::vector<Value*> operands, AttrMap attrs, int num_results) {
  if (failed_) return std::vector<Value*>(num_results, nullptr);
  if (auto folded = try_fold(kind, operands, attrs, num_results)) {
    std::vector<Value*> results;
    for (Tensor& tensor : *folded) results.push_back(constant(std::move(tensor), "fold"));
    return results;
  }
  auto results = state_.b.create(kind, operands, attrs, num_results);
  if (num_results != 1 || !results[0]) return results;
  auto dims = propagate_dims(kind, operands, attrs, results[0]);
  if (!dims) return results;
  if (std::all_of(dims->begin(), dims->end(), [](const Dim& d) { return d.is_const(); })) {
    // Every element is known: the value is a constant and the op just emitted is dead (DCE removes it).
    const TensorType& type = results[0]->type();
    std::vector<int64_t> shape =
        type.rank() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{int64_t(dims->size())};
    Tensor tensor(type.dtype, shape);
    for (size_t k = 0; k < dims->size(); ++k) tensor.set_int(static_cast<int64_t>(k), *(*dims)[k].as_const());
    return {constant(std::move(tensor), "fold")};
  }
  state_.shape_vectors[results[0]] = std::move(*dims);
  return results;
}

Value* NodeContext::op(OpKind kind, std::vector<Value*> operands, AttrMap attrs) {
  return create(kind, std::move(operands), std::move(attrs), 1).front();
}

Value* NodeContext::constant(Tensor value, const std::string& name_hint) {
  // Numbered hints: Module::add_constant probes suffixes one by one, which is quadratic for a repeated hint.
  return state_.b.constant(std::move(value), name_hint + "_" + std::to_string(state_.constants_made++));
}

Value* NodeContext::scalar(double value, DType dtype) {
  return constant(Tensor::from_doubles(dtype, {}, {value}), "scalar");
}

Value* NodeContext::cast(Value* x, DType dtype) {
  if (!x || x->type().dtype == dtype) return x;
  return op(OpKind::Cast, {x}, {{"to", dtype}});
}

void NodeContext::set_shape_vector(Value* value, Shape dims) {
  if (value && !constant_of(value)) state_.shape_vectors[value] = std::move(dims);
}

// ---- Outputs ---------------------------------------------------------------------------------------

void NodeContext::set_output(int i, Value* value) {
  if (!has_output(i)) return;
  if (!value) {
    if (!failed()) fail(make_error("output {} ('{}') was not produced", i, node_.output(i)));
    return;
  }
  state_.values[node_.output(i)] = value;
}

}  // namespace tessel::onnx
