// Import-time evaluation. Two mechanisms, both applied by NodeContext::create to every op an importer
// emits, so compositions fold as well as single ops:
//  - constant folding: an op whose operands are all constants runs in the reference interpreter (on a
//    one-op function) and becomes a constant, when its results are static and at most
//    ImportOptions::max_fold_elements elements;
//  - shape-vector propagation: small integer tensors whose elements are known *dims* (Shape(x) =
//    [N, 3, 224]) are tracked through the ops exporters build shape arithmetic from (gather, concat,
//    slice, reshape/squeeze/unsqueeze, cast, add/sub/mul/div, neg, reduce_prod/sum), so a Reshape,
//    Expand, Range or ConstantOfShape fed by such a subgraph gets a symbolic shape attribute.
#include <algorithm>

#include "frontends/onnx/ImportContext.h"
#include "ir/interp/Interpreter.h"
#include "ir/ops/OpUtil.h"

namespace tessel::onnx {
namespace {

// ONNX/numpy slicing of a list of length `len`: the selected indices.
std::vector<int64_t> slice_indices(int64_t len, int64_t start, int64_t end, int64_t step) {
  std::vector<int64_t> out;
  if (step == 0) return out;
  auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, v)); };
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (step > 0) {
    start = clamp(start, 0, len);
    end = clamp(end, 0, len);
    for (int64_t k = start; k < end; k += step) out.push_back(k);
  } else {
    start = clamp(start, -1, len - 1);
    end = clamp(end, -1, len - 1);
    for (int64_t k = start; k > end; k += step) out.push_back(k);
  }
  return out;
}

std::optional<Shape> binary_dims(OpKind kind, const Shape& a, const Shape& b) {
  if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return std::nullopt;
  size_t n = std::max(a.size(), b.size());
  Shape out;
  for (size_t k = 0; k < n; ++k) {
    const Dim& x = a[a.size() == 1 ? 0 : k];
    const Dim& y = b[b.size() == 1 ? 0 : k];
    switch (kind) {
      case OpKind::Add: out.push_back(x + y); break;
      case OpKind::Sub: out.push_back(x - y); break;
      case OpKind::Mul: out.push_back(x * y); break;
      case OpKind::Div: {
        // Integer division of dims: exact quotients, or floor division by a positive constant (dims are
        // non-negative, where truncation and floor agree).
        if (auto exact = x.divide_exact(y)) {
          out.push_back(*exact);
          break;
        }
        auto divisor = y.as_const();
        if (!divisor || *divisor <= 0) return std::nullopt;
        out.push_back(x.floordiv(*divisor));
        break;
      }
      default: return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<Tensor>> NodeContext::try_fold(OpKind kind, const std::vector<Value*>& operands,
                                                         const AttrMap& attrs, int num_results) {
  if (kind == OpKind::Const) return std::nullopt;
  std::vector<const Tensor*> values;
  for (Value* operand : operands) {
    if (!operand) {
      values.push_back(nullptr);
      continue;
    }
    const Tensor* tensor = constant_of(operand);
    if (!tensor) return std::nullopt;
    values.push_back(tensor);
  }
  Module scratch;
  Builder b(scratch.add_function("fold"));
  std::vector<Value*> scratch_operands;
  for (const Tensor* tensor : values) scratch_operands.push_back(tensor ? b.constant(*tensor) : nullptr);
  auto results = b.create(kind, scratch_operands, attrs, num_results);
  if (!b.status().ok()) return std::nullopt;  // the real emission reports the shape error in context
  for (Value* result : results) {
    auto shape = static_shape(result->type().shape);
    if (!shape) return std::nullopt;
    int64_t numel = 1;
    for (int64_t d : *shape) numel *= d;
    if (numel > state_.options.max_fold_elements) return std::nullopt;
    b.output(result);
  }
  InterpOptions interp;
  interp.max_tensor_bytes = state_.options.max_fold_elements * 8;
  auto folded = interpret(*scratch.entry(), {}, interp);
  // A kernel error here would recur at run time on the same values; keep the op so it does.
  if (!folded) return std::nullopt;
  return std::move(folded).value();
}

std::optional<Shape> NodeContext::propagate_dims(OpKind kind, const std::vector<Value*>& operands, const AttrMap& attrs,
                                                 const Value* result) const {
  const TensorType& type = result->type();
  if ((type.dtype != DType::I64 && type.dtype != DType::I32) || type.rank() > 1) return std::nullopt;
  AttrReader attr(kind, attrs);
  auto operand_dims = [&](size_t i) { return i < operands.size() ? dims_of(operands[i]) : std::nullopt; };
  switch (kind) {
    case OpKind::ShapeOf: {
      const Shape& shape = operands[0]->type().shape;
      int64_t rank = static_cast<int64_t>(shape.size());
      int64_t start = attr.i("start"), end = attr.i("end");
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      start = std::clamp<int64_t>(start, 0, rank);
      end = std::clamp<int64_t>(end, 0, rank);
      if (end < start) end = start;
      return Shape(shape.begin() + start, shape.begin() + end);
    }
    case OpKind::Gather: {
      auto data = operand_dims(0);
      const Tensor* indices = constant_of(operands[1]);
      if (!data || !indices || operands[0]->type().rank() != 1 || indices->rank() > 1) return std::nullopt;
      Shape out;
      auto len = static_cast<int64_t>(data->size());
      for (int64_t k = 0; k < indices->numel(); ++k) {
        int64_t index = indices->get_int(k);
        if (index < 0) index += len;
        if (index < 0 || index >= len) return std::nullopt;
        out.push_back((*data)[index]);
      }
      return out;
    }
    case OpKind::Concat: {
      Shape out;
      for (size_t i = 0; i < operands.size(); ++i) {
        auto dims = operand_dims(i);
        if (!dims) return std::nullopt;
        out.insert(out.end(), dims->begin(), dims->end());
      }
      return out;
    }
    case OpKind::Slice: {
      auto data = operand_dims(0);
      if (!data || type.rank() != 1 || attr.ints("starts").size() != 1 || attr.ints("ends").size() != 1)
        return std::nullopt;
      int64_t step = attr.ints("steps").empty() ? 1 : attr.ints("steps")[0];
      Shape out;
      for (int64_t k :
           slice_indices(static_cast<int64_t>(data->size()), attr.ints("starts")[0], attr.ints("ends")[0], step))
        out.push_back((*data)[k]);
      return out;
    }
    case OpKind::Reshape:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze: return operand_dims(0);
    case OpKind::Cast: {
      DType from = operands[0]->type().dtype;
      if (from != DType::I64 && from != DType::I32) return std::nullopt;
      return operand_dims(0);
    }
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: {
      auto a = operand_dims(0), b = operand_dims(1);
      if (!a || !b) return std::nullopt;
      return binary_dims(kind, *a, *b);
    }
    case OpKind::Neg: {
      auto a = operand_dims(0);
      if (!a) return std::nullopt;
      for (Dim& d : *a) d = -d;
      return a;
    }
    case OpKind::ReduceProd:
    case OpKind::ReduceSum: {
      auto a = operand_dims(0);
      if (!a) return std::nullopt;  // a rank <= 1 result of a 1-D reduction holds one element
      Dim total = kind == OpKind::ReduceProd ? Dim(1) : Dim(0);
      for (const Dim& d : *a) total = kind == OpKind::ReduceProd ? total * d : total + d;
      return Shape{total};
    }
    default: return std::nullopt;
  }
}

}  // namespace tessel::onnx
