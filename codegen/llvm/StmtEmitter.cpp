// Statements of the loop IR as LLVM control flow. Serial loops are counted loops with a phi; `unrolled`
// loops of small constant extent are emitted once per iteration; `parallel` loops are outlined into a
// closure `void(ptr ctx, i64 begin, i64 end)` whose context struct captures every variable and buffer in
// scope, and run by the runtime's tessel_parallel_for. Allocations: small constant-size local buffers are
// stack slots in the function's entry block; others come from malloc, and a failed malloc sets the kernel's
// failure slot and skips the allocation's body (the only code that may touch the buffer).
#include "codegen/llvm/Emitter.h"

namespace tessel::llvmgen {

using loop::ForKind;
using loop::StmtKind;
using loop::StmtNode;

namespace {

constexpr int64_t kMaxStackBytes = 64 * 1024;
constexpr int64_t kMaxUnrolledExtent = 32;

}  // namespace

llvm::FunctionCallee Emitter::runtime_function(const char* name, llvm::FunctionType* type) {
  return module_.getOrInsertFunction(name, type);
}

llvm::AllocaInst* Emitter::entry_alloca(llvm::Type* type, llvm::Value* count, const std::string& name) {
  llvm::BasicBlock& entry = function_->getEntryBlock();
  llvm::IRBuilder<> at_entry(&entry, entry.getFirstInsertionPt());
  llvm::AllocaInst* slot = at_entry.CreateAlloca(type, count, name);
  slot->setAlignment(llvm::Align(64));
  return slot;
}

Status Emitter::stmt(const loop::Stmt& s) {
  switch (s->kind) {
    case StmtKind::For: return for_loop(*s);
    case StmtKind::Store: return store(*s);
    case StmtKind::Let: return let(*s);
    case StmtKind::Block:
      for (const loop::Stmt& child : s->body) TESSEL_TRY(stmt(child));
      return Status::success();
    case StmtKind::If: return if_then_else(*s);
    case StmtKind::Allocate: return allocate(*s);
    case StmtKind::Prefetch: return prefetch(*s);
  }
  return make_error("kernel {}: unknown statement kind", kernel_name_);
}

Status Emitter::serial_loop(const std::string& var, llvm::Value* min, llvm::Value* extent, const loop::Stmt& body) {
  llvm::Value* end = builder_.CreateAdd(min, extent, var + ".end");
  llvm::BasicBlock* preheader = builder_.GetInsertBlock();
  llvm::BasicBlock* header = llvm::BasicBlock::Create(context_, var + ".loop", function_);
  llvm::BasicBlock* body_block = llvm::BasicBlock::Create(context_, var + ".body", function_);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(context_, var + ".exit", function_);
  builder_.CreateBr(header);
  builder_.SetInsertPoint(header);
  llvm::PHINode* i = builder_.CreatePHI(builder_.getInt64Ty(), 2, var);
  i->addIncoming(min, preheader);
  builder_.CreateCondBr(builder_.CreateICmpSLT(i, end), body_block, exit);
  builder_.SetInsertPoint(body_block);
  llvm::Value* saved = scope_.vars.count(var) ? scope_.vars[var] : nullptr;
  scope_.vars[var] = i;
  TESSEL_TRY(stmt(body));
  if (saved)
    scope_.vars[var] = saved;
  else
    scope_.vars.erase(var);
  llvm::Value* next = builder_.CreateAdd(i, builder_.getInt64(1), var + ".next", /*HasNUW=*/false, /*HasNSW=*/true);
  i->addIncoming(next, builder_.GetInsertBlock());
  builder_.CreateBr(header);
  builder_.SetInsertPoint(exit);
  return Status::success();
}

Status Emitter::for_loop(const StmtNode& s) {
  if (s.for_kind == ForKind::GpuBlock || s.for_kind == ForKind::GpuThread)
    return make_error("kernel {}: loop '{}' is mapped to GPU {} but this is a CPU kernel", kernel_name_, s.name,
                      loop::for_kind_name(s.for_kind))
        .with_hint("compile with a CPU --target, or use the CUDA backend");
  if (s.for_kind == ForKind::Parallel && pool_) return parallel_loop(s);
  TESSEL_ASSIGN(llvm::Value * min, expr(s.expr(0)));
  TESSEL_ASSIGN(llvm::Value * extent, expr(s.expr(1)));
  const int64_t* constant_extent = loop::as_int_const(s.expr(1));
  if (s.for_kind == ForKind::Unrolled && constant_extent && *constant_extent <= kMaxUnrolledExtent) {
    llvm::Value* saved = scope_.vars.count(s.name) ? scope_.vars[s.name] : nullptr;
    for (int64_t k = 0; k < *constant_extent; ++k) {
      scope_.vars[s.name] = builder_.CreateAdd(min, builder_.getInt64(k));
      TESSEL_TRY(stmt(s.body[0]));
    }
    if (saved)
      scope_.vars[s.name] = saved;
    else
      scope_.vars.erase(s.name);
    return Status::success();
  }
  return serial_loop(s.name, min, extent, s.body[0]);
}

Status Emitter::parallel_loop(const StmtNode& s) {
  TESSEL_ASSIGN(llvm::Value * min, expr(s.expr(0)));
  TESSEL_ASSIGN(llvm::Value * extent, expr(s.expr(1)));
  // The closure context: every variable and buffer in scope, the failure slot, the pool and the loop's min.
  std::vector<llvm::Value*> fields{fail_slot_, pool_, min};
  std::vector<std::string> var_names, buffer_names;
  for (const auto& [name, value] : scope_.vars) {
    var_names.push_back(name);
    fields.push_back(value);
  }
  for (const auto& [name, buffer] : scope_.buffers) {
    buffer_names.push_back(name);
    fields.push_back(buffer.ptr);
  }
  std::vector<llvm::Type*> field_types;
  for (llvm::Value* v : fields) field_types.push_back(v->getType());
  llvm::StructType* context_type = llvm::StructType::get(context_, field_types);
  llvm::AllocaInst* closure = entry_alloca(context_type, nullptr, s.name + ".closure");
  for (size_t k = 0; k < fields.size(); ++k)
    builder_.CreateStore(fields[k], builder_.CreateStructGEP(context_type, closure, static_cast<unsigned>(k)));

  llvm::Type* ptr = builder_.getPtrTy();
  llvm::Type* i64 = builder_.getInt64Ty();
  auto* body_type = llvm::FunctionType::get(builder_.getVoidTy(), {ptr, i64, i64}, false);
  std::string body_name = function_->getName().str() + ".par" + std::to_string(outlined_count_++);
  llvm::Function* body = llvm::Function::Create(body_type, llvm::Function::InternalLinkage, body_name, module_);
  {
    // Emit the body function with its own scope rebuilt from the context.
    llvm::IRBuilderBase::InsertPointGuard guard(builder_);
    Scope saved_scope = scope_;
    llvm::Function* saved_function = function_;
    llvm::Value *saved_fail = fail_slot_, *saved_pool = pool_;
    function_ = body;
    builder_.SetInsertPoint(llvm::BasicBlock::Create(context_, "entry", body));
    llvm::Value* ctx = body->getArg(0);
    auto field = [&](size_t k) {
      return builder_.CreateLoad(field_types[k], builder_.CreateStructGEP(context_type, ctx, static_cast<unsigned>(k)));
    };
    fail_slot_ = field(0);
    pool_ = field(1);
    llvm::Value* body_min = field(2);
    size_t k = 3;
    for (const std::string& name : var_names) scope_.vars[name] = field(k++);
    for (const std::string& name : buffer_names) scope_.buffers[name].ptr = field(k++);
    llvm::Value* begin = body->getArg(1);
    llvm::Value* count = builder_.CreateSub(body->getArg(2), begin);
    Status status = serial_loop(s.name, builder_.CreateAdd(body_min, begin), count, s.body[0]);
    if (status.ok()) builder_.CreateRetVoid();
    scope_ = std::move(saved_scope);
    function_ = saved_function;
    fail_slot_ = saved_fail;
    pool_ = saved_pool;
    TESSEL_TRY(status);
  }
  llvm::FunctionCallee parallel_for = runtime_function(
      "tessel_parallel_for", llvm::FunctionType::get(builder_.getInt32Ty(), {ptr, i64, i64, i64, ptr, ptr}, false));
  builder_.CreateCall(parallel_for, {pool_, builder_.getInt64(0), extent, builder_.getInt64(0), body, closure});
  return Status::success();
}

Status Emitter::store(const StmtNode& s) {
  TESSEL_ASSIGN(BufferRef buffer, find_buffer(s.name));
  TESSEL_ASSIGN(llvm::Value * value, expr(s.expr(1)));
  value = to_memory(buffer.elem, value);
  llvm::Type* elem = mem_type(buffer.elem);
  llvm::Align align(dtype_size(buffer.elem));
  const loop::Expr& index = s.expr(0);
  if (index->type.lanes == 1) {
    TESSEL_ASSIGN(llvm::Value * i, expr(index));
    builder_.CreateAlignedStore(value, builder_.CreateInBoundsGEP(elem, buffer.ptr, i), align);
    return Status::success();
  }
  if (index->kind == loop::ExprKind::Ramp && loop::is_const_int(index->arg(1), 1)) {
    TESSEL_ASSIGN(llvm::Value * base, expr(index->arg(0)));
    builder_.CreateAlignedStore(value, builder_.CreateInBoundsGEP(elem, buffer.ptr, base), align);
    return Status::success();
  }
  TESSEL_ASSIGN(llvm::Value * indices, expr(index));
  builder_.CreateMaskedScatter(value, builder_.CreateInBoundsGEP(elem, buffer.ptr, indices), align);
  return Status::success();
}

// A read hint for L2 (locality 2 of llvm.prefetch; x86's prefetcht1): the weights a loop reads next come
// from memory while the current ones are still in use. The address may lie past the buffer, so the GEP
// is not inbounds; a prefetch never faults.
Status Emitter::prefetch(const StmtNode& s) {
  TESSEL_ASSIGN(BufferRef buffer, find_buffer(s.name));
  TESSEL_ASSIGN(llvm::Value * i, expr(s.expr(0)));
  llvm::Value* address = builder_.CreateGEP(mem_type(buffer.elem), buffer.ptr, i);
  builder_.CreateIntrinsic(llvm::Intrinsic::prefetch, {address->getType()},
                           {address, builder_.getInt32(0), builder_.getInt32(2), builder_.getInt32(1)});
  return Status::success();
}

Status Emitter::allocate(const StmtNode& s) {
  TESSEL_ASSIGN(llvm::Value * size, expr(s.expr(0)));
  llvm::Type* elem = mem_type(s.elem);
  const int64_t* constant_size = loop::as_int_const(s.expr(0));
  auto bind_and_emit = [&](llvm::Value* ptr) -> Status {
    auto saved =
        scope_.buffers.find(s.name) != scope_.buffers.end() ? std::optional(scope_.buffers[s.name]) : std::nullopt;
    scope_.buffers[s.name] = BufferRef{ptr, s.elem};
    Status status = stmt(s.body[0]);
    if (saved)
      scope_.buffers[s.name] = *saved;
    else
      scope_.buffers.erase(s.name);
    return status;
  };
  int64_t elem_bytes = static_cast<int64_t>(dtype_size(s.elem));
  if (s.memory == loop::MemoryKind::Local && constant_size && *constant_size * elem_bytes <= kMaxStackBytes)
    return bind_and_emit(entry_alloca(elem, builder_.getInt64(std::max<int64_t>(*constant_size, 1)), s.name));

  llvm::Type* ptr_type = builder_.getPtrTy();
  llvm::Type* i64 = builder_.getInt64Ty();
  llvm::FunctionCallee malloc_fn = runtime_function("malloc", llvm::FunctionType::get(ptr_type, {i64}, false));
  llvm::FunctionCallee free_fn =
      runtime_function("free", llvm::FunctionType::get(builder_.getVoidTy(), {ptr_type}, false));
  llvm::Value* bytes = builder_.CreateMul(size, builder_.getInt64(elem_bytes));
  bytes = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, bytes, builder_.getInt64(1));
  llvm::Value* memory = builder_.CreateCall(malloc_fn, {bytes}, s.name);
  llvm::BasicBlock* ok = llvm::BasicBlock::Create(context_, s.name + ".ok", function_);
  llvm::BasicBlock* failed = llvm::BasicBlock::Create(context_, s.name + ".failed", function_);
  llvm::BasicBlock* done = llvm::BasicBlock::Create(context_, s.name + ".done", function_);
  builder_.CreateCondBr(builder_.CreateIsNull(memory), failed, ok);
  builder_.SetInsertPoint(failed);
  builder_.CreateStore(builder_.getInt32(1), fail_slot_);
  builder_.CreateBr(done);
  builder_.SetInsertPoint(ok);
  TESSEL_TRY(bind_and_emit(memory));
  builder_.CreateCall(free_fn, {memory});
  builder_.CreateBr(done);
  builder_.SetInsertPoint(done);
  return Status::success();
}

Status Emitter::if_then_else(const StmtNode& s) {
  TESSEL_ASSIGN(llvm::Value * cond, expr(s.expr(0)));
  llvm::BasicBlock* then_block = llvm::BasicBlock::Create(context_, "then", function_);
  llvm::BasicBlock* else_block =
      s.body.size() > 1 && s.body[1] ? llvm::BasicBlock::Create(context_, "else", function_) : nullptr;
  llvm::BasicBlock* merge = llvm::BasicBlock::Create(context_, "endif", function_);
  builder_.CreateCondBr(cond, then_block, else_block ? else_block : merge);
  builder_.SetInsertPoint(then_block);
  TESSEL_TRY(stmt(s.body[0]));
  builder_.CreateBr(merge);
  if (else_block) {
    builder_.SetInsertPoint(else_block);
    TESSEL_TRY(stmt(s.body[1]));
    builder_.CreateBr(merge);
  }
  builder_.SetInsertPoint(merge);
  return Status::success();
}

Status Emitter::let(const StmtNode& s) {
  TESSEL_ASSIGN(llvm::Value * value, expr(s.expr(0)));
  llvm::Value* saved = scope_.vars.count(s.name) ? scope_.vars[s.name] : nullptr;
  scope_.vars[s.name] = value;
  TESSEL_TRY(stmt(s.body[0]));
  if (saved)
    scope_.vars[s.name] = saved;
  else
    scope_.vars.erase(s.name);
  return Status::success();
}

}  // namespace tessel::llvmgen
