// Lowering of a kernel body (a tensor-IR function of fused ops) under a schedule to a loop::Kernel.
// Elementwise and injective ops are inlined as expressions; each anchor (matmul, gemm, conv, pool,
// reduction) becomes a loop nest with an accumulator, and an output's elementwise epilogue is applied
// at its store. Anchors whose result is needed elsewhere are materialized in heap buffers. The
// schedule applies to the nest of the first output (the kernel's iteration domain); materialized nests
// on CPUs get the scheduler's CPU rules for their own domain, the others are serial. Symbolic dims
// become kernel parameters. Ops without a lowering give an error naming them.
#pragma once

#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Schedule.h"
#include "ir/loop/LoopIR.h"
#include "passes/Target.h"

namespace tessel {

/// The iteration domain of `body`: the axes of the nest that computes its first output.
Expected<std::vector<DomainAxis>> iteration_domain(const Function& body);

/// Lowers `body` (whose module holds its constants) under `schedule`, validated against the domain.
Expected<loop::Kernel> lower_kernel(const Function& body, const Schedule& schedule, const Target& target);

}  // namespace tessel
