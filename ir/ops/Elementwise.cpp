// PLACEHOLDER: being written; kernels of this family are not implemented yet.
#include "ir/ops/Families.h"

namespace tessel::ops {

Expected<std::vector<TensorType>> infer_unary(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_unary(const EvalContext&) { return make_error("kernel not implemented"); }
Expected<std::vector<TensorType>> infer_binary(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_binary(const EvalContext&) { return make_error("kernel not implemented"); }
Expected<std::vector<TensorType>> infer_select(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_select(const EvalContext&) { return make_error("kernel not implemented"); }
Expected<std::vector<TensorType>> infer_cast(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_cast(const EvalContext&) { return make_error("kernel not implemented"); }

}  // namespace tessel::ops
