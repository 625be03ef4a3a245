// Loop lowering of tree_ensemble: a custom nest over the rows (parallel when the schedule makes d0
// parallel). Per row:
//
//   allocate tree_acc f64[T], tree_hit bool[T], tree_stat f64[2] local {
//     acc = 0, hit = false
//     <traversal>      branch: each tree as nested if/else, thresholds and leaf weights as immediates
//                      tensorized: all trees level by level over node tables (LowerTreesTensorized.cpp)
//     acc = acc / trees (AVERAGE) + base_values; post_transform; store f32(acc[j]) at (row, j)
//   }
//
// The gemm strategy (LowerTreesGemm.cpp) computes the leaves of a block of rows at once, then runs the
// same per-row epilogue (tree_row) for each row of the block.
//
// Everything matches the interpreter (ir/ops/Ml.cpp) operation for operation: features compare against
// the f32-rounded threshold (in f32 for f32 X, in f64 otherwise), NaN follows missing_value_tracks_true,
// scores add in f64 in tree order, MIN / MAX use the interpreter's std::min / std::max and score 0 for a
// target no leaf reaches, and the post transforms run in f64 before one rounding to f32. PROBIT uses a
// fixed number of Newton steps on 1 + erf (the interpreter stops on a small step and uses erfc), which
// agrees to ~1e-12 for p in [1e-4, 1 - 1e-4] and stays within 1e-5 closer to the ends.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "passes/LowerTrees.h"

namespace tessel::lower {

using namespace loop;  // NOLINT
using trees::Mode;
using trees::Model;
using trees::Node;

namespace {

constexpr char kStat[] = "tree_stat";
/// Nodes the branch strategy emits at most (shared subtrees count once per path to them).
constexpr size_t kMaxBranchNodes = size_t{1} << 22;

Expr f64(double value) { return float_imm(value, DType::F64); }
Expr acc_at(const TreeRow& row, int64_t j) { return load(row.acc, DType::F64, int_imm(j)); }

/// Each tree as nested if/else; leaves add their weights.
class BranchEmitter {
 public:
  BranchEmitter(const Model& model, const Value* x, Inliner& inliner, const TreeRow& row, bool x_float)
      : model_(model), x_(x), inliner_(inliner), row_(row), x_float_(x_float) {}

  Expected<Stmt> emit(size_t i) {
    if (++emitted_ > kMaxBranchNodes)
      return make_error("tree_ensemble has more than {} nodes to emit as branch code", kMaxBranchNodes)
          .with_hint("use tree_strategy = \"tensorized\"");
    const Node& node = model_.nodes[i];
    if (node.mode == Mode::Leaf) {
      std::vector<Stmt> adds;
      for (const auto& [target, weight] : node.targets)
        adds.push_back(tree_accumulate(model_, row_, int_imm(target), f64(weight), nullptr));
      return block(adds);
    }
    TESSEL_ASSIGN(Expr x, tree_feature(x_, inliner_, row_, int_imm(node.feature)));
    Expr cond = tree_compare(node.mode, x, float_imm(node.threshold, x->type.elem));
    if (x_float_ && (node.missing_true || node.mode == Mode::Neq)) {
      Expr nan = call(Intrinsic::IsNan, {x});
      cond = node.missing_true ? nan || cond : call(Intrinsic::Not, {nan}) && cond;
    }
    TESSEL_ASSIGN(Stmt then_case, emit(node.true_child));
    TESSEL_ASSIGN(Stmt else_case, emit(node.false_child));
    return if_then_else(cond, then_case, else_case);
  }

 private:
  const Model& model_;
  const Value* x_;
  Inliner& inliner_;
  const TreeRow& row_;
  bool x_float_;
  size_t emitted_ = 0;
};

/// The inverse standard normal CDF of acc[j] into acc[j] (see the banner): a rational first guess
/// (Abramowitz & Stegun 26.2.23) on the lower tail q = min(p, 1 - p), then Newton steps.
std::vector<Stmt> probit(const TreeRow& row, int64_t j) {
  std::vector<Stmt> out;
  Expr p = acc_at(row, j);
  Expr q = select(f64(1) - p < p, f64(1) - p, p);
  Expr t = call(Intrinsic::Sqrt, {f64(-2) * call(Intrinsic::Log, {q})});
  Expr guess =
      call(Intrinsic::Neg, {t - (f64(2.515517) + f64(0.802853) * t + f64(0.010328) * t * t) /
                                    (f64(1) + f64(1.432788) * t + f64(0.189269) * t * t + f64(0.001308) * t * t * t)});
  out.push_back(store(kStat, int_imm(0), guess));
  out.push_back(store(kStat, int_imm(1), q));
  Expr x = load(kStat, DType::F64, int_imm(0)), lower_tail = load(kStat, DType::F64, int_imm(1));
  for (int step = 0; step < 8; ++step) {
    Expr phi = f64(0.5) * (f64(1) + call(Intrinsic::Erf, {x * f64(0.7071067811865476)}));
    Expr density = f64(0.3989422804014327) * call(Intrinsic::Exp, {f64(-0.5) * x * x});
    out.push_back(store(kStat, int_imm(0), x - (phi - lower_tail) / density));
  }
  Expr result = select(f64(0.5) < p, call(Intrinsic::Neg, {x}), x);
  result = select(eq(p, f64(1)), f64(std::numeric_limits<double>::infinity()), result);
  result = select(eq(p, f64(0)), f64(-std::numeric_limits<double>::infinity()), result);
  Expr inside = f64(0) <= p && p <= f64(1);
  out.push_back(store(row.acc, int_imm(j), select(inside, result, f64(std::numeric_limits<double>::quiet_NaN()))));
  return out;
}

/// Softmax (or SOFTMAX_ZERO, which leaves exact zeros out) of acc, in place.
std::vector<Stmt> softmax(const TreeRow& row, int64_t targets, bool skip_zeros) {
  std::vector<Stmt> out;
  Expr m = load(kStat, DType::F64, int_imm(0)), sum = load(kStat, DType::F64, int_imm(1));
  out.push_back(store(kStat, int_imm(0), f64(-std::numeric_limits<double>::infinity())));
  out.push_back(store(kStat, int_imm(1), f64(0)));
  for (int64_t j = 0; j < targets; ++j) {
    Expr a = acc_at(row, j), bigger = select(m < a, a, m);  // std::max(m, a)
    out.push_back(store(kStat, int_imm(0), skip_zeros ? select(eq(a, f64(0)), m, bigger) : bigger));
  }
  for (int64_t j = 0; j < targets; ++j) {
    Expr a = acc_at(row, j), e = call(Intrinsic::Exp, {a - m});
    out.push_back(store(row.acc, int_imm(j), skip_zeros ? select(eq(a, f64(0)), f64(0), e) : e));
    out.push_back(store(kStat, int_imm(1), sum + acc_at(row, j)));
  }
  for (int64_t j = 0; j < targets; ++j) {
    Expr e = acc_at(row, j);
    out.push_back(store(row.acc, int_imm(j), skip_zeros ? select(eq(e, f64(0)), f64(0), e / sum) : e / sum));
  }
  return out;
}

/// AVERAGE, base_values and the post transform on acc, then the stores of the row's results.
Expected<std::vector<Stmt>> finalize_row(const Model& model, const TreeRow& row, const StoreFn& store_result) {
  std::vector<Stmt> out;
  int64_t targets = model.n_targets;
  for (int64_t j = 0; j < targets; ++j) {
    Expr a = acc_at(row, j);
    bool average = model.aggregate == trees::Aggregate::Average, base = !model.base_values.empty();
    if (average) a = a / f64(static_cast<double>(model.roots.size()));
    if (base) a = a + f64(model.base_values[static_cast<size_t>(j)]);
    if (average || base) out.push_back(store(row.acc, int_imm(j), a));
  }
  switch (model.post) {
    case trees::Post::None: break;
    case trees::Post::Logistic:
      for (int64_t j = 0; j < targets; ++j)
        out.push_back(store(row.acc, int_imm(j),
                            f64(1) / (f64(1) + call(Intrinsic::Exp, {call(Intrinsic::Neg, {acc_at(row, j)})}))));
      break;
    case trees::Post::Softmax:
    case trees::Post::SoftmaxZero:
      for (Stmt& s : softmax(row, targets, model.post == trees::Post::SoftmaxZero)) out.push_back(s);
      break;
    case trees::Post::Probit:
      for (int64_t j = 0; j < targets; ++j)
        for (Stmt& s : probit(row, j)) out.push_back(s);
      break;
  }
  for (int64_t j = 0; j < targets; ++j) {
    TESSEL_ASSIGN(Stmt s, store_result({row.row, int_imm(j)}, cast(Type{DType::F32}, acc_at(row, j))));
    out.push_back(s);
  }
  return out;
}

/// The whole nest: the row loop around score buffers, traversal and finalization.
Expected<Stmt> tree_nest(const Op& op, const Model& model, trees::StrategySpec spec, Inliner& inliner,
                         const Schedule& schedule, const StoreFn& store_result) {
  trees::Strategy strategy = spec.strategy;
  if (strategy == trees::Strategy::Gemm) return gemm_nest(op, model, inliner, schedule, store_result);
  const Value* x = op.operand(0);
  TreeRow row{var("d0")};
  std::vector<Stmt> fill;
  if (strategy == trees::Strategy::Branch) {
    BranchEmitter emitter(model, x, inliner, row, is_float(x->type().dtype));
    for (size_t root : model.roots) {
      TESSEL_ASSIGN(Stmt tree, emitter.emit(root));
      fill.push_back(tree);
    }
  } else {
    TESSEL_ASSIGN(Stmt walk, tensorized_traversal(op, model, inliner, row, spec.quantized));
    fill.push_back(walk);
  }
  TESSEL_ASSIGN(Stmt stmt, tree_row(model, row, std::move(fill), store_result));
  bool parallel = std::find(schedule.parallel.begin(), schedule.parallel.end(), "d0") != schedule.parallel.end();
  return for_loop("d0", int_imm(0), dim_expr(x->type().shape[0]), parallel ? ForKind::Parallel : ForKind::Serial, stmt);
}

}  // namespace

Expected<Stmt> tree_row(const Model& model, const TreeRow& row, std::vector<Stmt> fill, const StoreFn& store_result) {
  int64_t targets = model.n_targets;
  std::vector<Stmt> body;
  Stmt zero = store(row.acc, var("tree_j"), f64(0));
  if (model.aggregate == trees::Aggregate::Min || model.aggregate == trees::Aggregate::Max)
    zero = block({zero, store(row.hit, var("tree_j"), bool_imm(false))});
  body.push_back(for_loop("tree_j", int_imm(0), int_imm(targets), ForKind::Serial, zero));
  for (Stmt& s : fill) body.push_back(std::move(s));
  TESSEL_ASSIGN(std::vector<Stmt> finish, finalize_row(model, row, store_result));
  for (Stmt& s : finish) body.push_back(s);
  Stmt stmt = allocate(kStat, DType::F64, int_imm(2), MemoryKind::Local, block(body));
  stmt = allocate(row.hit, DType::Bool, int_imm(targets), MemoryKind::Local, stmt);
  return allocate(row.acc, DType::F64, int_imm(targets), MemoryKind::Local, stmt);
}

Stmt tree_accumulate(const Model& model, const TreeRow& row, const Expr& target, const Expr& weight, const Expr& has) {
  Expr a = load(row.acc, DType::F64, target);
  if (model.aggregate == trees::Aggregate::Sum || model.aggregate == trees::Aggregate::Average)
    return store(row.acc, target, a + weight);  // an absent target adds 0 (tensorized tables)
  bool is_min = model.aggregate == trees::Aggregate::Min;
  Expr hit = load(row.hit, DType::Bool, target);
  Expr combined = is_min ? select(weight < a, weight, a) : select(a < weight, weight, a);  // std::min / max
  Expr updated = select(hit, combined, weight);
  if (!has) return block({store(row.acc, target, updated), store(row.hit, target, bool_imm(true))});
  return block({store(row.acc, target, select(has, updated, a)), store(row.hit, target, hit || has)});
}

Expected<Expr> tree_feature(const Value* x, Inliner& inliner, const TreeRow& row, const Expr& feature) {
  TESSEL_ASSIGN(Expr value, inliner.value_at(x, {row.row, feature}));
  if (value->type.elem == DType::F32 || value->type.elem == DType::F64) return value;
  return cast(Type{DType::F64}, value);  // i32 exactly, i64 to the nearest double (the interpreter's reading)
}

Expr tree_compare(Mode mode, const Expr& x, const Expr& threshold) {
  switch (mode) {
    case Mode::Leq: return x <= threshold;
    case Mode::Lt: return x < threshold;
    case Mode::Gte: return x >= threshold;
    case Mode::Gt: return x > threshold;
    case Mode::Eq: return eq(x, threshold);
    case Mode::Neq: return ne(x, threshold);
    case Mode::Leaf: break;
  }
  return bool_imm(false);
}

Expected<Anchor> tree_ensemble_anchor(const Op& op, Inliner& inliner) {
  auto model = trees::read_model(op.attr());
  if (!model) return op_error(op, model.error().str());
  std::string name = op.attr().s("tree_strategy");
  trees::StrategySpec strategy;  // no strategy chosen: branch code needs no tables
  if (!name.empty()) {
    auto parsed = trees::parse_strategy_spec(name);
    if (!parsed) return op_error(op, parsed.error().str());
    strategy = *parsed;
  }
  const Shape& out = op.result()->type().shape;
  Anchor anchor;
  anchor.axes = {{"d0", out[0], false}, {"d1", out[1], false}};
  anchor.num_spatial = 2;
  anchor.custom = [&op, ensemble = std::move(*model), strategy, &inliner](const Schedule& schedule,
                                                                          const StoreFn& store_result) {
    return tree_nest(op, ensemble, strategy, inliner, schedule, store_result);
  };
  return anchor;
}

}  // namespace tessel::lower
