// Private to the shape family: the per-op shape rules and kernels that
// Shape.cpp dispatches to, and the data-movement helpers they share. Every
// shape op only moves elements, so kernels copy raw elements by byte size and
// work for every dtype alike.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/OpTable.h"

namespace tessel::ops::shape {

using Types = Expected<std::vector<TensorType>>;
using Tensors = Expected<std::vector<Tensor>>;

// ---- Per-op shape rules (infer_*) and kernels (eval_*) -------------------------------------------
// ShapeLayout.cpp: ops that rearrange or repeat whole elements.
Types infer_reshape(const ShapeContext& ctx);
Tensors eval_reshape(const EvalContext& ctx);
Types infer_transpose(const ShapeContext& ctx);
Tensors eval_transpose(const EvalContext& ctx);
Types infer_squeeze(const ShapeContext& ctx);
Tensors eval_squeeze(const EvalContext& ctx);
Types infer_unsqueeze(const ShapeContext& ctx);
Tensors eval_unsqueeze(const EvalContext& ctx);
Types infer_expand(const ShapeContext& ctx);
Tensors eval_expand(const EvalContext& ctx);
Types infer_tile(const ShapeContext& ctx);
Tensors eval_tile(const EvalContext& ctx);
Types infer_concat(const ShapeContext& ctx);
Tensors eval_concat(const EvalContext& ctx);
Types infer_split(const ShapeContext& ctx);
Tensors eval_split(const EvalContext& ctx);

// ShapeSlicePad.cpp: windows of an input, cropped or padded.
Types infer_slice(const ShapeContext& ctx);
Tensors eval_slice(const EvalContext& ctx);
Types infer_pad(const ShapeContext& ctx);
Tensors eval_pad(const EvalContext& ctx);

// ShapeIndexing.cpp: ops driven by an index tensor.
Types infer_gather(const ShapeContext& ctx);
Tensors eval_gather(const EvalContext& ctx);
Types infer_gather_elements(const ShapeContext& ctx);
Tensors eval_gather_elements(const EvalContext& ctx);
Types infer_scatter_elements(const ShapeContext& ctx);
Tensors eval_scatter_elements(const EvalContext& ctx);

// Shape.cpp: ops whose values come from shapes or scalars.
Types infer_range(const ShapeContext& ctx);
Tensors eval_range(const EvalContext& ctx);
Types infer_shape_of(const ShapeContext& ctx);
Tensors eval_shape_of(const EvalContext& ctx);

// ---- Shared helpers (Shape.cpp) ------------------------------------------------------------------

/// Where the elements of an iteration space live in a buffer: a base element offset plus one stride (in
/// elements, possibly 0 or negative) per axis of the iteration space.
struct StridedView {
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

/// Copies every element of the index space `shape` from `src` (read through `from`) into `dst` (written
/// through `to`), bitwise; both tensors have the same dtype.
void strided_copy(const Tensor& src, const StridedView& from, Tensor& dst, const StridedView& to,
                  const std::vector<int64_t>& shape);

/// The concrete shape of result `index`: from the evaluated result type, or an error naming `op` when
/// the result type has symbols the interpreter has not bound.
Expected<std::vector<int64_t>> known_result_shape(const EvalContext& ctx, size_t index, std::string_view op);

/// Runs shape rule `rule` on the concrete shapes of the kernel's inputs: kernels whose result shapes follow
/// from the operands and integer attributes reuse their shape rule (and its checks) this way.
Expected<std::vector<std::vector<int64_t>>> concrete_shapes(const EvalContext& ctx, Types (*rule)(const ShapeContext&));
/// Shape of the first result via concrete_shapes.
Expected<std::vector<int64_t>> concrete_shape(const EvalContext& ctx, Types (*rule)(const ShapeContext&));

/// Reads index tensor element `flat` (i32 or i64) as int64.
int64_t read_index(const Tensor& indices, int64_t flat);
/// Error unless `type` is i32 or i64 (what gather-like ops accept as indices).
Status check_index_type(const TensorType& type, std::string_view op);

/// "[1, 2, 3]" for messages.
std::string list_str(const std::vector<int64_t>& values);

}  // namespace tessel::ops::shape
