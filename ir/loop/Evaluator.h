// The loop evaluator: runs a loop::Kernel on host tensors, statement by statement, with the loop IR's
// semantics (LoopIR.h). It is the testing oracle for lowering -- every lowered kernel must compute what
// the tensor interpreter computes -- until compiled backends exist. Loops of every kind run serially in
// order; out-of-bounds loads and stores, unbound symbols and shape mismatches are errors, not crashes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/Dim.h"
#include "ir/Error.h"
#include "ir/Tensor.h"
#include "ir/loop/LoopIR.h"

namespace tessel::loop {

/// Runs `kernel` with every buffer parameter bound by name in `buffers` (outputs already allocated) and
/// the symbolic-dim parameters in `params`.
Status evaluate(const Kernel& kernel, const std::map<std::string, Tensor>& buffers, const SymbolEnv& params);

/// Binds the Input buffers to `inputs` (in order), Constant buffers to `constants` (by constant name),
/// binds symbols from the input shapes, allocates the outputs, runs the kernel; returns the outputs in order.
Expected<std::vector<Tensor>> run_kernel(const Kernel& kernel, const std::vector<Tensor>& inputs,
                                         const std::map<std::string, Tensor>& constants = {});

/// The value of an expression whose leaves are all immediates (the simplifier's constant folding, with
/// exactly the evaluator's semantics); nullopt if it has a variable or a load, or is not scalar.
std::optional<Expr> fold_constant(const Expr& expr);

}  // namespace tessel::loop
