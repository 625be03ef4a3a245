// MLIR export: writes a Tessel module as MLIR text in upstream dialects
// (func, linalg, tensor, arith, math), so a model can continue through the
// MLIR ecosystem (mlir-opt pipelines, IREE, ...). The emitter is textual: it
// needs no MLIR library at build time, and `mlir-opt-19` parses and verifies
// what it writes (tests/lit/mlir). Mapping and limits: docs/mlir.md.
#pragma once

#include <string>

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel::mlir {

struct MlirExportOptions {
  /// Accumulate float contractions, reductions, pooling sums and normalizations in f64 and round once,
  /// as the reference interpreter does, so the export computes what the IR means (up to summation
  /// order). false accumulates in the element type (f32 for f16/bf16), the usual choice for fast code.
  bool f64_accumulation = true;
};

/// The module as MLIR text: one func.func per function, Tessel symbols as `?` dims (recovered at run
/// time with tensor.dim), constants as arith.constant dense<...>. Requires a verified module. Fails
/// with "MLIR export does not support op 'lstm' (%3, node 'x'); decompose it first" for ops without a
/// reasonable linalg form (recurrent layers, tree ensembles, scatter), and when a dim uses a symbol
/// that no input shape binds.
Expected<std::string> export_mlir(const Module& module, const MlirExportOptions& options = {});

}  // namespace tessel::mlir
