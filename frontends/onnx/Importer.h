// The ONNX importer: turns an ONNX model (domains ai.onnx, opsets 6 and up, and ai.onnx.ml) into a
// tensor-IR module with one function, "main". Graph inputs become function inputs whose dim_params are
// symbols (unknown dims get fresh symbols `unk0`, `unk1`, ...); initializers and Constant nodes become
// constants; every node becomes IR ops located at the node's name. Values computable at import time are
// folded (size-bounded), and shape subgraphs (Shape -> Gather -> Concat -> Reshape, Range,
// ConstantOfShape, Expand) fold with symbolic dims, so a model exported with a dynamic batch imports with
// `N` in its types. Malformed models and unsupported ops are Errors, never crashes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontends/onnx/Loader.h"
#include "frontends/onnx/OnnxProto.h"
#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel::onnx {

/// The newest ai.onnx opset the importer knows (the node test suite goes up to 28).
inline constexpr int64_t kMaxOnnxOpset = 28;
/// The oldest ai.onnx opset it accepts.
inline constexpr int64_t kMinOnnxOpset = 6;
/// The newest ai.onnx.ml opset it knows.
inline constexpr int64_t kMaxOnnxMlOpset = 5;

struct ImportOptions {
  LoadLimits load;
  /// Largest tensor (elements) the importer computes at import time; larger results stay ops.
  int64_t max_fold_elements = int64_t{1} << 20;
  /// Largest single initializer or Constant (bytes).
  int64_t max_tensor_bytes = int64_t{4} << 30;
  /// Most nodes that inlining If and unrolling Loop / Scan bodies may import.
  int64_t max_unrolled_nodes = 1'000'000;
  /// Graph inputs bound to fixed values: they become constants instead of function inputs. This is how
  /// a caller supplies inputs that Tessel needs at compile time (a Reshape's shape, a Pad's pads, ...).
  std::map<std::string, Tensor> constant_inputs;
};

/// What the importer tells its caller beyond the module or the error.
struct ImportReport {
  /// The error is about something Tessel does not support (an op, an opset, an element type, a
  /// sequence or optional value), rather than about a malformed model.
  bool unsupported = false;
  /// Graph inputs that must be known at import time (they feed a shape, axes, pads, ...); binding them
  /// through ImportOptions::constant_inputs lets the import go further.
  std::vector<std::string> inputs_needed_as_constants;
  /// ONNX graph inputs in order, and which of them the IR function takes (the others were bound).
  std::vector<std::string> graph_inputs;
};

/// Imports a model; `model_dir` is the folder external data files must lie in ("" refuses external data).
Expected<std::unique_ptr<Module>> import_model(const pb::ModelProto& model, const std::string& model_dir,
                                               const ImportOptions& options = {}, ImportReport* report = nullptr);
/// Loads and imports an .onnx file.
Expected<std::unique_ptr<Module>> import_file(const std::string& path, const ImportOptions& options = {},
                                              ImportReport* report = nullptr);

}  // namespace tessel::onnx
