// Target machines, the new pass manager's default pipeline, and code emission through the legacy codegen
// pass manager (which LLVM 19 still uses for the backend).
#include "codegen/llvm/Optimize.h"

#include <mutex>

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

namespace tessel::llvmgen {

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

Expected<CpuDescription> describe_cpu(const Target& target) {
  if (target.arch != TargetArch::X86_64)
    return make_error("target '{}' is not a CPU target; the llvm backend generates x86-64 code", target.name)
        .with_hint("use --target=host, x86-64, x86-64-v3 or x86-64-v4");
  CpuDescription cpu;
  cpu.triple = llvm::sys::getDefaultTargetTriple();
  if (!target.host) {
    cpu.cpu = target.name;
    return cpu;
  }
  cpu.cpu = llvm::sys::getHostCPUName().str();
  std::string list;
  for (const auto& feature : llvm::sys::getHostCPUFeatures()) {
    if (!list.empty()) list += ",";
    list += (feature.second ? "+" : "-") + feature.first().str();
  }
  cpu.features = list;
  return cpu;
}

Expected<std::unique_ptr<llvm::TargetMachine>> make_target_machine(const Target& target) {
  initialize_llvm();
  TESSEL_ASSIGN(CpuDescription cpu, describe_cpu(target));
  std::string error;
  const llvm::Target* llvm_target = llvm::TargetRegistry::lookupTarget(cpu.triple, error);
  if (!llvm_target) return make_error("LLVM has no target for '{}': {}", cpu.triple, error);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvm_target->createTargetMachine(
      cpu.triple, cpu.cpu, cpu.features, options, llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) return make_error("LLVM cannot create a target machine for cpu '{}'", cpu.cpu);
  return machine;
}

void optimize_module(llvm::Module& module, llvm::TargetMachine& machine, const Target& target, int level) {
  module.setTargetTriple(machine.getTargetTriple().str());
  module.setDataLayout(machine.createDataLayout());
  std::string vector_width = std::to_string(target.vector_bits);
  for (llvm::Function& function : module) {
    if (function.isDeclaration()) continue;
    function.addFnAttr("target-cpu", machine.getTargetCPU());
    if (!machine.getTargetFeatureString().empty())
      function.addFnAttr("target-features", machine.getTargetFeatureString());
    function.addFnAttr("prefer-vector-width", vector_width);
    function.addFnAttr(llvm::Attribute::NoUnwind);
  }
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::OptimizationLevel levels[] = {llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
                                      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::ModulePassManager passes = level <= 0 ? builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
                                              : builder.buildPerModuleDefaultPipeline(levels[std::min(level, 3)]);
  passes.run(module, modules);
}

namespace {

Expected<std::string> emit_file(llvm::Module& module, llvm::TargetMachine& machine, llvm::CodeGenFileType type) {
  module.setTargetTriple(machine.getTargetTriple().str());
  module.setDataLayout(machine.createDataLayout());
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, stream, nullptr, type))
    return make_error("LLVM cannot emit {} for this target",
                      type == llvm::CodeGenFileType::AssemblyFile ? "assembly" : "objects");
  passes.run(module);
  return std::string(buffer.str());
}

}  // namespace

Expected<std::string> emit_assembly(llvm::Module& module, llvm::TargetMachine& machine) {
  return emit_file(module, machine, llvm::CodeGenFileType::AssemblyFile);
}

Expected<std::string> emit_object(llvm::Module& module, llvm::TargetMachine& machine) {
  return emit_file(module, machine, llvm::CodeGenFileType::ObjectFile);
}

std::string print_llvm_ir(const llvm::Module& module) {
  std::string text;
  llvm::raw_string_ostream stream(text);
  module.print(stream, nullptr);
  return text;
}

}  // namespace tessel::llvmgen
