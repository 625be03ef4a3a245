// Loop IR -> LLVM IR: one loop::Kernel becomes one LLVM function.
//
// The kernel ABI (what the model entry and tests call):
//   i32 NAME(ptr buffers, ptr params, ptr pool)
// `buffers` holds one pointer per kernel buffer, in Kernel::buffers order; `params` holds the i64 value of
// each symbolic dim, in Kernel::params() order; `pool` is a tessel_thread_pool* (NULL runs serially).
// It returns 0, or 1 when a heap allocation inside the kernel failed (nothing after it ran).
//
// Parallel loops are outlined into closures run by tessel_parallel_for; f16 and bf16 values are computed in
// float and rounded after every operation (the loop IR's semantics); bool is i1 in registers and one byte in
// memory. Nothing here optimizes: the caller runs LLVM's pipeline (Optimize.h).
#pragma once

#include <string>

#include "ir/Error.h"
#include "ir/loop/LoopIR.h"

namespace llvm {
class Function;
class Module;
}  // namespace llvm

namespace tessel::llvmgen {

struct CodegenOptions {
  /// Allow reassociation and contraction of float arithmetic (faster reductions; results may differ in the
  /// last bits from the interpreter's).
  bool fast_math = false;
  /// The model's entry times each kernel through the runtime's tessel_profile_clock/record (labels:
  /// "kN <op location>"), for `tessel bench --profile`.
  bool profile = false;
};

/// Emits `kernel` into `module` as a function named `symbol`. Errors name the kernel and the construct that
/// has no code generation (e.g. a storage-only dtype).
Expected<llvm::Function*> emit_kernel(const loop::Kernel& kernel, const std::string& symbol, llvm::Module& module,
                                      const CodegenOptions& options = {});

}  // namespace tessel::llvmgen
