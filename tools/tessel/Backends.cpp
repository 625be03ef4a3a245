// interp runs the reference interpreter on the module as given; llvm compiles it with the JIT
// (codegen/llvm/Jit.h), which runs the -O3 pass pipeline and LLVM.
#include "tools/tessel/Backends.h"

#include "codegen/llvm/Jit.h"
#include "ir/interp/Interpreter.h"

namespace tessel::cli {

std::string backend_names() { return "interp, llvm"; }

Status check_backend_name(const std::string& name) {
  if (name == "interp" || name == "llvm") return Status::success();
  return Error{"unknown backend '" + name + "'", {}, "available backends: " + backend_names()};
}

Expected<RunModule> prepare_backend(std::unique_ptr<Module> module, const BackendOptions& options,
                                    double* compile_seconds) {
  if (compile_seconds) *compile_seconds = 0;
  if (options.backend == "interp") {
    std::shared_ptr<Module> shared(std::move(module));
    if (!shared->entry()) return make_error("the module defines no function to run");
    return RunModule([shared](const std::vector<Tensor>& inputs) { return interpret(*shared->entry(), inputs); });
  }
  if (options.backend == "llvm") {
    jit::CompileOptions compile;
    compile.target = options.target;
    compile.num_threads = options.threads;
    compile.fast_math = options.fast_math;
    compile.profile = options.profile;
    TESSEL_ASSIGN(std::unique_ptr<jit::Executable> executable, jit::compile(std::move(module), compile));
    if (compile_seconds) *compile_seconds = executable->compile_seconds();
    std::shared_ptr<jit::Executable> shared(std::move(executable));
    return RunModule([shared](const std::vector<Tensor>& inputs) { return shared->run(inputs); });
  }
  return check_backend_name(options.backend).error();
}

}  // namespace tessel::cli
