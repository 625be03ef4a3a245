// Loop lowering of pairwise_coupling: libsvm's multiclass_probability per row, statement for statement
// as the interpreter runs it (ir/ops/Ml.cpp), in f64 local buffers:
//
//   for d0 (rows; parallel when the schedule says so) {
//     r[k*k] from the pairwise inputs; Q[k*k]; p[k] = 1/k
//     done = false
//     for iter < max(100, k): if (!done) { qp = Q p; pqp = p.qp; err = max |qp - pqp|
//                                           if (err < 0.005 / k) done = true else { the k updates } }
//     store p (rounded to the result dtype)
//   }
//
// The loop IR has no early exit, so the converged iterations are skipped by the `done` flag; the
// numbers are the interpreter's, operation for operation.
#include <algorithm>

#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

constexpr char kR[] = "pc_r", kQ[] = "pc_q", kP[] = "pc_p", kQp[] = "pc_qp", kScalars[] = "pc_s", kDone[] = "pc_done";
// Slots of pc_s.
constexpr int64_t kPqp = 0, kError = 1, kDiff = 2;

Expr f64(double value) { return float_imm(value, DType::F64); }
Expr at(const char* buffer, const Expr& index) { return load(buffer, DType::F64, index); }
Expr scalar(int64_t slot) { return at(kScalars, int_imm(slot)); }
Stmt set_scalar(int64_t slot, const Expr& value) { return store(kScalars, int_imm(slot), value); }
Stmt loop_over(const std::string& v, const Expr& min, const Expr& extent, Stmt body) {
  return for_loop(v, min, extent, ForKind::Serial, std::move(body));
}

/// The pairwise matrix r, Q and the start p = 1/k.
Expected<std::vector<Stmt>> setup(const Value* pairwise, Inliner& inliner, const Expr& row, int64_t k) {
  std::vector<Stmt> out;
  Expr kk = int_imm(k);
  for (int64_t i = 0, index = 0; i < k; ++i)
    for (int64_t j = i + 1; j < k; ++j, ++index) {
      TESSEL_ASSIGN(Expr v, inliner.value_at(pairwise, {row, int_imm(index)}));
      if (v->type.elem != DType::F64) v = cast(Type{DType::F64}, v);
      out.push_back(store(kR, int_imm(i * k + j), v));
      out.push_back(store(kR, int_imm(j * k + i), f64(1) - at(kR, int_imm(i * k + j))));
    }
  Expr t = var("pc_t"), j = var("pc_j");
  out.push_back(loop_over("pc_t", int_imm(0), kk * kk, store(kQ, t, f64(0))));
  Expr tt = t * kk + t, jt = j * kk + t, tj = t * kk + j;
  Stmt below = block({store(kQ, tt, at(kQ, tt) + at(kR, jt) * at(kR, jt)), store(kQ, tj, at(kQ, jt))});
  Stmt above = block({store(kQ, tt, at(kQ, tt) + at(kR, jt) * at(kR, jt)),
                      store(kQ, tj, call(Intrinsic::Neg, {at(kR, jt)}) * at(kR, tj))});
  out.push_back(
      loop_over("pc_t", int_imm(0), kk,
                block({store(kP, t, f64(1.0 / static_cast<double>(k))), loop_over("pc_j", int_imm(0), t, below),
                       loop_over("pc_j", t + int_imm(1), kk - t - int_imm(1), above)})));
  return out;
}

/// One iteration of the update loop (guarded by `done`).
Stmt iteration(int64_t k) {
  Expr kk = int_imm(k), t = var("pc_t"), j = var("pc_j");
  Expr qp_t = at(kQp, t), pqp = scalar(kPqp), diff = scalar(kDiff);
  Stmt products =
      loop_over("pc_t", int_imm(0), kk,
                block({store(kQp, t, f64(0)),
                       loop_over("pc_j", int_imm(0), kk, store(kQp, t, qp_t + at(kQ, t * kk + j) * at(kP, j))),
                       set_scalar(kPqp, pqp + at(kP, t) * qp_t)}));
  Expr gap = call(Intrinsic::Abs, {qp_t - pqp}), error = scalar(kError);
  Stmt errors = loop_over("pc_t", int_imm(0), kk, set_scalar(kError, select(error < gap, gap, error)));
  Expr q_tt = at(kQ, t * kk + t), one_plus = f64(1) + diff;
  Stmt update =
      loop_over("pc_t", int_imm(0), kk,
                block({set_scalar(kDiff, (call(Intrinsic::Neg, {qp_t}) + pqp) / q_tt), store(kP, t, at(kP, t) + diff),
                       set_scalar(kPqp, (pqp + diff * (diff * q_tt + f64(2) * qp_t)) / one_plus / one_plus),
                       loop_over("pc_j", int_imm(0), kk,
                                 block({store(kQp, j, (at(kQp, j) + diff * at(kQ, t * kk + j)) / one_plus),
                                        store(kP, j, at(kP, j) / one_plus)}))}));
  Expr eps = f64(0.005 / static_cast<double>(k));
  Stmt decide = if_then_else(error < eps, store(kDone, int_imm(0), bool_imm(true)), update);
  Stmt body = block({set_scalar(kPqp, f64(0)), products, set_scalar(kError, f64(0)), errors, decide});
  return if_then_else(call(Intrinsic::Not, {load(kDone, DType::Bool, int_imm(0))}), body);
}

}  // namespace

Expected<Anchor> pairwise_coupling_anchor(const Op& op, Inliner& inliner) {
  int64_t k = op.attr().i("classes");
  const Value* pairwise = op.operand(0);
  const TensorType& out = op.result()->type();
  if (k < 2 || out.rank() != 2) return op_error(op, "needs classes >= 2 and a [N, classes] result");
  Anchor anchor;
  anchor.axes = {{"d0", out.shape[0], false}, {"d1", out.shape[1], false}};
  anchor.num_spatial = 2;
  DType result_dtype = out.dtype;
  anchor.custom = [=, &inliner](const Schedule& schedule, const StoreFn& store_result) -> Expected<Stmt> {
    Expr row = var("d0");
    TESSEL_ASSIGN(std::vector<Stmt> body, setup(pairwise, inliner, row, k));
    body.push_back(store(kDone, int_imm(0), bool_imm(false)));
    body.push_back(loop_over("pc_iter", int_imm(0), int_imm(std::max<int64_t>(100, k)), iteration(k)));
    for (int64_t t = 0; t < k; ++t) {
      Expr p = at(kP, int_imm(t));
      TESSEL_ASSIGN(Stmt s,
                    store_result({row, int_imm(t)}, result_dtype == DType::F64 ? p : cast(Type{result_dtype}, p)));
      body.push_back(s);
    }
    Stmt stmt = block(body);
    for (auto [name, size] : {std::pair{kDone, int64_t{1}}, std::pair{kScalars, int64_t{3}}, std::pair{kQp, k},
                              std::pair{kP, k}, std::pair{kQ, k * k}, std::pair{kR, k * k}})
      stmt = allocate(name, std::string_view(name) == kDone ? DType::Bool : DType::F64, int_imm(size),
                      MemoryKind::Local, stmt);
    bool parallel = std::find(schedule.parallel.begin(), schedule.parallel.end(), "d0") != schedule.parallel.end();
    return for_loop("d0", int_imm(0), dim_expr(out.shape[0]), parallel ? ForKind::Parallel : ForKind::Serial, stmt);
  };
  return anchor;
}

}  // namespace tessel::lower
