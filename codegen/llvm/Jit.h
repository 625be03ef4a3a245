// The in-process JIT: compile a module (from ONNX or the C++ builder) to native code with LLVM's ORC LLJIT
// and run it on tensors.
//
//   auto executable = tessel::jit::compile(std::move(module));      // -O3, host CPU
//   if (!executable) ...;                                            // an Error, never a crash
//   Expected<std::vector<Tensor>> outputs = (*executable)->run({image});
//
// run() may be called from several threads at once on one Executable: every call allocates its own arena,
// and the thread pool accepts concurrent loops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/llvm/ModelCodegen.h"
#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Tensor.h"
#include "passes/PassManager.h"

struct tessel_thread_pool;

namespace tessel::jit {

struct CompileOptions {
  std::string target = "host";          ///< host | x86-64 | x86-64-v3 | x86-64-v4
  int opt_level = 3;                    ///< the pass pipeline (ignored when `passes` is set)
  std::string passes;                   ///< an explicit comma-separated pass list
  bool verify_each = false;             ///< verify the IR after every pass
  PassInstrumentation instrumentation;  ///< IR printing and pass timing
  bool fast_math = false;               ///< see llvmgen::CodegenOptions
  bool profile = false;                 ///< time each kernel (tessel_profile_* in the runtime)
  int llvm_opt_level = 3;               ///< LLVM's own pipeline, 0..3
  /// Threads per run: 0 reads TESSEL_NUM_THREADS, else uses every core.
  int num_threads = 0;
};

class Executable {
 public:
  ~Executable();
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  /// Runs the model: one tensor per input, in order, with the input's dtype and a shape that matches its
  /// type (symbolic dims bind to the sizes given). Returns the outputs in order.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) const;

  const llvmgen::ModelInterface& interface() const { return interface_; }
  /// Wall time of compile(): pass pipeline, code generation and LLVM.
  double compile_seconds() const { return compile_seconds_; }
  int num_threads() const;

 private:
  friend Expected<std::unique_ptr<Executable>> compile_lowered(std::unique_ptr<Module>, const Target&,
                                                               const CompileOptions&);
  friend Expected<std::unique_ptr<Executable>> compile(std::unique_ptr<Module>, const CompileOptions&);
  Executable() = default;
  struct State;
  std::unique_ptr<State> state_;
  llvmgen::ModelInterface interface_;
  double compile_seconds_ = 0;
};

/// Runs the pass pipeline of `options` on `module`, then compiles it.
Expected<std::unique_ptr<Executable>> compile(std::unique_ptr<Module> module, const CompileOptions& options = {});

/// Compiles a module that has already been through the pipeline (its @main holds only const and kernel ops).
Expected<std::unique_ptr<Executable>> compile_lowered(std::unique_ptr<Module> module, const Target& target,
                                                      const CompileOptions& options = {});

/// The generated LLVM IR of a module that has been through the pipeline, before (`optimized` false) or after
/// LLVM's optimization; or its assembly. For `tessel dump --format=llvm|asm`.
Expected<std::string> llvm_ir_text(const Module& module, const Target& target, bool optimized,
                                   const CompileOptions& options = {});
Expected<std::string> assembly_text(const Module& module, const Target& target, const CompileOptions& options = {});

/// Binds the symbols of `interface` from the input shapes; an error names the input and dim that disagree.
Expected<SymbolEnv> bind_symbols(const llvmgen::ModelInterface& interface, const std::vector<Tensor>& inputs);

}  // namespace tessel::jit
