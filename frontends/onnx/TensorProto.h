// Converting ONNX TensorProto messages to host tensors: every element type Tessel has, from raw_data,
// from the typed repeated fields, or from an external data file inside the model's folder. Sizes are
// checked before anything is allocated; a tensor whose data does not match its dims is an Error naming it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontends/onnx/OnnxProto.h"
#include "ir/Error.h"
#include "ir/Tensor.h"

namespace tessel::onnx {

struct TensorReadOptions {
  /// The model's folder: external data files must resolve inside it. Empty: external data is refused.
  std::string base_dir;
  /// Refuse a tensor larger than this before allocating it.
  int64_t max_bytes = int64_t{4} << 30;
};

/// The dims of a tensor, checked: none negative and the element count fits in int64.
Expected<std::vector<int64_t>> checked_dims(const google::protobuf::RepeatedField<int64_t>& dims,
                                            const std::string& what);

/// Converts `proto` to a tensor. Errors name the tensor ("tensor 'w'").
Expected<Tensor> tensor_from_proto(const pb::TensorProto& proto, const TensorReadOptions& options = {});

/// Serializes `tensor` into `proto` as raw_data (for tests and writers).
void tensor_to_proto(const Tensor& tensor, pb::TensorProto& proto);

}  // namespace tessel::onnx
