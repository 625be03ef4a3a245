// The JIT: pass pipeline -> emit_model -> LLVM optimization -> ORC LLJIT, and run() binding tensors to the
// generated entry point. Runtime functions are given to the JIT as absolute symbols (the process need not
// export them); libm and libc come from the process's own libraries.
#include "codegen/llvm/Jit.h"

#include <chrono>
#include <cstdlib>

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/llvm/Optimize.h"
#include "runtime/tessel_runtime.h"

namespace tessel::jit {

using RunFn = int32_t (*)(void* const*, void* const*, const void* const*, const int64_t*, void*, tessel_thread_pool*);
using ArenaBytesFn = int64_t (*)(const int64_t*);

struct Executable::State {
  std::unique_ptr<Module> module;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  RunFn run = nullptr;
  ArenaBytesFn arena_bytes = nullptr;
  std::vector<const void*> constants;
  tessel_thread_pool* pool = nullptr;
};

Executable::~Executable() {
  if (state_) tessel_thread_pool_destroy(state_->pool);
}

int Executable::num_threads() const { return tessel_thread_pool_num_threads(state_->pool); }

namespace {

std::string llvm_message(llvm::Error error) { return llvm::toString(std::move(error)); }

int thread_count(const CompileOptions& options) {
  if (options.num_threads > 0) return options.num_threads;
  if (const char* env = std::getenv("TESSEL_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return 0;
}

Status run_pipeline(Module& module, const Target& target, const CompileOptions& options) {
  PassContext context;
  context.target = target;
  context.options.verify_each = options.verify_each;
  PassManager manager(context, options.instrumentation);
  if (options.passes.empty())
    manager.add_pipeline(options.opt_level);
  else
    manager.add_list(options.passes);
  TESSEL_TRY(manager.status());
  Expected<bool> ran = manager.run(module);
  if (!ran) return ran.error();
  if (options.instrumentation.time_passes && options.instrumentation.ir_out)
    manager.print_timings(*options.instrumentation.ir_out);
  return Status::success();
}

struct GeneratedModule {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  llvmgen::ModelInterface interface;
};

Expected<GeneratedModule> generate(const Module& module, const Target& target, const CompileOptions& options) {
  GeneratedModule out;
  out.context = std::make_unique<llvm::LLVMContext>();
  out.module = std::make_unique<llvm::Module>("tessel_model", *out.context);
  llvmgen::CodegenOptions codegen;
  codegen.fast_math = options.fast_math;
  codegen.profile = options.profile;
  TESSEL_ASSIGN(out.interface, llvmgen::emit_model(module, target, "model", *out.module, codegen));
  return out;
}

Expected<std::unique_ptr<llvm::orc::LLJIT>> make_jit(const Target& target) {
  TESSEL_ASSIGN(llvmgen::CpuDescription cpu, llvmgen::describe_cpu(target));
  llvm::orc::JITTargetMachineBuilder machine{llvm::Triple(cpu.triple)};
  machine.setCPU(cpu.cpu);
  llvm::SmallVector<llvm::StringRef, 64> features;
  llvm::StringRef(cpu.features).split(features, ',', -1, false);
  machine.addFeatures(std::vector<std::string>(features.begin(), features.end()));
  machine.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(machine)).create();
  if (!jit) return make_error("cannot start the LLVM JIT: {}", llvm_message(jit.takeError()));
  llvm::orc::JITDylib& library = (*jit)->getMainJITDylib();
  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(), (*jit)->getDataLayout());
  llvm::orc::SymbolMap runtime;
  auto define = [&](const char* name, auto* address) {
    runtime[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported};
  };
  define("tessel_parallel_for", &tessel_parallel_for);
  define("tessel_ipow", &tessel_ipow);
  define("tessel_profile_clock", &tessel_profile_clock);
  define("tessel_profile_record", &tessel_profile_record);
  if (auto error = library.define(llvm::orc::absoluteSymbols(std::move(runtime))))
    return make_error("cannot define runtime symbols in the JIT: {}", llvm_message(std::move(error)));
  auto process =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess((*jit)->getDataLayout().getGlobalPrefix());
  if (!process) return make_error("cannot search the process for symbols: {}", llvm_message(process.takeError()));
  library.addGenerator(std::move(*process));
  return std::move(*jit);
}

}  // namespace

Expected<std::unique_ptr<Executable>> compile_lowered(std::unique_ptr<Module> module, const Target& target,
                                                      const CompileOptions& options) {
  auto start = std::chrono::steady_clock::now();
  TESSEL_ASSIGN(GeneratedModule generated, generate(*module, target, options));
  TESSEL_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, llvmgen::make_target_machine(target));
  llvmgen::optimize_module(*generated.module, *machine, target, options.llvm_opt_level);
  TESSEL_ASSIGN(std::unique_ptr<llvm::orc::LLJIT> jit, make_jit(target));
  if (auto error =
          jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(generated.module), std::move(generated.context))))
    return make_error("the JIT rejected the generated code: {}", llvm_message(std::move(error)));
  auto run = jit->lookup("model_run");
  if (!run) return make_error("the JIT cannot link the model: {}", llvm_message(run.takeError()));
  auto arena_bytes = jit->lookup("model_arena_bytes");
  if (!arena_bytes) return make_error("the JIT cannot link the model: {}", llvm_message(arena_bytes.takeError()));

  std::unique_ptr<Executable> executable(new Executable());
  auto state = std::make_unique<Executable::State>();
  state->run = run->toPtr<RunFn>();
  state->arena_bytes = arena_bytes->toPtr<ArenaBytesFn>();
  for (const std::string& name : generated.interface.constants)
    state->constants.push_back(module->constant(name)->raw_data());
  state->module = std::move(module);
  state->jit = std::move(jit);
  state->pool = tessel_thread_pool_create(thread_count(options));
  if (!state->pool) return make_error("cannot start the thread pool: {}", tessel_last_error());
  executable->state_ = std::move(state);
  executable->interface_ = std::move(generated.interface);
  executable->compile_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return executable;
}

Expected<std::unique_ptr<Executable>> compile(std::unique_ptr<Module> module, const CompileOptions& options) {
  auto start = std::chrono::steady_clock::now();
  TESSEL_ASSIGN(Target target, parse_target(options.target));
  TESSEL_TRY(run_pipeline(*module, target, options));
  TESSEL_ASSIGN(std::unique_ptr<Executable> executable, compile_lowered(std::move(module), target, options));
  executable->compile_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return executable;
}

Expected<SymbolEnv> bind_symbols(const llvmgen::ModelInterface& interface, const std::vector<Tensor>& inputs) {
  if (inputs.size() != interface.inputs.size())
    return make_error("the model takes {} input(s), got {}", interface.inputs.size(), inputs.size());
  SymbolEnv env;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const llvmgen::TensorSignature& signature = interface.inputs[i];
    const Tensor& tensor = inputs[i];
    if (tensor.dtype() != signature.dtype)
      return make_error("input '{}' must be {}, got {}", signature.name, dtype_name(signature.dtype),
                        dtype_name(tensor.dtype()));
    if (tensor.rank() != static_cast<int64_t>(signature.shape.size()))
      return make_error("input '{}' must have rank {}, got shape {}", signature.name, signature.shape.size(),
                        tensor.type_str());
    for (size_t d = 0; d < signature.shape.size(); ++d) {
      std::optional<std::string> symbol = signature.shape[d].as_symbol();
      if (!symbol) continue;
      auto [it, inserted] = env.emplace(*symbol, tensor.dim(int64_t(d)));
      if (!inserted && it->second != tensor.dim(int64_t(d)))
        return make_error("input '{}' dim {} is {}, but {} = {} from an earlier dim", signature.name, d,
                          tensor.dim(int64_t(d)), *symbol, it->second);
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const llvmgen::TensorSignature& signature = interface.inputs[i];
    for (size_t d = 0; d < signature.shape.size(); ++d) {
      std::optional<int64_t> expected = signature.shape[d].evaluate(env);
      if (!expected)
        return make_error("input '{}' dim {} ({}) cannot be bound from the input shapes", signature.name, d,
                          signature.shape[d].str());
      if (*expected != inputs[i].dim(int64_t(d)))
        return make_error("input '{}' must have dim {} = {} ({}), got {}", signature.name, d, *expected,
                          signature.shape[d].str(), inputs[i].dim(int64_t(d)));
    }
  }
  return env;
}

Expected<std::vector<Tensor>> Executable::run(const std::vector<Tensor>& inputs) const {
  TESSEL_ASSIGN(SymbolEnv env, bind_symbols(interface_, inputs));
  std::vector<int64_t> symbols;
  for (const std::string& name : interface_.symbols) symbols.push_back(env.at(name));
  std::vector<Tensor> outputs;
  std::vector<void*> output_pointers, input_pointers;
  for (const llvmgen::TensorSignature& signature : interface_.outputs) {
    std::vector<int64_t> shape;
    for (const Dim& d : signature.shape) shape.push_back(*d.evaluate(env));
    outputs.emplace_back(signature.dtype, shape);
    output_pointers.push_back(outputs.back().raw_data());
  }
  for (const Tensor& input : inputs) input_pointers.push_back(const_cast<void*>(input.raw_data()));
  int64_t arena_bytes = state_->arena_bytes(symbols.data());
  tessel_arena* arena = tessel_arena_create(static_cast<size_t>(std::max<int64_t>(arena_bytes, 0)));
  if (!arena) return make_error("cannot allocate the model's {}-byte arena", arena_bytes);
  int32_t status = state_->run(input_pointers.data(), output_pointers.data(), state_->constants.data(), symbols.data(),
                               tessel_arena_data(arena), state_->pool);
  tessel_arena_destroy(arena);
  if (status != 0) return make_error("the compiled model failed: out of memory in a kernel's scratch allocation");
  return outputs;
}

Expected<std::string> llvm_ir_text(const Module& module, const Target& target, bool optimized,
                                   const CompileOptions& options) {
  TESSEL_ASSIGN(GeneratedModule generated, generate(module, target, options));
  if (optimized) {
    TESSEL_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, llvmgen::make_target_machine(target));
    llvmgen::optimize_module(*generated.module, *machine, target, options.llvm_opt_level);
  }
  return llvmgen::print_llvm_ir(*generated.module);
}

Expected<std::string> assembly_text(const Module& module, const Target& target, const CompileOptions& options) {
  TESSEL_ASSIGN(GeneratedModule generated, generate(module, target, options));
  TESSEL_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, llvmgen::make_target_machine(target));
  llvmgen::optimize_module(*generated.module, *machine, target, options.llvm_opt_level);
  return llvmgen::emit_assembly(*generated.module, *machine);
}

}  // namespace tessel::jit
