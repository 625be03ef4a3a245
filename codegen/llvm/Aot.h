// Ahead-of-time compilation: a compiled model as a C header and a static library.
//
//   OUT/NAME.h            the C API: NAME_create / NAME_run / NAME_destroy, with the inputs, outputs, dtypes
//                         and shapes in comments and each symbolic dim a parameter of NAME_run
//   OUT/libNAME.a         the kernels, the entry point and (with embedded weights) the weights in .rodata
//   OUT/NAME.weights      with external weights: every constant, 64-byte aligned, mapped at NAME_create
//   OUT/tessel_runtime.h  the runtime's header, which NAME.h includes; link the runtime library too
#pragma once

#include <string>
#include <vector>

#include "codegen/llvm/ModelCodegen.h"
#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Target.h"

namespace tessel::llvmgen {

struct AotOptions {
  std::string name;               ///< a C identifier: the prefix of every exported symbol and file
  bool external_weights = false;  ///< write NAME.weights instead of embedding the constants
  CodegenOptions codegen;
  int llvm_opt_level = 3;
  std::string source;  ///< the model file, named in the header's comment
};

struct AotResult {
  ModelInterface interface;
  std::vector<std::string> files;  ///< the paths written
};

/// Writes the artifacts for `module` (after the pass pipeline) into `out_dir` (created if missing).
Expected<AotResult> compile_aot(const Module& module, const Target& target, const AotOptions& options,
                                const std::string& out_dir);

/// The C header text for a compiled model (exposed for tests).
std::string aot_header(const ModelInterface& interface, const AotOptions& options, const std::string& source);

/// The runtime's public header, embedded at build time.
extern const char* const kRuntimeHeaderText;

}  // namespace tessel::llvmgen
