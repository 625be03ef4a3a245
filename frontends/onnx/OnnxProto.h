// The ONNX protobuf classes (generated at build time from Debian's onnx.proto into the private
// package `tessel_onnx`, see docs/onnx.md) and the mapping between ONNX element types and Tessel's.
// ONNX stores element types as plain int32 fields, so types newer than that proto (FLOAT8*, INT4, ...)
// arrive as numbers; they are named here so errors can say which type a model used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ir/DType.h"
#include "tessel_onnx/onnx.pb.h"

namespace tessel::onnx {

namespace pb = ::tessel_onnx;

/// ONNX TensorProto.DataType values, including those newer than the generated enum.
enum OnnxElemType : int32_t {
  kOnnxUndefined = 0,
  kOnnxFloat = 1,
  kOnnxUint8 = 2,
  kOnnxInt8 = 3,
  kOnnxUint16 = 4,
  kOnnxInt16 = 5,
  kOnnxInt32 = 6,
  kOnnxInt64 = 7,
  kOnnxString = 8,
  kOnnxBool = 9,
  kOnnxFloat16 = 10,
  kOnnxDouble = 11,
  kOnnxUint32 = 12,
  kOnnxUint64 = 13,
  kOnnxBFloat16 = 16,
  kOnnxFloat8E4M3FN = 17,
  kOnnxFloat8E4M3FNUZ = 18,
  kOnnxFloat8E5M2 = 19,
  kOnnxFloat8E5M2FNUZ = 20,
  kOnnxUint4 = 21,
  kOnnxInt4 = 22,
  kOnnxFloat4E2M1 = 23,
  kOnnxFloat8E8M0 = 24,
  kOnnxUint2 = 25,
  kOnnxInt2 = 26,
};

/// "FLOAT", "FLOAT8E4M3FN", or "unknown" for a number no ONNX release defines (as of IR version 14).
std::string onnx_elem_type_name(int32_t elem_type);
/// The Tessel dtype for an ONNX element type, or nullopt when Tessel has none.
std::optional<DType> dtype_from_onnx(int32_t elem_type);
/// The ONNX element type of a Tessel dtype.
int32_t onnx_from_dtype(DType dtype);
/// "unsupported element type 17 (FLOAT8E4M3FN)" -- the phrase every such error uses.
std::string unsupported_elem_type(int32_t elem_type);

}  // namespace tessel::onnx
