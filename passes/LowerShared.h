// Shared-memory staging of GPU kernel inputs (the schedule's `shared=[...]`). In every innermost gpu_block
// loop of a lowered kernel, each staged input's footprint -- the box of elements the block reads, found
// from the loads' affine indices with the enclosing loop variables fixed -- is copied into a `shared`
// allocation by a cooperative nest over the block's thread loops, and the block's loads read the copy at
// indices rebased to the box's origin. The copy nest and the compute nest are consecutive thread-loop
// nests of one block body, which means a barrier between them (docs/loop-ir.md, "Shared-memory staging").
// Requires: a lowered, simplified kernel body. Guarantees: the kernel computes what it did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/loop/LoopIR.h"
#include "passes/Target.h"

namespace tessel {

/// `kernel`'s body with the buffers named in `shared` (inputs or constants) staged in shared memory per
/// GPU block. Errors name the kernel and the buffer: not an input, not read inside a gpu_block loop, an
/// index that is not affine in the loop variables, a symbolic footprint, or footprints larger than
/// target.shared_bytes_per_block.
Expected<loop::Stmt> stage_shared(const loop::Kernel& kernel, const std::vector<std::string>& shared,
                                  const Target& target);

/// An input that could be staged: its footprint per block and the loads of it that one block runs.
struct StagingCandidate {
  std::string buffer;
  int64_t elements = 0;  ///< the largest footprint over the kernel's gpu_block nests
  int64_t bytes = 0;
  int64_t loads = 0;  ///< loads per block in the nest of that footprint
};

/// The input and constant buffers read in `kernel`'s gpu_block nests whose footprints are affine and
/// constant, in buffer order.
std::vector<StagingCandidate> staging_candidates(const loop::Kernel& kernel);

}  // namespace tessel
