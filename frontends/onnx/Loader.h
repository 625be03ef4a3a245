// Reading ONNX protobuf files with limits: the file size is checked before anything is read, the parser
// runs under a total-bytes and a nesting limit, and a file that does not parse completely (truncated,
// corrupt, or not protobuf at all) is an Error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "frontends/onnx/OnnxProto.h"
#include "ir/Error.h"

namespace tessel::onnx {

/// Limits on what the loader reads; the defaults accept every valid ONNX file (protobuf itself cannot
/// represent a message over 2 GiB).
struct LoadLimits {
  int64_t max_file_bytes = (int64_t{2} << 30) - 1;
  int recursion_limit = 64;  ///< nesting depth of messages (subgraphs inside attributes)
};

/// The highest ONNX IR version this loader knows (ONNX 1.23: IR version 14; the node suite goes to 13).
/// Newer versions are refused rather than read with semantics Tessel has not checked.
inline constexpr int64_t kMaxIrVersion = 14;

/// Reads a whole file, refusing it (before reading) when it is larger than `max_bytes`.
Expected<std::string> read_file_limited(const std::string& path, int64_t max_bytes);

/// Parses a ModelProto from bytes and checks the header (IR version, a graph). Errors carry `name`.
Expected<pb::ModelProto> parse_model(std::string_view bytes, const std::string& name, const LoadLimits& limits = {});
/// read_file_limited + parse_model.
Expected<pb::ModelProto> load_model(const std::string& path, const LoadLimits& limits = {});
/// Reads a serialized TensorProto (the node tests' input_N.pb / output_N.pb files).
Expected<pb::TensorProto> load_tensor_proto(const std::string& path, const LoadLimits& limits = {});

}  // namespace tessel::onnx
