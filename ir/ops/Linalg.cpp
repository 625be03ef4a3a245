// The matmul family: matmul (numpy matmul: a 1-D operand is promoted to a matrix by prepending (A) or
// appending (B) a 1, which is removed from the result again; batch dims broadcast) and gemm (ONNX Gemm:
// Y = alpha * op(A) * op(B) + beta * C with op a transpose when trans_a / trans_b is 1 and C, optional,
// unidirectionally broadcast to [M, N]; with beta = 0, C is ignored as in the ONNX reference).
// Operands share one dtype, float or integer (not bool). Floats accumulate in double and round once at
// the end (f16 and bf16 go through f32); integers accumulate in uint64 and wrap like two's complement.
// The kernel runs i, k, j with j innermost, so the B row and the accumulator row are both contiguous.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {
namespace {

/// Shapes of a (possibly batched) matmul after promoting 1-D operands.
struct MatMulShape {
  Shape a_batch, b_batch, batch;  ///< batch dims of each operand and their broadcast
  Dim m, k, n;
  Shape result;
};

Status check_dtypes(std::string_view op, const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype)
    return make_error("{} operands must have the same dtype, got {} and {}", op, a.str(), b.str());
  if (a.dtype == DType::Bool) return make_error("{} expects float or integer operands, got {}", op, a.str());
  return Status::success();
}

Expected<MatMulShape> matmul_shape(const TensorType& a, const TensorType& b) {
  TESSEL_TRY(check_dtypes("matmul", a, b));
  if (a.rank() < 1 || b.rank() < 1)
    return make_error("matmul operands must have rank >= 1, got {} and {}", a.str(), b.str());
  Shape as = a.shape, bs = b.shape;
  if (a.rank() == 1) as.insert(as.begin(), Dim(1));
  if (b.rank() == 1) bs.push_back(Dim(1));
  MatMulShape s;
  s.m = as[as.size() - 2];
  s.k = as.back();
  s.n = bs.back();
  const Dim& kb = bs[bs.size() - 2];
  if (s.k != kb)
    return make_error("matmul inner dims differ: {} has K = {} but {} has K = {}", a.str(), s.k.str(), b.str(),
                      kb.str());
  s.a_batch.assign(as.begin(), as.end() - 2);
  s.b_batch.assign(bs.begin(), bs.end() - 2);
  auto batch = broadcast_shapes(s.a_batch, s.b_batch);
  if (!batch)
    return make_error("matmul batch dims of {} and {} do not broadcast: {}", a.str(), b.str(), batch.error().message);
  s.batch = *batch;
  s.result = s.batch;
  if (a.rank() > 1) s.result.push_back(s.m);
  if (b.rank() > 1) s.result.push_back(s.n);
  return s;
}

/// gemm's dims M, K, N after the transposes, and the checked alpha / beta.
struct GemmShape {
  Dim m, k, n;
  bool trans_a = false, trans_b = false;
  double alpha = 1, beta = 1;
};

Expected<bool> read_flag(const AttrReader& attrs, const std::string& name) {
  int64_t value = attrs.i(name);
  if (value != 0 && value != 1) return make_error("gemm {} must be 0 or 1, got {}", name, value);
  return value == 1;
}

Status check_gemm_c(const TensorType& c, const GemmShape& s) {
  if (c.rank() > 2) return make_error("gemm C {} must have rank <= 2", c.str());
  Shape target{s.m, s.n};
  for (int64_t i = 0; i < c.rank(); ++i) {
    const Dim& dim = c.shape[c.rank() - 1 - i];
    const Dim& want = target[1 - i];
    if (dim != want && dim != Dim(1))
      return make_error("gemm C {} does not broadcast to [M, N] = [{}, {}]", c.str(), s.m.str(), s.n.str());
  }
  return Status::success();
}

Expected<GemmShape> gemm_shape(const TensorType& a, const TensorType& b, const TensorType* c, const AttrReader& attrs) {
  TESSEL_TRY(check_dtypes("gemm", a, b));
  if (c && c->dtype != a.dtype) return make_error("gemm C {} must have the dtype of A {}", c->str(), a.str());
  if (a.rank() != 2 || b.rank() != 2) return make_error("gemm A and B must be 2-D, got {} and {}", a.str(), b.str());
  GemmShape s;
  TESSEL_ASSIGN(s.trans_a, read_flag(attrs, "trans_a"));
  TESSEL_ASSIGN(s.trans_b, read_flag(attrs, "trans_b"));
  s.m = a.shape[s.trans_a ? 1 : 0];
  s.k = a.shape[s.trans_a ? 0 : 1];
  const Dim& kb = b.shape[s.trans_b ? 1 : 0];
  s.n = b.shape[s.trans_b ? 0 : 1];
  if (s.k != kb)
    return make_error(
        "gemm inner dims differ: op(A) of {} has K = {} but op(B) of {} has K = {} (trans_a {}, trans_b {})", a.str(),
        s.k.str(), b.str(), kb.str(), int{s.trans_a}, int{s.trans_b});
  if (c) TESSEL_TRY(check_gemm_c(*c, s));
  s.alpha = attrs.f("alpha");
  s.beta = attrs.f("beta");
  if (is_integer(a.dtype) && (s.alpha != std::trunc(s.alpha) || s.beta != std::trunc(s.beta)))
    return make_error("gemm on {} needs whole-number alpha and beta, got {} and {}", dtype_name(a.dtype), s.alpha,
                      s.beta);
  return s;
}

/// Floats accumulate in double; integers in uint64, where products and sums wrap modulo 2^64 and the final
/// narrowing conversion keeps the low bits -- two's complement wraparound for every integer width.
template <typename S>
using Acc = std::conditional_t<std::is_floating_point_v<S>, double, uint64_t>;

/// C-row by C-row product of a[m, k] and b[k, n]; calls store(i, acc_row) with the n accumulators of row i.
template <typename S, typename Store>
void matmul_rows(const S* a, const S* b, int64_t m, int64_t k, int64_t n, Store&& store) {
  std::vector<Acc<S>> acc(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(acc.begin(), acc.end(), Acc<S>{0});
    for (int64_t p = 0; p < k; ++p) {
      Acc<S> av = static_cast<Acc<S>>(a[i * k + p]);
      const S* brow = b + p * n;
      for (int64_t j = 0; j < n; ++j) acc[j] += av * static_cast<Acc<S>>(brow[j]);
    }
    store(i, acc.data());
  }
}

template <typename S>
void matmul_kernel(const MatMulShape& s, const Tensor& a, const Tensor& b, Tensor& y) {
  int64_t m = *s.m.as_const(), k = *s.k.as_const(), n = *s.n.as_const();
  std::vector<int64_t> batch = *static_shape(s.batch);
  std::vector<int64_t> a_strides = broadcast_strides(*static_shape(s.a_batch), batch);
  std::vector<int64_t> b_strides = broadcast_strides(*static_shape(s.b_batch), batch);
  int64_t batches = 1;
  for (int64_t d : batch) batches *= d;
  S* yd = y.data<S>();
  for (int64_t bi = 0; bi < batches; ++bi) {
    std::vector<int64_t> index = unravel(bi, batch);
    const S* ad = a.data<S>() + offset_of(index, a_strides) * m * k;
    const S* bd = b.data<S>() + offset_of(index, b_strides) * k * n;
    S* out = yd + bi * m * n;
    matmul_rows(ad, bd, m, k, n, [&](int64_t i, const Acc<S>* row) {
      for (int64_t j = 0; j < n; ++j) out[i * n + j] = static_cast<S>(row[j]);
    });
  }
}

/// Row-major transpose of a rows x cols matrix.
template <typename S>
std::vector<S> transpose(const S* data, int64_t rows, int64_t cols) {
  std::vector<S> out(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[j * rows + i] = data[i * cols + j];
  return out;
}

template <typename S>
void gemm_kernel(const GemmShape& s, const Tensor& a, const Tensor& b, const Tensor* c, Tensor& y) {
  int64_t m = y.dim(0), n = y.dim(1), k = s.trans_a ? a.dim(0) : a.dim(1);
  std::vector<S> at, bt;
  const S* ad = a.data<S>();
  const S* bd = b.data<S>();
  if (s.trans_a) ad = (at = transpose(ad, k, m)).data();
  if (s.trans_b) bd = (bt = transpose(bd, n, k)).data();
  // C broadcasts to [m, n]: a size-1 (or missing) axis gets stride 0.
  std::vector<int64_t> c_strides = c ? broadcast_strides(c->shape(), {m, n}) : std::vector<int64_t>{0, 0};
  bool use_c = c && s.beta != 0;
  using A = Acc<S>;
  A alpha, beta;
  if constexpr (std::is_floating_point_v<S>) {
    alpha = s.alpha;
    beta = s.beta;
  } else {
    alpha = static_cast<A>(static_cast<int64_t>(s.alpha));
    beta = static_cast<A>(static_cast<int64_t>(s.beta));
  }
  S* yd = y.data<S>();
  matmul_rows(ad, bd, m, k, n, [&](int64_t i, const A* row) {
    for (int64_t j = 0; j < n; ++j) {
      A value = alpha * row[j];
      if (use_c) value += beta * static_cast<A>(c->data<S>()[i * c_strides[0] + j * c_strides[1]]);
      yd[i * n + j] = static_cast<S>(value);
    }
  });
}

// f16 / bf16 compute through f32: widen the operands, run the f32 kernel, round the result back.
Tensor widen(const Tensor& t) { return Tensor::from_doubles(DType::F32, t.shape(), t.to_doubles()); }
Tensor narrow(const Tensor& t, DType dtype) { return Tensor::from_doubles(dtype, t.shape(), t.to_doubles()); }
bool is_half(DType dtype) { return dtype == DType::F16 || dtype == DType::BF16; }

TensorType type_of(const Tensor& t) { return {t.dtype(), to_shape(t.shape())}; }

Expected<std::vector<Tensor>> eval_matmul_op(const EvalContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  TESSEL_ASSIGN(MatMulShape s, matmul_shape(type_of(a), type_of(b)));
  if (is_half(a.dtype())) {
    Tensor y(DType::F32, *static_shape(s.result));
    matmul_kernel<float>(s, widen(a), widen(b), y);
    return std::vector<Tensor>{narrow(y, a.dtype())};
  }
  Tensor y(a.dtype(), *static_shape(s.result));
  visit_dtype(a.dtype(), [&](auto zero) { matmul_kernel<decltype(zero)>(s, a, b, y); });
  return std::vector<Tensor>{y};
}

Expected<std::vector<Tensor>> eval_gemm(const EvalContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  TensorType c_type = c ? type_of(*c) : TensorType{};
  TESSEL_ASSIGN(GemmShape s, gemm_shape(type_of(a), type_of(b), c ? &c_type : nullptr, ctx.attrs));
  std::vector<int64_t> shape{*s.m.as_const(), *s.n.as_const()};
  if (is_half(a.dtype())) {
    Tensor wide_c = c ? widen(*c) : Tensor();
    Tensor y(DType::F32, shape);
    gemm_kernel<float>(s, widen(a), widen(b), c ? &wide_c : nullptr, y);
    return std::vector<Tensor>{narrow(y, a.dtype())};
  }
  Tensor y(a.dtype(), shape);
  visit_dtype(a.dtype(), [&](auto zero) { gemm_kernel<decltype(zero)>(s, a, b, c, y); });
  return std::vector<Tensor>{y};
}

}  // namespace

Expected<std::vector<TensorType>> infer_matmul(const ShapeContext& ctx) {
  const TensorType& a = ctx.operand(0);
  if (ctx.kind == OpKind::Gemm) {
    const TensorType* c = ctx.has_operand(2) ? &ctx.operand(2) : nullptr;
    TESSEL_ASSIGN(GemmShape s, gemm_shape(a, ctx.operand(1), c, ctx.attrs));
    return std::vector<TensorType>{{a.dtype, {s.m, s.n}}};
  }
  TESSEL_ASSIGN(MatMulShape s, matmul_shape(a, ctx.operand(1)));
  return std::vector<TensorType>{{a.dtype, s.result}};
}

Expected<std::vector<Tensor>> eval_matmul(const EvalContext& ctx) {
  return ctx.kind == OpKind::Gemm ? eval_gemm(ctx) : eval_matmul_op(ctx);
}

}  // namespace tessel::ops
