// A whole compiled model as one LLVM module: every kernel of @main (lowered to loop IR under its schedule)
// and the model's entry points, which run the kernels in order over the memory plan's arena:
//
//   i32 PREFIX_run(ptr inputs, ptr outputs, ptr constants, ptr symbols, ptr arena, ptr pool)
//   i64 PREFIX_arena_bytes(ptr symbols)
//
// `inputs` / `outputs` hold one data pointer per @main input / output (outputs are written, never read
// before written); `constants` one pointer per ModelInterface::constants entry; `symbols` the i64 value of
// each ModelInterface::symbols entry; `arena` PREFIX_arena_bytes(symbols) bytes aligned to 64; `pool` a
// tessel_thread_pool* or NULL. PREFIX_run returns 0 or TESSEL_ERROR_OUT_OF_MEMORY.
//
// Expects the module after the pipeline up to `fuse` (usually -O3): @main holds only `const` and `kernel`
// ops. Anything else is refused with the op named.
#pragma once

#include <string>
#include <vector>

#include "codegen/llvm/KernelCodegen.h"
#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Target.h"

namespace tessel::llvmgen {

/// One input or output of the compiled entry.
struct TensorSignature {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;  ///< may hold symbols
};

/// What callers of the entry points must know: argument order and meaning.
struct ModelInterface {
  std::string prefix;  ///< the entry points are PREFIX_run and PREFIX_arena_bytes
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  std::vector<std::string> symbols;    ///< sorted; the order of the `symbols` array
  std::vector<std::string> constants;  ///< module constant names; the order of the `constants` array
  int kernels = 0;
};

/// Emits the kernels and entry points of `module`'s @main into `out`.
Expected<ModelInterface> emit_model(const Module& module, const Target& target, const std::string& prefix,
                                    llvm::Module& out, const CodegenOptions& options = {});

}  // namespace tessel::llvmgen
