// The one table of ONNX op importers: (domain, op type, opset range, function). The driver looks nodes
// up here, and the "supported versions" part of an unsupported-op error is read from the same rows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "frontends/onnx/ImportContext.h"

namespace tessel::onnx {

inline constexpr std::string_view kOnnxDomain = "ai.onnx";
inline constexpr std::string_view kOnnxMlDomain = "ai.onnx.ml";
inline constexpr std::string_view kOnnxTrainingDomain = "ai.onnx.preview.training";
inline constexpr std::string_view kOnnxPreviewDomain = "ai.onnx.preview";

struct OpImporter {
  std::string_view domain;   ///< kOnnxDomain or kOnnxMlDomain
  std::string_view op_type;  ///< "Conv"
  int64_t min_opset;         ///< first opset (of `domain`) this importer handles
  int64_t max_opset;         ///< last opset it handles
  ImportFn fn;
};

std::span<const OpImporter> op_importers();
/// The importer for `op_type` in `domain` at `opset`, or null. `domain` "" means ai.onnx.
const OpImporter* find_op_importer(std::string_view domain, std::string_view op_type, int64_t opset);
/// "opsets 7-28" (joined with ", " when there are several ranges); empty if the op is not supported at all.
std::string supported_opsets(std::string_view domain, std::string_view op_type);

}  // namespace tessel::onnx
