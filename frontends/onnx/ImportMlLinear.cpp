// Importers for the linear and preprocessing ops of ai.onnx.ml, all compositions of core IR ops:
// LinearClassifier and LinearRegressor (a matmul against the coefficients, the intercepts, a post
// transform, argmax for labels), Normalizer, Scaler, OneHotEncoder (equality against the categories),
// Imputer (a where), and ZipMap, whose sequence-of-maps output Tessel does not represent: it passes the
// probability tensor through (docs/onnx.md). Also the helpers that ImportMlUtil.h declares.
//
// These ops compute in f32 (f64 for an f64 input), as onnxruntime does, and give f32 as ONNX says.
#include <cmath>
#include <limits>

#include "frontends/onnx/ImportMlUtil.h"
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {

// ---- Shared helpers -----------------------------------------------------------------------------------

Value* ml_post_transform(NodeContext& ctx, Value* scores, const std::string& transform) {
  if (!scores || transform == "NONE") return scores;
  if (transform == "LOGISTIC") return ctx.op(OpKind::Sigmoid, {scores});
  if (transform == "SOFTMAX") return ctx.op(OpKind::Softmax, {scores}, {{"axis", int64_t{1}}});
  if (transform == "PROBIT")
    return ctx.fail_unsupported(
        make_error("{}: post_transform PROBIT is not supported here (only tree ensembles "
                   "compute it)",
                   ctx.op_type()));
  if (transform != "SOFTMAX_ZERO")
    return ctx.fail(
        make_error("{}: unknown post_transform '{}' (expected NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO or "
                   "PROBIT)",
                   ctx.op_type(), transform));
  // SOFTMAX_ZERO: the softmax over the non-zero entries; zeros stay 0, and so does a row of zeros.
  DType dtype = scores->type().dtype;
  Value* nonzero = ctx.op(OpKind::Not, {ctx.op(OpKind::Equal, {scores, ctx.scalar(0, dtype)})});
  Value* zero = ctx.scalar(0, dtype);
  Value* masked = ctx.op(OpKind::Where, {nonzero, scores, ctx.scalar(-std::numeric_limits<double>::infinity(), dtype)});
  Value* max = ctx.op(OpKind::ReduceMax, {masked}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  Value* exps = ctx.op(OpKind::Where, {nonzero, ctx.op(OpKind::Exp, {ctx.op(OpKind::Sub, {scores, max})}), zero});
  Value* sum = ctx.op(OpKind::ReduceSum, {exps}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  Value* safe = ctx.op(OpKind::Where, {ctx.op(OpKind::Equal, {sum, zero}), ctx.scalar(1, dtype), sum});
  return ctx.op(OpKind::Div, {exps, safe});
}

std::optional<ClassLabels> read_class_labels(NodeContext& ctx, const char* ints_attr) {
  ClassLabels labels{ctx.attr_ints(ints_attr), ctx.attr_strings("classlabels_strings")};
  if (!labels.ints.empty() && !labels.strings.empty()) {
    ctx.fail(make_error("{} gives both {} and classlabels_strings; give one", ctx.op_type(), ints_attr));
    return std::nullopt;
  }
  return labels;
}

Value* label_of_index(NodeContext& ctx, Value* index, const ClassLabels& labels) {
  if (labels.empty()) return index;
  int64_t n = labels.size();
  if (labels.strings.empty())
    return ctx.op(OpKind::Gather, {ctx.constant(Tensor::of<int64_t>({n}, labels.ints), "labels"), index});
  // String labels: class k -> strings[k] through label_encode (gather moves no strings).
  std::vector<int64_t> classes(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) classes[static_cast<size_t>(k)] = k;
  return ctx.op(OpKind::LabelEncode, {index, ctx.constant(Tensor::of<int64_t>({n}, classes), "classes"),
                                      ctx.constant(Tensor::of<std::string>({n}, labels.strings), "labels"),
                                      ctx.constant(Tensor::of<std::string>({}, {""}), "no_label")});
}

Value* label_of_argmax(NodeContext& ctx, Value* scores, const ClassLabels& labels) {
  Value* best = ctx.op(OpKind::ArgMax, {scores}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}});
  return label_of_index(ctx, best, labels);
}

std::optional<int64_t> feature_count(NodeContext& ctx, Value* x, std::string_view what) {
  const TensorType& type = x->type();
  std::optional<int64_t> features = type.rank() == 2 ? type.shape[1].as_const() : std::nullopt;
  if (!features) {
    ctx.fail(make_error("{} needs {} as [N, F] with a known F, got {}", ctx.op_type(), what, type.str()));
    return std::nullopt;
  }
  return features;
}

namespace {

// f64 inputs compute in f64; everything else (f32, integers) in f32.
DType compute_dtype(const Value* x) { return x->type().dtype == DType::F64 ? DType::F64 : DType::F32; }

/// x [N, F] times the row-major matrix `rows` x F given by `coefficients`, plus `intercepts` (empty, or
/// one per row): [N, rows] in x's compute dtype.
Value* affine(NodeContext& ctx, Value* x, const std::vector<double>& coefficients,
              const std::vector<double>& intercepts, int64_t features) {
  if (coefficients.empty() || coefficients.size() % static_cast<size_t>(features) != 0)
    return ctx.fail(make_error("{}: coefficients has {} values, not a multiple of the {} features", ctx.op_type(),
                               coefficients.size(), features));
  int64_t rows = static_cast<int64_t>(coefficients.size()) / features;
  if (!intercepts.empty() && static_cast<int64_t>(intercepts.size()) != rows)
    return ctx.fail(make_error("{}: intercepts has {} values; it needs one per coefficient row ({})", ctx.op_type(),
                               intercepts.size(), rows));
  DType dtype = compute_dtype(x);
  std::vector<double> transposed(coefficients.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < features; ++f) transposed[f * rows + r] = coefficients[r * features + f];
  Value* product = ctx.op(
      OpKind::MatMul,
      {ctx.cast(x, dtype), ctx.constant(Tensor::from_doubles(dtype, {features, rows}, transposed), "coefficients")});
  if (intercepts.empty()) return product;
  return ctx.op(OpKind::Add, {product, ctx.constant(Tensor::from_doubles(dtype, {rows}, intercepts), "intercepts")});
}

}  // namespace

// ---- Linear models ------------------------------------------------------------------------------------

// LinearClassifier: scores = x W^T + b, one coefficient row for two classes meaning [-s, s]; labels by
// argmax, or by a threshold (0, or 0.5 after a transform) when there is one score column.
void import_linear_classifier(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto labels = read_class_labels(ctx, "classlabels_ints");
  auto features = feature_count(ctx, x, "X");
  if (!labels || !features) return;
  Value* scores = affine(ctx, x, ctx.attr_floats("coefficients"), ctx.attr_floats("intercepts"), *features);
  if (!scores) return;
  int64_t columns = *scores->type().shape[1].as_const();
  if (columns == 1 && labels->size() == 2) {
    scores = ctx.op(OpKind::Concat, {ctx.op(OpKind::Neg, {scores}), scores}, {{"axis", int64_t{1}}});
    columns = 2;
  }
  std::string transform = ctx.attr_s("post_transform", "NONE");
  scores = ctx.cast(ml_post_transform(ctx, scores, transform), DType::F32);
  if (!scores) return;
  if (columns > 1) {
    if (!labels->empty() && labels->size() != columns)
      return (void)ctx.fail(
          make_error("LinearClassifier has {} class labels for {} score columns", labels->size(), columns));
    ctx.set_output(0, label_of_argmax(ctx, scores, *labels));
    return ctx.set_output(1, scores);
  }
  // One column (one class label, or none): the ONNX reference's threshold rule.
  if (!labels->strings.empty())
    return (void)ctx.fail_unsupported(make_error("LinearClassifier with one score column and string labels"));
  Value* above = ctx.op(OpKind::GreaterEqual, {scores, ctx.scalar(transform == "NONE" ? 0.0 : 0.5, DType::F32)});
  Value* positive = ctx.scalar(labels->empty() ? 1.0 : static_cast<double>(labels->ints[0]), DType::I64);
  Value* label = ctx.op(OpKind::Where, {above, positive, ctx.scalar(0, DType::I64)});
  ctx.set_output(0, ctx.op(OpKind::Reshape, {label}, {{"shape", Shape{x->type().shape[0]}}}));
  ctx.set_output(1, scores);
}

// LinearRegressor: y = x W^T + b, `targets` columns, then the post transform.
void import_linear_regressor(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto features = feature_count(ctx, x, "X");
  if (!features) return;
  int64_t targets = ctx.attr_i("targets", 1);
  auto coefficients = ctx.attr_floats("coefficients");
  if (targets < 1 || static_cast<int64_t>(coefficients.size()) != targets * *features)
    return (void)ctx.fail(
        make_error("LinearRegressor: coefficients has {} values; targets ({}) x features ({}) "
                   "needed",
                   coefficients.size(), targets, *features));
  Value* y = affine(ctx, x, coefficients, ctx.attr_floats("intercepts"), *features);
  ctx.set_output(0, ctx.cast(ml_post_transform(ctx, y, ctx.attr_s("post_transform", "NONE")), DType::F32));
}

// ---- Preprocessing ------------------------------------------------------------------------------------

// Normalizer: each row divided by its norm (MAX: the largest |x|, L1, L2), floored at 1e-30 so that a
// zero row stays zero (the ONNX reference; scikit-learn's Normalizer agrees).
void import_normalizer(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  if (x->type().rank() != 1 && x->type().rank() != 2)
    return (void)ctx.fail(make_error("Normalizer needs X as [C] or [N, C], got {}", x->type().str()));
  std::string norm = ctx.attr_s("norm", "MAX");
  DType dtype = compute_dtype(x);
  x = ctx.cast(x, dtype);
  AttrMap last_axis = {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}};
  Value* size = nullptr;
  if (norm == "MAX") {
    size = ctx.op(OpKind::ReduceMax, {ctx.op(OpKind::Abs, {x})}, last_axis);
  } else if (norm == "L1") {
    size = ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Abs, {x})}, last_axis);
  } else if (norm == "L2") {
    size = ctx.op(OpKind::Sqrt, {ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Mul, {x, x})}, last_axis)});
  } else {
    return (void)ctx.fail(make_error("Normalizer: norm is '{}'; expected MAX, L1 or L2", norm));
  }
  Value* floored = ctx.op(OpKind::Max, {size, ctx.scalar(1e-30, dtype)});
  ctx.set_output(0, ctx.cast(ctx.op(OpKind::Div, {x, floored}), DType::F32));
}

// Scaler: (x - offset) * scale, each of length 1 or the last dim.
void import_scaler(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto offset = ctx.attr_floats("offset");
  auto scale = ctx.attr_floats("scale");
  if (offset.empty() || scale.empty())
    return (void)ctx.fail(
        make_error("Scaler needs both offset and scale (got {} and {} values)", offset.size(), scale.size()));
  DType dtype = compute_dtype(x);
  auto per_feature = [&](const std::vector<double>& v, const char* name) {
    return ctx.constant(Tensor::from_doubles(dtype, {static_cast<int64_t>(v.size())}, v), name);
  };
  Value* shifted = ctx.op(OpKind::Sub, {ctx.cast(x, dtype), per_feature(offset, "offset")});
  ctx.set_output(0, ctx.cast(ctx.op(OpKind::Mul, {shifted, per_feature(scale, "scale")}), DType::F32));
}

// OneHotEncoder: y[..., c] = 1 where x equals category c (integers compared exactly as i64, floats as
// f64, strings by bytes). zeros=0 asks for an error on an unknown category at run time, which no IR op
// raises: refused.
void import_one_hot_encoder(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  if (ctx.attr_i("zeros", 1) == 0)
    return (void)ctx.fail_unsupported(
        make_error("OneHotEncoder with zeros=0 (fail on an unknown category) is not supported; export with zeros=1"));
  auto ints = ctx.attr_ints("cats_int64s");
  auto strings = ctx.attr_strings("cats_strings");
  DType dtype = x->type().dtype;
  Value* categories = nullptr;
  if (dtype == DType::String) {
    if (strings.empty()) return (void)ctx.fail(make_error("OneHotEncoder on strings needs cats_strings"));
    categories = ctx.constant(Tensor::of<std::string>({static_cast<int64_t>(strings.size())}, strings), "categories");
  } else {
    if (ints.empty()) return (void)ctx.fail(make_error("OneHotEncoder on {} needs cats_int64s", x->type().str()));
    DType compare = is_float(dtype) ? DType::F64 : DType::I64;
    x = ctx.cast(x, compare);
    std::vector<double> values(ints.begin(), ints.end());
    auto count = static_cast<int64_t>(ints.size());
    categories = is_float(dtype) ? ctx.constant(Tensor::from_doubles(DType::F64, {count}, values), "categories")
                                 : ctx.constant(Tensor::of<int64_t>({count}, ints), "categories");
  }
  Value* column = ctx.op(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{-1}}});
  ctx.set_output(0, ctx.cast(ctx.op(OpKind::Equal, {column, categories}), DType::F32));
}

// Imputer: the elements equal to the replaced value (NaN compares as NaN) become the imputed value of
// their column (one value for all columns, or one per column).
void import_imputer(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  DType dtype = x->type().dtype;
  bool floats = is_float(dtype);
  std::vector<double> values = ctx.attr_floats("imputed_value_floats");
  if (!floats) {
    auto ints = ctx.attr_ints("imputed_value_int64s");
    values.assign(ints.begin(), ints.end());
  }
  if (values.empty())
    return (void)ctx.fail(make_error("Imputer on {} needs {}", x->type().str(),
                                     floats ? "imputed_value_floats" : "imputed_value_int64s"));
  auto columns = x->type().rank() == 2 ? x->type().shape[1].as_const() : std::nullopt;
  if (x->type().rank() != 2 || (values.size() != 1 && columns && static_cast<int64_t>(values.size()) != *columns))
    return (void)ctx.fail(make_error("Imputer needs X as [N, F] and 1 or F imputed values, got {} and {} values",
                                     x->type().str(), values.size()));
  double replaced =
      floats ? ctx.attr_f("replaced_value_float", 0.0) : static_cast<double>(ctx.attr_i("replaced_value_int64", 0));
  Value* mask = floats && std::isnan(replaced) ? ctx.op(OpKind::IsNan, {x})
                                               : ctx.op(OpKind::Equal, {x, ctx.scalar(replaced, dtype)});
  Value* imputed = ctx.constant(Tensor::from_doubles(dtype, {static_cast<int64_t>(values.size())}, values), "imputed");
  ctx.set_output(0, ctx.op(OpKind::Where, {mask, imputed, x}));
}

// ZipMap: the probabilities, unchanged (Tessel has no sequence-of-maps values; see docs/onnx.md).
void import_zip_map(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  if (x->type().rank() != 2)
    return (void)ctx.fail(make_error("ZipMap needs the probabilities as [N, C], got {}", x->type().str()));
  ctx.set_output(0, x);
}

}  // namespace tessel::onnx
