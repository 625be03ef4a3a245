// Importers for ai.onnx.ml SVMClassifier and SVMRegressor, as compositions: the kernel between the rows
// and the support vectors is a matmul against the support vectors with the kernel applied elementwise
// (rbf through |x|^2 - 2 x.sv + |sv|^2), the one-vs-one decision values are a second matmul against a
// [vectors, pairs] matrix built here from the coefficients, votes a third (against +1/-1 per pair), and
// the class probabilities come from Platt scaling per pair and the pairwise_coupling op.
//
// Numbers: libsvm, and so scikit-learn, computes in double; so do these compositions (the input is cast
// to f64, the attributes are read as f64), rounding to f32 only at the outputs. onnxruntime computes in
// float, which costs it up to ~1e-5 on the probabilities. Labels follow the ONNX reference: the class
// with the most votes (the first one on a tie), as libsvm's predict.
#include <algorithm>
#include <limits>

#include "frontends/onnx/ImportMlUtil.h"
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

enum class Kernel { Linear, Poly, Rbf, Sigmoid };

struct KernelParams {
  Kernel kind = Kernel::Linear;
  double gamma = 0.0, coef0 = 0.0, degree = 0.0;
};

std::optional<KernelParams> read_kernel(NodeContext& ctx) {
  KernelParams params;
  std::string name = ctx.attr_s("kernel_type", "LINEAR");
  if (name == "LINEAR") {
    params.kind = Kernel::Linear;
  } else if (name == "POLY") {
    params.kind = Kernel::Poly;
  } else if (name == "RBF") {
    params.kind = Kernel::Rbf;
  } else if (name == "SIGMOID") {
    params.kind = Kernel::Sigmoid;
  } else {
    ctx.fail(make_error("{}: kernel_type is '{}'; expected LINEAR, POLY, RBF or SIGMOID", ctx.op_type(), name));
    return std::nullopt;
  }
  auto values = ctx.attr_floats("kernel_params");
  if (values.empty()) return params;
  if (values.size() != 3) {
    ctx.fail(make_error("{}: kernel_params needs [gamma, coef0, degree], got {} values", ctx.op_type(), values.size()));
    return std::nullopt;
  }
  params.gamma = values[0];
  params.coef0 = values[1];
  params.degree = static_cast<double>(static_cast<int64_t>(values[2]));  // an integer, as in the ONNX reference
  return params;
}

Value* f64_constant(NodeContext& ctx, std::vector<int64_t> shape, const std::vector<double>& values,
                    const std::string& name) {
  return ctx.constant(Tensor::from_doubles(DType::F64, std::move(shape), values), name);
}

/// kernel(x, sv) for every row of x [N, F] (f64) and every support vector (row-major [V, F]): [N, V].
Value* kernel_matrix(NodeContext& ctx, Value* x, const std::vector<double>& vectors, int64_t count, int64_t features,
                     const KernelParams& params) {
  std::vector<double> transposed(vectors.size());
  for (int64_t v = 0; v < count; ++v)
    for (int64_t f = 0; f < features; ++f) transposed[f * count + v] = vectors[v * features + f];
  Value* dot = ctx.op(OpKind::MatMul, {x, f64_constant(ctx, {features, count}, transposed, "support_vectors")});
  auto affine = [&] {
    return ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {dot, ctx.scalar(params.gamma, DType::F64)}),
                                ctx.scalar(params.coef0, DType::F64)});
  };
  switch (params.kind) {
    case Kernel::Linear: return dot;
    case Kernel::Poly: return ctx.op(OpKind::Pow, {affine(), ctx.scalar(params.degree, DType::F64)});
    case Kernel::Sigmoid: return ctx.op(OpKind::Tanh, {affine()});
    case Kernel::Rbf: break;
  }
  // |x - sv|^2 = |x|^2 - 2 x.sv + |sv|^2, exact enough in f64; floored at 0 against rounding.
  std::vector<double> norms(static_cast<size_t>(count), 0.0);
  for (int64_t v = 0; v < count; ++v)
    for (int64_t f = 0; f < features; ++f) norms[v] += vectors[v * features + f] * vectors[v * features + f];
  Value* x_norms = ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Mul, {x, x})},
                          {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  Value* cross = ctx.op(OpKind::Mul, {dot, ctx.scalar(-2.0, DType::F64)});
  Value* distance =
      ctx.op(OpKind::Add, {ctx.op(OpKind::Add, {x_norms, cross}), f64_constant(ctx, {count}, norms, "norms")});
  distance = ctx.op(OpKind::Max, {distance, ctx.scalar(0.0, DType::F64)});
  return ctx.op(OpKind::Exp, {ctx.op(OpKind::Mul, {distance, ctx.scalar(-params.gamma, DType::F64)})});
}

/// Support vectors as a row-major [count, F] list, checked against the input's F.
bool check_vectors(NodeContext& ctx, const std::vector<double>& vectors, int64_t count, int64_t features) {
  if (static_cast<int64_t>(vectors.size()) == count * features) return true;
  ctx.fail(make_error("{}: support_vectors has {} values; {} vectors of the input's {} features need {}", ctx.op_type(),
                      vectors.size(), count, features, count * features));
  return false;
}

// The pieces of a one-vs-one classifier, in libsvm's layout: classes k, vectors grouped by class, and
// for the pair (i, j), i < j, the coefficients of class i's vectors in row j - 1 and of class j's in row i.
struct OneVsOne {
  int64_t classes = 0, vectors = 0, pairs = 0;
  std::vector<int64_t> first;  ///< index of each class's first vector
  std::vector<int64_t> counts;
};

/// [vectors, pairs]: decision value of pair p = kernels . column p (+ rho[p]).
std::vector<double> pair_matrix(const OneVsOne& ovo, const std::vector<double>& coefficients) {
  std::vector<double> m(static_cast<size_t>(ovo.vectors * ovo.pairs), 0.0);
  int64_t p = 0;
  for (int64_t i = 0; i < ovo.classes; ++i)
    for (int64_t j = i + 1; j < ovo.classes; ++j, ++p) {
      for (int64_t v = ovo.first[i]; v < ovo.first[i] + ovo.counts[i]; ++v)
        m[v * ovo.pairs + p] = coefficients[(j - 1) * ovo.vectors + v];
      for (int64_t v = ovo.first[j]; v < ovo.first[j] + ovo.counts[j]; ++v)
        m[v * ovo.pairs + p] = coefficients[i * ovo.vectors + v];
    }
  return m;
}

/// Votes [N, classes] from decision values [N, pairs]: pair (i, j) votes i when its value is > 0, else j.
Value* votes(NodeContext& ctx, Value* decisions, const OneVsOne& ovo) {
  // votes = wins . (e_i - e_j) + (number of pairs whose j is the class): exact small integers in f64.
  std::vector<double> sign(static_cast<size_t>(ovo.pairs * ovo.classes), 0.0), base(static_cast<size_t>(ovo.classes));
  int64_t p = 0;
  for (int64_t i = 0; i < ovo.classes; ++i)
    for (int64_t j = i + 1; j < ovo.classes; ++j, ++p) {
      sign[p * ovo.classes + i] = 1.0;
      sign[p * ovo.classes + j] = -1.0;
      base[j] += 1.0;
    }
  Value* wins = ctx.cast(ctx.op(OpKind::Greater, {decisions, ctx.scalar(0.0, DType::F64)}), DType::F64);
  Value* tally = ctx.op(OpKind::MatMul, {wins, f64_constant(ctx, {ovo.pairs, ovo.classes}, sign, "vote_signs")});
  return ctx.op(OpKind::Add, {tally, f64_constant(ctx, {ovo.classes}, base, "vote_base")});
}

/// Class probabilities [N, classes]: Platt scaling per pair, clipped to [1e-7, 1 - 1e-7], then coupled.
Value* probabilities(NodeContext& ctx, Value* decisions, const OneVsOne& ovo, const std::vector<double>& a,
                     const std::vector<double>& b) {
  Value* z = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {decisions, f64_constant(ctx, {ovo.pairs}, a, "prob_a")}),
                                  f64_constant(ctx, {ovo.pairs}, b, "prob_b")});
  Value* pairwise = ctx.op(OpKind::Sigmoid, {ctx.op(OpKind::Neg, {z})});  // 1 / (1 + exp(z)), libsvm's sigmoid_predict
  pairwise = ctx.op(OpKind::Clip, {pairwise}, {{"min", 1e-7}, {"max", 1.0 - 1e-7}});
  return ctx.op(OpKind::PairwiseCoupling, {pairwise}, {{"classes", ovo.classes}});
}

// SVMClassifier with support vectors: libsvm's one-vs-one machine.
void import_svc(NodeContext& ctx, Value* x, int64_t features, const ClassLabels& labels, const KernelParams& kernel,
                const std::vector<int64_t>& per_class) {
  OneVsOne ovo;
  ovo.classes = std::max<int64_t>(labels.size(), 1);
  if (static_cast<int64_t>(per_class.size()) != ovo.classes)
    return (void)ctx.fail(
        make_error("SVMClassifier: vectors_per_class has {} entries for {} classes", per_class.size(), ovo.classes));
  for (int64_t count : per_class) {
    if (count < 0) return (void)ctx.fail(make_error("SVMClassifier: vectors_per_class has a negative count"));
    ovo.first.push_back(ovo.vectors);
    ovo.counts.push_back(count);
    ovo.vectors += count;
  }
  ovo.pairs = ovo.classes * (ovo.classes - 1) / 2;
  auto vectors = ctx.attr_floats("support_vectors");
  auto coefficients = ctx.attr_floats("coefficients");
  auto rho = ctx.attr_floats("rho");
  auto a = ctx.attr_floats("prob_a");
  auto b = ctx.attr_floats("prob_b");
  if (!check_vectors(ctx, vectors, ovo.vectors, features)) return;
  if (ovo.pairs == 0) return (void)ctx.fail(make_error("SVMClassifier with support vectors needs at least 2 classes"));
  if (static_cast<int64_t>(coefficients.size()) != (ovo.classes - 1) * ovo.vectors)
    return (void)ctx.fail(make_error("SVMClassifier: coefficients has {} values; (classes - 1) x vectors = {} needed",
                                     coefficients.size(), (ovo.classes - 1) * ovo.vectors));
  if (static_cast<int64_t>(rho.size()) != ovo.pairs)
    return (void)ctx.fail(
        make_error("SVMClassifier: rho has {} values; one per class pair ({}) needed", rho.size(), ovo.pairs));
  bool has_proba = !a.empty();
  if (has_proba && (static_cast<int64_t>(a.size()) != ovo.pairs || b.size() != a.size()))
    return (void)ctx.fail(
        make_error("SVMClassifier: prob_a and prob_b need one value per class pair ({}), got {} and {}", ovo.pairs,
                   a.size(), b.size()));

  Value* kernels = kernel_matrix(ctx, ctx.cast(x, DType::F64), vectors, ovo.vectors, features, kernel);
  Value* decisions =
      ctx.op(OpKind::Add, {ctx.op(OpKind::MatMul, {kernels, f64_constant(ctx, {ovo.vectors, ovo.pairs},
                                                                         pair_matrix(ovo, coefficients), "pairs")}),
                           f64_constant(ctx, {ovo.pairs}, rho, "rho")});
  std::string transform = ctx.attr_s("post_transform", "NONE");
  Value* scores = nullptr;
  if (has_proba) {
    scores = probabilities(ctx, decisions, ovo, a, b);
  } else if (ovo.pairs == 1) {
    // One decision value s: the scores are [-s, s] before the transform (ONNX reference, write_scores).
    if (transform == "PROBIT")
      return (void)ctx.fail_unsupported(make_error("SVMClassifier: post_transform PROBIT on a binary machine"));
    scores = ctx.op(OpKind::Concat, {ctx.op(OpKind::Neg, {decisions}), decisions}, {{"axis", int64_t{1}}});
  } else {
    scores = decisions;
  }
  ctx.set_output(0, label_of_argmax(ctx, votes(ctx, decisions, ovo), labels));
  ctx.set_output(1, ctx.cast(ml_post_transform(ctx, scores, transform), DType::F32));
}

// SVMClassifier without support vectors (liblinear's form): scores = x W^T + rho[0] per class.
void import_linear_svc(NodeContext& ctx, Value* x, int64_t features, const ClassLabels& labels) {
  int64_t classes = std::max<int64_t>(labels.size(), 1);
  auto coefficients = ctx.attr_floats("coefficients");
  auto rho = ctx.attr_floats("rho");
  if (static_cast<int64_t>(coefficients.size()) != classes * features || rho.empty())
    return (void)ctx.fail(
        make_error("SVMClassifier without support vectors needs classes ({}) x features ({}) "
                   "coefficients and a rho, got {} and {}",
                   classes, features, coefficients.size(), rho.size()));
  std::vector<double> transposed(coefficients.size());
  for (int64_t c = 0; c < classes; ++c)
    for (int64_t f = 0; f < features; ++f) transposed[f * classes + c] = coefficients[c * features + f];
  Value* scores =
      ctx.op(OpKind::Add, {ctx.op(OpKind::MatMul, {ctx.cast(x, DType::F64),
                                                   f64_constant(ctx, {features, classes}, transposed, "coefficients")}),
                           ctx.scalar(rho[0], DType::F64)});
  Value* index = ctx.op(OpKind::ArgMax, {scores}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}});
  Value* label = nullptr;
  if (rho.size() == 1) {
    // The ONNX reference's rule for one rho (set_score_svm): with two labels and no negative coefficient,
    // a top score >= 0.5 means the second label; with another label count, index 1 if the top score is
    // > 0, else 0, given as it is (mapped only through string labels).
    Value* top = ctx.op(OpKind::ReduceMax, {scores}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
    bool positive = std::all_of(coefficients.begin(), coefficients.end(), [](double c) { return c >= 0; });
    if (labels.size() == 2 && positive) {
      index = ctx.op(OpKind::Where, {ctx.op(OpKind::GreaterEqual, {top, ctx.scalar(0.5, DType::F64)}),
                                     ctx.scalar(1, DType::I64), index});
    } else if (labels.size() != 2) {
      index = ctx.op(OpKind::Where, {ctx.op(OpKind::Greater, {top, ctx.scalar(0.0, DType::F64)}),
                                     ctx.scalar(1, DType::I64), ctx.scalar(0, DType::I64)});
      if (labels.strings.empty()) label = index;
    }
  }
  ctx.set_output(0, label ? label : label_of_index(ctx, index, labels));
  ctx.set_output(1, ctx.cast(ml_post_transform(ctx, scores, ctx.attr_s("post_transform", "NONE")), DType::F32));
}

}  // namespace

void import_svm_classifier(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto labels = read_class_labels(ctx, "classlabels_ints");
  auto features = feature_count(ctx, x, "X");
  auto kernel = read_kernel(ctx);
  if (!labels || !features || !kernel) return;
  auto per_class = ctx.attr_ints("vectors_per_class");
  int64_t vectors = 0;
  for (int64_t count : per_class) vectors += count;
  if (vectors > 0) return import_svc(ctx, x, *features, *labels, *kernel, per_class);
  import_linear_svc(ctx, x, *features, *labels);
}

// SVMRegressor: sum_v coefficients[v] kernel(x, sv_v) + rho, or x . coefficients + rho without support
// vectors; one_class gives +1 / -1 by the sign.
void import_svm_regressor(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  auto features = feature_count(ctx, x, "X");
  auto kernel = read_kernel(ctx);
  if (!features || !kernel) return;
  std::string transform = ctx.attr_s("post_transform", "NONE");
  if (transform != "NONE")
    return (void)ctx.fail_unsupported(make_error("SVMRegressor: post_transform {} (only NONE is defined)", transform));
  int64_t supports = ctx.attr_i("n_supports", 0);
  auto coefficients = ctx.attr_floats("coefficients");
  auto rho = ctx.attr_floats("rho");
  if (rho.size() != 1) return (void)ctx.fail(make_error("SVMRegressor needs one rho, got {}", rho.size()));
  int64_t weights = supports > 0 ? supports : *features;
  if (supports < 0 || static_cast<int64_t>(coefficients.size()) != weights)
    return (void)ctx.fail(make_error("SVMRegressor: coefficients has {} values; {} needed (n_supports = {})",
                                     coefficients.size(), weights, supports));
  Value* x64 = ctx.cast(x, DType::F64);
  Value* terms = x64;
  if (supports > 0) {
    auto vectors = ctx.attr_floats("support_vectors");
    if (!check_vectors(ctx, vectors, supports, *features)) return;
    terms = kernel_matrix(ctx, x64, vectors, supports, *features, *kernel);
  }
  Value* y =
      ctx.op(OpKind::Add, {ctx.op(OpKind::MatMul, {terms, f64_constant(ctx, {weights, 1}, coefficients, "coef")}),
                           ctx.scalar(rho[0], DType::F64)});
  if (ctx.attr_i("one_class", 0) != 0)
    y = ctx.op(OpKind::Where, {ctx.op(OpKind::Greater, {y, ctx.scalar(0.0, DType::F64)}), ctx.scalar(1.0, DType::F64),
                               ctx.scalar(-1.0, DType::F64)});
  ctx.set_output(0, ctx.cast(y, DType::F32));
}

}  // namespace tessel::onnx
