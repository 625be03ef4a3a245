// LLVM target machines for Tessel's CPU targets, the optimization pipeline, and emission of assembly and
// object code. `host` uses the host CPU's name and every feature it has; x86-64, x86-64-v3 and x86-64-v4
// are LLVM's micro-architecture levels, so the code runs on any CPU of that level.
#pragma once

#include <memory>
#include <string>

#include "ir/Error.h"
#include "passes/Target.h"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace tessel::llvmgen {

/// Initializes LLVM's native target (once per process; thread-safe).
void initialize_llvm();

/// The LLVM CPU name and feature string of `target` (an error for GPU targets).
struct CpuDescription {
  std::string triple;
  std::string cpu;
  std::string features;
};
Expected<CpuDescription> describe_cpu(const Target& target);

/// A target machine for `target`, position-independent (objects go into static libraries linked into PIEs).
Expected<std::unique_ptr<llvm::TargetMachine>> make_target_machine(const Target& target);

/// Sets the module's triple and data layout and every function's CPU attributes, then runs LLVM's
/// default pipeline at -O`level` (0..3).
void optimize_module(llvm::Module& module, llvm::TargetMachine& machine, const Target& target, int level = 3);

/// The module's assembly (AT&T syntax) or object code for `machine`.
Expected<std::string> emit_assembly(llvm::Module& module, llvm::TargetMachine& machine);
Expected<std::string> emit_object(llvm::Module& module, llvm::TargetMachine& machine);

/// The module as LLVM IR text.
std::string print_llvm_ir(const llvm::Module& module);

}  // namespace tessel::llvmgen
