// The reference interpreter: the executable definition of the IR's meaning.
// It runs a verified function on host tensors, op by op, with each op's kernel
// from the op table (ir/ops/). Symbolic dims are bound from the input shapes
// and every result is checked against its declared type. Obviously right
// rather than fast: every backend is tested against it.
#pragma once

#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Tensor.h"

namespace tessel {

struct InterpOptions {
  /// Refuse any single intermediate tensor above this size (guards against runaway shapes).
  int64_t max_tensor_bytes = int64_t{16} << 30;
};

/// Runs `function` on `inputs` (one per function input, in order); returns one tensor per output.
Expected<std::vector<Tensor>> interpret(const Function& function, const std::vector<Tensor>& inputs,
                                        const InterpOptions& options = {});

/// Binds the symbols of `type` from a concrete `shape`, or explains the mismatch.
Status bind_shape(const TensorType& type, const std::vector<int64_t>& shape, SymbolEnv& env);

}  // namespace tessel
