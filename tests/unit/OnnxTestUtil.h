// Helpers for ONNX importer tests: build small ModelProtos in C++ with the protobuf API, and import them.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "frontends/onnx/Importer.h"
#include "frontends/onnx/TensorProto.h"

namespace tessel::testing {

namespace pb = onnx::pb;

/// A dim of a graph input: a value, a dim_param name, or unknown (std::monostate).
using OnnxDim = std::variant<int64_t, std::string, std::monostate>;

inline pb::ModelProto onnx_model(int64_t opset = 17, int64_t ir_version = 8) {
  pb::ModelProto model;
  model.set_ir_version(ir_version);
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model.mutable_graph()->set_name("test");
  return model;
}

inline void set_tensor_type(pb::ValueInfoProto* info, int32_t elem_type, const std::vector<OnnxDim>& dims) {
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  auto* shape = tensor->mutable_shape();
  for (const OnnxDim& dim : dims) {
    auto* d = shape->add_dim();
    if (auto* value = std::get_if<int64_t>(&dim)) d->set_dim_value(*value);
    if (auto* param = std::get_if<std::string>(&dim)) d->set_dim_param(*param);
  }
}

inline void add_input(pb::ModelProto& model, const std::string& name, int32_t elem_type,
                      const std::vector<OnnxDim>& dims) {
  auto* info = model.mutable_graph()->add_input();
  info->set_name(name);
  set_tensor_type(info, elem_type, dims);
}

/// A graph output with no declared type (the importer computes it).
inline void add_output(pb::ModelProto& model, const std::string& name) {
  model.mutable_graph()->add_output()->set_name(name);
}

inline pb::NodeProto* add_node(pb::ModelProto& model, const std::string& op_type,
                               const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                               const std::string& name = {}) {
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const auto& input : inputs) node->add_input(input);
  for (const auto& output : outputs) node->add_output(output);
  return node;
}

inline void add_int_attr(pb::NodeProto* node, const std::string& name, int64_t value) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::INT);
  attr->set_i(value);
}

inline void add_ints_attr(pb::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(pb::AttributeProto::INTS);
  for (int64_t v : values) attr->add_ints(v);
}

/// An initializer holding `tensor` as raw_data.
inline pb::TensorProto* add_initializer(pb::ModelProto& model, const std::string& name, const Tensor& tensor) {
  auto* init = model.mutable_graph()->add_initializer();
  onnx::tensor_to_proto(tensor, *init);
  init->set_name(name);
  return init;
}

}  // namespace tessel::testing
