// emit_model: lowers each kernel of @main, emits it with KernelCodegen, and writes the entry function that
// binds each kernel's buffers (inputs, outputs, constants, arena slots from the memory plan) and calls the
// kernels in order. Outputs that are not written by a kernel (an input or constant returned as is, or one
// value returned twice) are copied at the end.
#include "codegen/llvm/ModelCodegen.h"

#include <map>
#include <set>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "ir/Schedule.h"
#include "passes/LowerKernel.h"
#include "passes/MemoryPlan.h"
#include "passes/ScheduleKernels.h"

namespace tessel::llvmgen {
namespace {

/// Where a value of @main lives at run time.
struct Location {
  enum Kind { Input, Output, Constant, Arena } kind = Arena;
  int index = 0;        ///< Input / Output / Constant index
  Dim offset = Dim(0);  ///< Arena byte offset
};

class EntryEmitter {
 public:
  EntryEmitter(const Module& module, const Target& target, const std::string& prefix, llvm::Module& out,
               const CodegenOptions& options)
      : module_(module), target_(target), prefix_(prefix), out_(out), options_(options), builder_(out.getContext()) {}

  Expected<ModelInterface> emit();

 private:
  Status collect_interface(const Function& main);
  Status place_values(const Function& main, const MemoryPlan& plan);
  Expected<llvm::Value*> dim_value(const Dim& dim);
  Expected<llvm::Value*> index_value(const loop::Expr& e);
  llvm::Value* pointer_array_element(llvm::Value* array, int index);
  Expected<llvm::Value*> location_pointer(const Location& location);
  /// The index of a module constant in the `constants` array (added on first use).
  Expected<int> constant_index(const std::string& name);
  Status emit_step(const Op& op, int step);
  /// The runtime's profiling hooks (declared on first use).
  llvm::FunctionCallee profile_clock() {
    return out_.getOrInsertFunction("tessel_profile_clock", llvm::FunctionType::get(builder_.getInt64Ty(), false));
  }
  llvm::FunctionCallee profile_record() {
    return out_.getOrInsertFunction(
        "tessel_profile_record",
        llvm::FunctionType::get(builder_.getVoidTy(), {builder_.getPtrTy(), builder_.getInt64Ty()}, false));
  }
  Status emit_output_copies(const Function& main);
  Status emit_arena_bytes(const MemoryPlan& plan);

  const Module& module_;
  const Target& target_;
  std::string prefix_;
  llvm::Module& out_;
  CodegenOptions options_;
  llvm::IRBuilder<> builder_;
  ModelInterface interface_;
  std::map<const Value*, Location> locations_;
  std::map<std::string, int> constant_index_;
  std::map<std::string, llvm::Value*> symbols_;  ///< in the function being emitted
  llvm::Function* run_ = nullptr;
};

Status EntryEmitter::collect_interface(const Function& main) {
  interface_.prefix = prefix_;
  std::set<std::string> symbols;
  for (const Value* input : main.inputs()) {
    interface_.inputs.push_back({input->name(), input->type().dtype, input->type().shape});
    for (const Dim& d : input->type().shape) d.collect_symbols(symbols);
  }
  interface_.symbols.assign(symbols.begin(), symbols.end());
  for (size_t j = 0; j < main.outputs().size(); ++j) {
    const Value* v = main.outputs()[j];
    std::set<std::string> used;
    for (const Dim& d : v->type().shape) d.collect_symbols(used);
    for (const std::string& s : used)
      if (!symbols.count(s))
        return make_error("output '{}' has dim '{}', which no input's shape determines", main.output_names()[j], s)
            .with_hint("compiled models take every symbolic dim from the input shapes");
    interface_.outputs.push_back({main.output_names()[j], v->type().dtype, v->type().shape});
  }
  return Status::success();
}

Status EntryEmitter::place_values(const Function& main, const MemoryPlan& plan) {
  for (size_t i = 0; i < main.inputs().size(); ++i) locations_[main.inputs()[i]] = {Location::Input, int(i), Dim(0)};
  for (const BufferPlan& buffer : plan.buffers)
    if (buffer.in_arena) locations_[buffer.value] = {Location::Arena, 0, buffer.offset};
  for (const Op* op : main.ops()) {
    if (op->kind() == OpKind::Const) {
      TESSEL_ASSIGN(int index, constant_index(op->attr().s("name")));
      locations_[op->result(0)] = {Location::Constant, index, Dim(0)};
      continue;
    }
    if (op->kind() != OpKind::Kernel)
      return make_error("@{}: op '{}' producing %{} is not inside a kernel", main.name(), op->name(),
                        op->num_results() ? op->result(0)->name() : std::string("?"))
          .with_hint(
              "the llvm backend compiles fused kernels: run the pipeline through `fuse` (-O3); ops kept "
              "outside kernels (strings, storage-only dtypes) run only on the interpreter");
  }
  // An output produced by a kernel is written in place of its first use as an output.
  for (size_t j = 0; j < main.outputs().size(); ++j) {
    const Value* v = main.outputs()[j];
    if (locations_.count(v)) continue;
    locations_[v] = {Location::Output, int(j), Dim(0)};
  }
  return Status::success();
}

Expected<int> EntryEmitter::constant_index(const std::string& name) {
  auto it = constant_index_.find(name);
  if (it != constant_index_.end()) return it->second;
  if (!module_.constant(name)) return make_error("constant '@{}' is not in the module", name);
  interface_.constants.push_back(name);
  return constant_index_[name] = int(interface_.constants.size()) - 1;
}

llvm::Value* EntryEmitter::pointer_array_element(llvm::Value* array, int index) {
  llvm::Type* ptr = builder_.getPtrTy();
  return builder_.CreateLoad(ptr, builder_.CreateConstInBoundsGEP1_64(ptr, array, index));
}

Expected<llvm::Value*> EntryEmitter::index_value(const loop::Expr& e) {
  using loop::BinOp;
  switch (e->kind) {
    case loop::ExprKind::IntImm: return builder_.getInt64(e->int_value);
    case loop::ExprKind::Var: {
      auto it = symbols_.find(e->name);
      if (it == symbols_.end()) return make_error("dim symbol '{}' is not bound by the inputs", e->name);
      return it->second;
    }
    case loop::ExprKind::Binary: {
      TESSEL_ASSIGN(llvm::Value * a, index_value(e->arg(0)));
      TESSEL_ASSIGN(llvm::Value * b, index_value(e->arg(1)));
      switch (e->op) {
        case BinOp::Add: return builder_.CreateAdd(a, b);
        case BinOp::Sub: return builder_.CreateSub(a, b);
        case BinOp::Mul: return builder_.CreateMul(a, b);
        case BinOp::Div: return builder_.CreateSDiv(a, b);  // dims divide by positive constants
        case BinOp::Mod: return builder_.CreateSRem(a, b);
        case BinOp::Min: return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, a, b);
        case BinOp::Max: return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, a, b);
        default: break;
      }
      break;
    }
    default: break;
  }
  return make_error("dim expression has an unexpected form");
}

Expected<llvm::Value*> EntryEmitter::dim_value(const Dim& dim) { return index_value(loop::dim_expr(dim)); }

Expected<llvm::Value*> EntryEmitter::location_pointer(const Location& location) {
  switch (location.kind) {
    case Location::Input: return pointer_array_element(run_->getArg(0), location.index);
    case Location::Output: return pointer_array_element(run_->getArg(1), location.index);
    case Location::Constant: return pointer_array_element(run_->getArg(2), location.index);
    case Location::Arena: {
      TESSEL_ASSIGN(llvm::Value * offset, dim_value(location.offset));
      return builder_.CreateInBoundsGEP(builder_.getInt8Ty(), run_->getArg(4), offset);
    }
  }
  return nullptr;
}

Status EntryEmitter::emit_step(const Op& op, int step) {
  TESSEL_ASSIGN(const Function* body, kernel_body(module_, op));
  std::string where = "kernel @" + body->name();
  auto schedule = parse_schedule(op.attr().s("schedule"));
  if (!schedule) return schedule.error().at(where);
  auto kernel = lower_kernel(*body, *schedule, target_);
  if (!kernel) return kernel.error().at(where);
  std::string symbol = prefix_ + "_k" + std::to_string(step);
  TESSEL_ASSIGN(llvm::Function * function, emit_kernel(*kernel, symbol, out_, options_));
  function->setLinkage(llvm::Function::InternalLinkage);  // only the entry calls it

  llvm::Type* ptr = builder_.getPtrTy();
  llvm::Type* i64 = builder_.getInt64Ty();
  size_t num_buffers = kernel->buffers.size();
  llvm::Value* buffers = builder_.CreateAlloca(ptr, builder_.getInt64(std::max<size_t>(num_buffers, 1)));
  int next_input = 0, next_output = 0;
  for (size_t k = 0; k < num_buffers; ++k) {
    const loop::Buffer& buffer = kernel->buffers[k];
    llvm::Value* pointer = nullptr;
    if (buffer.role == loop::BufferRole::Constant) {
      TESSEL_ASSIGN(int index, constant_index(buffer.constant));
      pointer = pointer_array_element(run_->getArg(2), index);
    } else {
      const Value* value = buffer.role == loop::BufferRole::Input ? op.operand(next_input++) : op.result(next_output++);
      if (!value || !locations_.count(value)) return make_error("{}: buffer '{}' has no storage", where, buffer.name);
      TESSEL_ASSIGN(pointer, location_pointer(locations_.at(value)));
    }
    builder_.CreateStore(pointer, builder_.CreateConstInBoundsGEP1_64(ptr, buffers, k));
  }
  std::vector<std::string> params = kernel->params();
  llvm::Value* param_array = builder_.CreateAlloca(i64, builder_.getInt64(std::max<size_t>(params.size(), 1)));
  for (size_t k = 0; k < params.size(); ++k) {
    auto it = symbols_.find(params[k]);
    if (it == symbols_.end())
      return make_error("{}: dim '{}' is not determined by the model's inputs", where, params[k]);
    builder_.CreateStore(it->second, builder_.CreateConstInBoundsGEP1_64(i64, param_array, k));
  }
  llvm::Value* start = options_.profile ? builder_.CreateCall(profile_clock()) : nullptr;
  llvm::Value* status = builder_.CreateCall(function, {buffers, param_array, run_->getArg(5)});
  if (options_.profile) {
    std::string label = fmt::format("k{} {}", step, op.location());
    builder_.CreateCall(profile_record(), {builder_.CreateGlobalString(label, symbol + ".label"), start});
  }
  llvm::BasicBlock* failed = llvm::BasicBlock::Create(out_.getContext(), "failed", run_);
  llvm::BasicBlock* next = llvm::BasicBlock::Create(out_.getContext(), "next", run_);
  builder_.CreateCondBr(builder_.CreateICmpNE(status, builder_.getInt32(0)), failed, next);
  builder_.SetInsertPoint(failed);
  builder_.CreateRet(builder_.getInt32(2));  // TESSEL_ERROR_OUT_OF_MEMORY
  builder_.SetInsertPoint(next);
  ++interface_.kernels;
  return Status::success();
}

Status EntryEmitter::emit_output_copies(const Function& main) {
  for (size_t j = 0; j < main.outputs().size(); ++j) {
    const Location& location = locations_.at(main.outputs()[j]);
    if (location.kind == Location::Output && location.index == int(j)) continue;
    const TensorType& type = main.outputs()[j]->type();
    Dim bytes = Dim(int64_t(dtype_size(type.dtype)));
    for (const Dim& d : type.shape) bytes = bytes * d;
    TESSEL_ASSIGN(llvm::Value * size, dim_value(bytes));
    TESSEL_ASSIGN(llvm::Value * source, location_pointer(location));
    llvm::Value* target = pointer_array_element(run_->getArg(1), int(j));
    builder_.CreateMemCpy(target, llvm::MaybeAlign(1), source, llvm::MaybeAlign(1), size);
  }
  return Status::success();
}

Status EntryEmitter::emit_arena_bytes(const MemoryPlan& plan) {
  llvm::Type* i64 = builder_.getInt64Ty();
  auto* type = llvm::FunctionType::get(i64, {builder_.getPtrTy()}, false);
  auto* function = llvm::Function::Create(type, llvm::Function::ExternalLinkage, prefix_ + "_arena_bytes", out_);
  builder_.SetInsertPoint(llvm::BasicBlock::Create(out_.getContext(), "entry", function));
  symbols_.clear();
  for (size_t k = 0; k < interface_.symbols.size(); ++k)
    symbols_[interface_.symbols[k]] =
        builder_.CreateLoad(i64, builder_.CreateConstInBoundsGEP1_64(i64, function->getArg(0), k));
  llvm::Value* bytes = builder_.getInt64(0);
  TESSEL_ASSIGN(llvm::Value * total, dim_value(plan.arena_bytes));
  bytes = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, bytes, total);
  builder_.CreateRet(bytes);
  return Status::success();
}

Expected<ModelInterface> EntryEmitter::emit() {
  const Function* main = module_.entry();
  if (!main) return make_error("the module has no entry function @main");
  TESSEL_TRY(collect_interface(*main));
  TESSEL_ASSIGN(MemoryPlan plan, compute_memory_plan(*main));
  TESSEL_TRY(place_values(*main, plan));

  llvm::Type* ptr = builder_.getPtrTy();
  auto* type = llvm::FunctionType::get(builder_.getInt32Ty(), {ptr, ptr, ptr, ptr, ptr, ptr}, false);
  run_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, prefix_ + "_run", out_);
  const char* arg_names[] = {"inputs", "outputs", "constants", "symbols", "arena", "pool"};
  for (unsigned k = 0; k < 6; ++k) run_->getArg(k)->setName(arg_names[k]);
  builder_.SetInsertPoint(llvm::BasicBlock::Create(out_.getContext(), "entry", run_));
  llvm::Type* i64 = builder_.getInt64Ty();
  for (size_t k = 0; k < interface_.symbols.size(); ++k)
    symbols_[interface_.symbols[k]] =
        builder_.CreateLoad(i64, builder_.CreateConstInBoundsGEP1_64(i64, run_->getArg(3), k), interface_.symbols[k]);
  int step = 0;
  for (const Op* op : main->ops())
    if (op->kind() == OpKind::Kernel) TESSEL_TRY(emit_step(*op, step++));
  TESSEL_TRY(emit_output_copies(*main));
  builder_.CreateRet(builder_.getInt32(0));
  TESSEL_TRY(emit_arena_bytes(plan));
  return interface_;
}

}  // namespace

Expected<ModelInterface> emit_model(const Module& module, const Target& target, const std::string& prefix,
                                    llvm::Module& out, const CodegenOptions& options) {
  EntryEmitter emitter(module, target, prefix, out, options);
  return emitter.emit();
}

}  // namespace tessel::llvmgen
