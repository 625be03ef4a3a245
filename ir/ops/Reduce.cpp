// PLACEHOLDER: being written; kernels of this family are not implemented yet.
#include "ir/ops/Families.h"

namespace tessel::ops {

Expected<std::vector<TensorType>> infer_reduce(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_reduce(const EvalContext&) { return make_error("kernel not implemented"); }
Expected<std::vector<TensorType>> infer_norm(const ShapeContext&) { return make_error("shape rule not implemented"); }
Expected<std::vector<Tensor>> eval_norm(const EvalContext&) { return make_error("kernel not implemented"); }

}  // namespace tessel::ops
