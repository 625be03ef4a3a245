// The loop IR -> LLVM IR emitter shared by KernelCodegen's parts (expressions in ExprEmitter.cpp,
// statements and parallel outlining in StmtEmitter.cpp). Private to codegen/llvm.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "codegen/llvm/KernelCodegen.h"
#include "ir/Error.h"
#include "ir/loop/LoopIR.h"

namespace tessel::llvmgen {

/// A buffer visible in the current scope: its base pointer and element dtype.
struct BufferRef {
  llvm::Value* ptr = nullptr;
  DType elem = DType::F32;
};

/// What code inside one LLVM function sees: variables (SSA values) and buffers by name.
struct Scope {
  std::map<std::string, llvm::Value*> vars;
  std::map<std::string, BufferRef> buffers;
};

class Emitter {
 public:
  Emitter(llvm::Module& module, const CodegenOptions& options, std::string kernel_name);

  /// Emits the whole kernel function (see KernelCodegen.h for the ABI).
  Expected<llvm::Function*> emit_kernel(const loop::Kernel& kernel, const std::string& symbol);

  // ---- types ----
  /// The type a value of `type` has in registers (f16/bf16 as float, bool as i1).
  llvm::Type* reg_type(loop::Type type);
  /// The type of one element of a `dtype` buffer in memory (f16 as half, bf16 as i16, bool as i8).
  llvm::Type* mem_type(DType dtype);

 private:
  // ---- expressions (ExprEmitter.cpp) ----
  Expected<llvm::Value*> expr(const loop::Expr& e);
  Expected<llvm::Value*> binary(const loop::ExprNode& e);
  Expected<llvm::Value*> cast(loop::Type from, loop::Type to, llvm::Value* value);
  Expected<llvm::Value*> call(const loop::ExprNode& e);
  Expected<llvm::Value*> load(const loop::ExprNode& e);
  llvm::Value* int_divide(llvm::Value* a, llvm::Value* b, bool is_unsigned, bool remainder);
  llvm::Value* float_call(loop::Intrinsic fn, llvm::Value* x, llvm::Value* y);
  llvm::Value* libm_call(const char* name, llvm::Value* x, llvm::Value* y);
  /// exp and tanh of an f32 vector as inline polynomials (VectorMath.cpp); libm would run lane by lane.
  llvm::Value* vector_exp_f32(llvm::Value* x);
  llvm::Value* vector_tanh_f32(llvm::Value* x);
  llvm::Value* int_call(loop::Intrinsic fn, DType dtype, llvm::Value* x, llvm::Value* y, DType y_dtype);
  /// Rounds a float register value to f16 / bf16 precision (identity for other dtypes).
  llvm::Value* round_to(DType dtype, llvm::Value* value);
  /// Memory representation <-> register representation.
  llvm::Value* from_memory(DType dtype, llvm::Value* value);
  llvm::Value* to_memory(DType dtype, llvm::Value* value);
  /// The address of element `index` (a scalar) of `buffer`, or the vector of addresses (a vector index).
  Expected<BufferRef> find_buffer(const std::string& name);
  llvm::Value* splat_if_vector(llvm::Value* scalar, int lanes);

  // ---- statements (StmtEmitter.cpp) ----
  Status stmt(const loop::Stmt& s);
  Status for_loop(const loop::StmtNode& s);
  Status serial_loop(const std::string& var, llvm::Value* min, llvm::Value* extent, const loop::Stmt& body);
  Status parallel_loop(const loop::StmtNode& s);
  Status store(const loop::StmtNode& s);
  Status prefetch(const loop::StmtNode& s);
  Status allocate(const loop::StmtNode& s);
  Status if_then_else(const loop::StmtNode& s);
  Status let(const loop::StmtNode& s);
  llvm::AllocaInst* entry_alloca(llvm::Type* type, llvm::Value* count, const std::string& name);
  /// Declares a C function of the runtime or libc/libm.
  llvm::FunctionCallee runtime_function(const char* name, llvm::FunctionType* type);

  llvm::Module& module_;
  llvm::LLVMContext& context_;
  llvm::IRBuilder<> builder_;
  CodegenOptions options_;
  std::string kernel_name_;
  Scope scope_;
  llvm::Function* function_ = nullptr;  ///< the function being emitted (the kernel or an outlined body)
  llvm::Value* fail_slot_ = nullptr;    ///< i32 slot set to 1 when an allocation fails
  llvm::Value* pool_ = nullptr;         ///< the tessel_thread_pool*
  int outlined_count_ = 0;
};

}  // namespace tessel::llvmgen
