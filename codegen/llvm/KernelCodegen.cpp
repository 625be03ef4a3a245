// emit_kernel: the kernel function's prologue (unpacking the buffer and parameter arrays) around the body
// that Emitter's expression and statement parts generate.
#include "codegen/llvm/KernelCodegen.h"

#include "codegen/llvm/Emitter.h"

namespace tessel::llvmgen {

Emitter::Emitter(llvm::Module& module, const CodegenOptions& options, std::string kernel_name)
    : module_(module),
      context_(module.getContext()),
      builder_(module.getContext()),
      options_(options),
      kernel_name_(std::move(kernel_name)) {
  llvm::FastMathFlags flags;
  flags.setAllowContract(true);  // fused multiply-add, as C compilers do by default
  if (options_.fast_math) {
    flags.setAllowReassoc(true);
    flags.setNoSignedZeros(true);
    flags.setAllowReciprocal(true);
    flags.setApproxFunc(true);
  }
  builder_.setFastMathFlags(flags);
}

namespace {

Status check_dtypes(const loop::Kernel& kernel) {
  for (const loop::Buffer& buffer : kernel.buffers) {
    // Low-precision buffers hold one byte per element (i8); the loop IR converts them with integer code.
    if (buffer.dtype == DType::String)
      return make_error("kernel {}: buffer '{}' has dtype {}, which has no compiled arithmetic", kernel.name,
                        buffer.name, dtype_name(buffer.dtype))
          .with_hint("string ops stay outside kernels; run the interpreter backend");
  }
  return Status::success();
}

}  // namespace

Expected<llvm::Function*> Emitter::emit_kernel(const loop::Kernel& kernel, const std::string& symbol) {
  TESSEL_TRY(check_dtypes(kernel));
  llvm::Type* ptr = builder_.getPtrTy();
  auto* type = llvm::FunctionType::get(builder_.getInt32Ty(), {ptr, ptr, ptr}, false);
  function_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, symbol, module_);
  function_->getArg(0)->setName("buffers");
  function_->getArg(1)->setName("params");
  function_->getArg(2)->setName("pool");
  builder_.SetInsertPoint(llvm::BasicBlock::Create(context_, "entry", function_));
  fail_slot_ = builder_.CreateAlloca(builder_.getInt32Ty(), nullptr, "failed");
  builder_.CreateStore(builder_.getInt32(0), fail_slot_);
  pool_ = function_->getArg(2);
  for (size_t k = 0; k < kernel.buffers.size(); ++k) {
    const loop::Buffer& buffer = kernel.buffers[k];
    llvm::Value* slot = builder_.CreateConstInBoundsGEP1_64(ptr, function_->getArg(0), k);
    scope_.buffers[buffer.name] = BufferRef{builder_.CreateLoad(ptr, slot, buffer.name), buffer.dtype};
  }
  std::vector<std::string> params = kernel.params();
  for (size_t k = 0; k < params.size(); ++k) {
    llvm::Value* slot = builder_.CreateConstInBoundsGEP1_64(builder_.getInt64Ty(), function_->getArg(1), k);
    scope_.vars[params[k]] = builder_.CreateLoad(builder_.getInt64Ty(), slot, params[k]);
  }
  TESSEL_TRY(stmt(kernel.body));
  builder_.CreateRet(builder_.CreateLoad(builder_.getInt32Ty(), fail_slot_));
  return function_;
}

Expected<llvm::Function*> emit_kernel(const loop::Kernel& kernel, const std::string& symbol, llvm::Module& module,
                                      const CodegenOptions& options) {
  Emitter emitter(module, options, kernel.name);
  return emitter.emit_kernel(kernel, symbol);
}

}  // namespace tessel::llvmgen
