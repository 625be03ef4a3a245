// Reading ONNX protobuf files under limits (see Loader.h).
#include "frontends/onnx/Loader.h"

#include <filesystem>
#include <fstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace tessel::onnx {
namespace {

// Parses any message under the limits; false when the bytes are not exactly one complete message.
bool parse_limited(std::string_view bytes, const LoadLimits& limits, google::protobuf::MessageLite& message) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream stream(&raw);
  stream.SetTotalBytesLimit(static_cast<int>(bytes.size()));
  stream.SetRecursionLimit(limits.recursion_limit);
  return message.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage();
}

Status check_size(std::string_view bytes, const std::string& name, const LoadLimits& limits) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes)
    return make_error("{}: {} bytes is over the limit of {} bytes", name, bytes.size(), limits.max_file_bytes);
  return Status::success();
}

}  // namespace

Expected<std::string> read_file_limited(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return make_error("{}: no such file", path);
  if (!std::filesystem::is_regular_file(status)) return make_error("{}: not a regular file", path);
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return make_error("{}: cannot read its size: {}", path, ec.message());
  if (size > static_cast<uintmax_t>(max_bytes))
    return make_error("{}: {} bytes is over the limit of {} bytes", path, size, max_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("{}: cannot open", path);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size)) return make_error("{}: short read", path);
  return bytes;
}

Expected<pb::ModelProto> parse_model(std::string_view bytes, const std::string& name, const LoadLimits& limits) {
  TESSEL_TRY(check_size(bytes, name, limits));
  pb::ModelProto model;
  if (!parse_limited(bytes, limits, model))
    return make_error("{}: not a valid ONNX model: the protobuf data is truncated, corrupt or nested deeper than {}",
                      name, limits.recursion_limit);
  if (!model.has_ir_version() || model.ir_version() < 3)
    return make_error("{}: ONNX IR version {} is not supported (Tessel reads IR versions 3 to {})", name,
                      model.ir_version(), kMaxIrVersion);
  if (model.ir_version() > kMaxIrVersion)
    return make_error("{}: ONNX IR version {} is newer than Tessel supports (up to {})", name, model.ir_version(),
                      kMaxIrVersion);
  if (!model.has_graph()) return make_error("{}: the model has no graph", name);
  return model;
}

Expected<pb::ModelProto> load_model(const std::string& path, const LoadLimits& limits) {
  TESSEL_ASSIGN(std::string bytes, read_file_limited(path, limits.max_file_bytes));
  return parse_model(bytes, path, limits);
}

Expected<pb::TensorProto> load_tensor_proto(const std::string& path, const LoadLimits& limits) {
  TESSEL_ASSIGN(std::string bytes, read_file_limited(path, limits.max_file_bytes));
  pb::TensorProto tensor;
  if (!parse_limited(bytes, limits, tensor))
    return make_error("{}: not a valid TensorProto: the protobuf data is truncated or corrupt", path);
  return tensor;
}

}  // namespace tessel::onnx
