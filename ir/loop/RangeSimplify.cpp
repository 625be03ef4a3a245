// simplify_div_mod: exact division of index expressions by what the enclosing loops prove.
//
// An integer `e / c` or `e % c` (c a positive constant) whose `e` is a linear combination of loop
// variables splits when the loops' ranges allow: the terms whose coefficient c divides form the quotient
// c * Q, the rest R; if R provably lies in [0, c) and Q >= 0 (so e >= 0, where truncating and floor
// division agree), then e / c = Q and e % c = R:
//
//   (32*a + 16*b + v) / 32 = a,   (32*a + 16*b + v) % 32 = 16*b + v    for b in [0, 2), v in [0, 16)
//
// Reshapes and blocked layouts read along a vectorized axis through such divisions; split, the index is
// affine in the vector lane again and the vectorizer emits a contiguous load instead of a gather. When no
// exact split exists, a partial one by a divisor of c may (see split).
#include <limits>
#include <map>
#include <optional>

#include "ir/loop/RangeSimplify.h"
#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

struct Range {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();  ///< inclusive; max() when unknown
};
using Scope = std::map<std::string, Range>;

constexpr int64_t kUnknown = std::numeric_limits<int64_t>::max();

/// sum(coef[v] * v) + constant, over i64 scalars.
struct Linear {
  std::map<std::string, int64_t> coef;
  int64_t constant = 0;
};

bool is_index(const Expr& e) { return e->type.elem == DType::I64 && e->type.lanes == 1; }

std::optional<Linear> linear(const Expr& e) {
  if (!is_index(e)) return std::nullopt;
  if (e->kind == ExprKind::IntImm) return Linear{{}, e->int_value};
  if (e->kind == ExprKind::Var) return Linear{{{e->name, 1}}, 0};
  if (e->kind != ExprKind::Binary) return std::nullopt;
  auto a = linear(e->arg(0)), b = linear(e->arg(1));
  if (!a || !b) return std::nullopt;
  switch (e->op) {
    case BinOp::Add:
    case BinOp::Sub: {
      int64_t sign = e->op == BinOp::Add ? 1 : -1;
      for (auto& [v, k] : b->coef) a->coef[v] += sign * k;
      a->constant += sign * b->constant;
      return a;
    }
    case BinOp::Mul: {
      if (!a->coef.empty() && !b->coef.empty()) return std::nullopt;
      Linear& scaled = a->coef.empty() ? *b : *a;
      int64_t factor = a->coef.empty() ? a->constant : b->constant;
      for (auto& [v, k] : scaled.coef) k *= factor;
      scaled.constant *= factor;
      return scaled;
    }
    default: return std::nullopt;
  }
}

/// The smallest and largest value of `sum(coef * v) + constant` over the scope; kUnknown when unbounded.
std::pair<int64_t, int64_t> bounds(const std::map<std::string, int64_t>& coef, int64_t constant, const Scope& scope) {
  int64_t lo = constant, hi = constant;
  for (const auto& [v, k] : coef) {
    if (k == 0) continue;
    auto it = scope.find(v);
    if (it == scope.end()) return {-kUnknown, kUnknown};
    const Range& r = it->second;
    int64_t at_min = k * r.min;
    int64_t at_max = r.max == kUnknown ? (k > 0 ? kUnknown : -kUnknown) : k * r.max;
    lo = (lo == -kUnknown || std::min(at_min, at_max) == -kUnknown) ? -kUnknown : lo + std::min(at_min, at_max);
    hi = (hi == kUnknown || std::max(at_min, at_max) == kUnknown) ? kUnknown : hi + std::max(at_min, at_max);
  }
  return {lo, hi};
}

Expr build(const std::map<std::string, int64_t>& coef, int64_t constant) {
  Expr sum = int_imm(constant);
  for (const auto& [v, k] : coef)
    if (k != 0) sum = sum + (k == 1 ? var(v) : var(v) * int_imm(k));
  return simplify(sum);
}

/// `e / c` or `e % c` split, or null. For the largest divisor g of c that works (c itself first), the terms
/// whose coefficient g divides form the coarse part G (a multiple of g), the rest F; if F provably lies in
/// [0, g) and G >= 0, no value of F carries G across a multiple of c, so e / c = G / c and
/// e % c = G % c + F. With g = c the split is exact (G / c is linear, G % c is 0); with a smaller g it is
/// partial:
///
///   (16*o + v) / 32 = (16*o) / 32,   (16*o + v) % 32 = (16*o) % 32 + v    for v in [0, 16)
///
/// (a 16-lane vector of a channel block of 32 at an odd block half): G / c no longer depends on v, so a
/// vectorized v reads a broadcast quotient instead of gathering.
Expr split(BinOp op, const Expr& e, int64_t c, const Scope& scope) {
  auto form = linear(e);
  if (!form) return nullptr;
  for (int64_t g = c; g >= 1; --g) {
    if (c % g != 0 || (g == 1 && c != 1)) continue;
    std::map<std::string, int64_t> coarse, fine;
    for (const auto& [v, k] : form->coef) (k % g == 0 ? coarse[v] : fine[v]) = k;
    int64_t f0 = ((form->constant % g) + g) % g, c0 = form->constant - f0;
    auto [fine_lo, fine_hi] = bounds(fine, f0, scope);
    auto [coarse_lo, coarse_hi] = bounds(coarse, c0, scope);
    if (fine_lo < 0 || fine_hi >= g || coarse_lo < 0) continue;
    if (g == c) {
      for (auto& [v, k] : coarse) k /= c;
      return op == BinOp::Div ? build(coarse, c0 / c) : build(fine, f0);
    }
    if (coarse.empty()) continue;  // G = c0: the exact split would have taken it
    Expr g_part = build(coarse, c0);
    return op == BinOp::Div ? simplify(g_part / int_imm(c)) : simplify(g_part % int_imm(c) + build(fine, f0));
  }
  return nullptr;
}

Expr rewrite(const Expr& e, const Scope& scope) {
  if (e->args.empty()) return e;
  std::vector<Expr> args;
  bool changed = false;
  for (const Expr& a : e->args) {
    args.push_back(rewrite(a, scope));
    changed |= args.back() != a;
  }
  Expr out = changed ? with_args(e, args) : e;
  if (out->kind == ExprKind::Binary && (out->op == BinOp::Div || out->op == BinOp::Mod) && is_index(out)) {
    const int64_t* c = as_int_const(out->arg(1));
    if (c && *c > 0)
      if (Expr done = split(out->op, out->arg(0), *c, scope)) return done;
  }
  return out;
}

Stmt rewrite(const Stmt& s, Scope& scope) {
  std::vector<Expr> exprs;
  for (const Expr& e : s->exprs) exprs.push_back(rewrite(e, scope));
  std::optional<Range> saved;
  bool bound = false;
  if (s->kind == StmtKind::For || s->kind == StmtKind::Let) {
    if (auto it = scope.find(s->name); it != scope.end()) saved = it->second;
    scope.erase(s->name);  // a let, or a loop with unknown bounds, shadows any outer range
    if (s->kind == StmtKind::For) {
      const int64_t* min = as_int_const(exprs[0]);
      const int64_t* extent = as_int_const(exprs[1]);
      if (min && *min >= 0) {
        scope[s->name] = Range{*min, extent ? *min + *extent - 1 : kUnknown};
        bound = true;
      }
    }
  }
  std::vector<Stmt> body;
  for (const Stmt& b : s->body) body.push_back(b ? rewrite(b, scope) : b);
  if (bound || s->kind == StmtKind::Let) scope.erase(s->name);
  if (saved) scope[s->name] = *saved;
  return with_parts(s, std::move(exprs), std::move(body));
}

}  // namespace

Stmt simplify_div_mod(const Stmt& s) {
  Scope scope;
  return rewrite(s, scope);
}

}  // namespace tessel::loop
