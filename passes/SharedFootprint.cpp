// The footprint of a buffer's loads in a GPU block body, and the rewrite of those loads onto a staged
// copy (contract in passes/SharedFootprint.h).
//
// A load index is read as a linear form over three kinds of terms: variables of loops inside the block
// body ("inner": thread, reduction and tile loops, whose constant ranges the footprint comes from), values
// fixed for the block ("outer": the block's and enclosing loops' variables, kernel parameters and any
// expression of them), and clamped positions min/max(u, bound) of a linear u (conv taps on padded sides),
// which grow monotonically with u and by at most 1 per unit of u. Terms are grouped by the buffer dim
// whose constant stride divides their coefficient, and per dim the loads' ranges give a box
// [origin, origin + F). A load at flat index O + sum_d I_d * S_d reads the copy at
// sum_d (I_d - origin_d) * FS_d (FS: the box's row-major strides), and copy element p holds the input at
// O + sum_d (origin_d + p_d) * S_d: the same element, whatever the grouping.
#include "passes/SharedFootprint.h"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"

namespace tessel::shared {

using namespace loop;  // NOLINT

namespace {

/// A name bound inside the block body: a loop (with its range when constant) or a let.
struct Binding {
  std::string name;
  std::optional<Range> range;
  std::string extent;  ///< a loop's extent, printed, for messages
  Expr let_value;
};
using Scope = std::vector<Binding>;

const Binding* find(const Scope& scope, const std::string& name) {
  for (auto it = scope.rbegin(); it != scope.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

constexpr const char* kPlaceholder = "stage._";

enum class TermKind { Inner, Outer, Atom };

/// A term of a linear index form. An atom is wrapper[placeholder := core_outer + core_inner + core_constant].
struct Term {
  TermKind kind = TermKind::Outer;
  Expr expr;
  Expr wrapper;
  std::string wrapper_key;  ///< wrapper and core_outer, printed: atoms with one key share a box dim
  Expr core_outer;
  std::map<std::string, int64_t> core_inner;
  int64_t core_constant = 0;
};
using Terms = std::map<std::string, Term>;

/// sum(coef[key] * term(key)) + constant.
struct Form {
  std::map<std::string, int64_t> coef;
  int64_t constant = 0;
};

bool has_load(const Expr& e) {
  if (e->kind == ExprKind::Load) return true;
  return std::any_of(e->args.begin(), e->args.end(), has_load);
}

/// Reads index expressions as linear forms over the block's inner loop variables (see the banner).
class Linearizer {
 public:
  Linearizer(const Scope& scope, Terms& terms) : scope_(scope), terms_(terms) {}

  Expected<Form> run(const Expr& e) {
    if (e->type != i64_type()) return make_error("the index {} is a vector (a vectorized loop)", print(e));
    if (has_load(e)) return make_error("the index {} reads a buffer", print(e));
    return linear(e);
  }

  bool inner_dependent(const Expr& e) const {
    if (e->kind == ExprKind::Var) {
      const Binding* b = find(scope_, e->name);
      return b && (!b->let_value || inner_dependent(b->let_value));
    }
    return std::any_of(e->args.begin(), e->args.end(), [&](const Expr& a) { return inner_dependent(a); });
  }

 private:
  Expected<Form> linear(const Expr& e) {
    if (e->kind == ExprKind::IntImm) return Form{{}, e->int_value};
    if (e->kind == ExprKind::Var) {
      const Binding* b = find(scope_, e->name);
      if (b && b->let_value) return linear(b->let_value);
      terms_[e->name] = Term{b ? TermKind::Inner : TermKind::Outer, e, {}, {}, {}, {}, 0};
      return Form{{{e->name, 1}}, 0};
    }
    bool binary = e->kind == ExprKind::Binary;
    if (binary && (e->op == BinOp::Add || e->op == BinOp::Sub)) {
      TESSEL_ASSIGN(Form a, linear(e->arg(0)));
      TESSEL_ASSIGN(Form b, linear(e->arg(1)));
      int64_t sign = e->op == BinOp::Add ? 1 : -1;
      for (auto& [k, c] : b.coef) a.coef[k] += sign * c;
      a.constant += sign * b.constant;
      return a;
    }
    if (binary && e->op == BinOp::Mul) {
      TESSEL_ASSIGN(Form a, linear(e->arg(0)));
      TESSEL_ASSIGN(Form b, linear(e->arg(1)));
      if (a.coef.empty() || b.coef.empty()) {
        Form& scaled = a.coef.empty() ? b : a;
        int64_t factor = a.coef.empty() ? a.constant : b.constant;
        for (auto& [k, c] : scaled.coef) c *= factor;
        scaled.constant *= factor;
        return scaled;
      }
    }
    if (!inner_dependent(e)) return opaque(e);
    if (binary && (e->op == BinOp::Min || e->op == BinOp::Max)) return atom(e);
    if (binary && e->op == BinOp::Mul)
      return make_error("{} scales a loop variable by a value that is not constant: the footprint is symbolic",
                        print(e));
    return make_error("{} is not affine in the loop variables", print(e));
  }

  /// `e` with the lets bound inside the block replaced by their values: valid where the copy runs.
  Expr expand_lets(const Expr& e) const {
    if (e->kind == ExprKind::Var) {
      const Binding* b = find(scope_, e->name);
      return b && b->let_value ? expand_lets(b->let_value) : e;
    }
    std::vector<Expr> args;
    for (const Expr& a : e->args) args.push_back(expand_lets(a));
    return e->args.empty() ? e : with_args(e, std::move(args));
  }

  Form opaque(const Expr& raw) {
    Expr e = expand_lets(raw);
    std::string key = "@" + print(e);
    terms_[key] = Term{TermKind::Outer, e, {}, {}, {}, {}, 0};
    return Form{{{key, 1}}, 0};
  }

  /// Peels min/max with block-invariant bounds off `e` down to its core; returns the wrapper.
  Expected<Expr> peel(const Expr& e, Expr& core) {
    if (e->kind == ExprKind::Binary && (e->op == BinOp::Min || e->op == BinOp::Max)) {
      bool d0 = inner_dependent(e->arg(0)), d1 = inner_dependent(e->arg(1));
      if (d0 && d1) return make_error("{} takes the {} of two loop-dependent values", print(e), binop_name(e->op));
      size_t dep = d0 ? 0 : 1;
      TESSEL_ASSIGN(Expr inner, peel(e->arg(dep), core));
      std::vector<Expr> args = e->args;
      args[dep] = inner;
      return with_args(e, args);
    }
    core = e;
    return var(kPlaceholder);
  }

  Expected<Form> atom(const Expr& e) {
    Expr core;
    TESSEL_ASSIGN(Expr wrapper, peel(e, core));
    TESSEL_ASSIGN(Form form, linear(core));
    Term t{TermKind::Atom, e, expand_lets(wrapper), {}, int_imm(0), {}, form.constant};
    std::string outer_key;
    for (const auto& [k, c] : form.coef) {
      if (c == 0) continue;
      const Term& term = terms_.at(k);
      if (term.kind == TermKind::Atom) return make_error("{} nests clamped positions", print(e));
      if (term.kind == TermKind::Inner) {
        t.core_inner[k] = c;
        continue;
      }
      t.core_outer = t.core_outer + term.expr * int_imm(c);
      outer_key += fmt::format("{}*{};", c, k);
    }
    t.core_outer = simplify(t.core_outer);
    t.wrapper_key = print(t.wrapper) + " at " + outer_key;
    std::string key = "@" + print(e);
    terms_[key] = t;
    return Form{{{key, 1}}, 0};
  }

  const Scope& scope_;
  Terms& terms_;
};

/// One dim of a load's index: sum(inner[v] * v) + constant, or an atom plus constant. lo/hi: the range of
/// the linear part (of the atom's core for an atom).
struct DimPart {
  std::map<std::string, int64_t> inner;
  int64_t constant = 0;
  std::string atom;
  int64_t lo = 0, hi = 0;
};

/// A load's index: the block-invariant part O and one part per buffer dim.
struct LoadForm {
  std::string outer_key;
  Expr outer;
  std::vector<DimPart> dims;
};

/// Row-major element strides of `shape`; 0 where a symbolic dim makes them symbolic.
std::vector<int64_t> strides_of(const Shape& shape) {
  if (shape.empty()) return {1};
  std::vector<int64_t> s(shape.size(), 0);
  s.back() = 1;
  for (size_t d = shape.size() - 1; d-- > 0;) {
    auto next = shape[d + 1].as_const();
    if (s[d + 1] && next) s[d] = s[d + 1] * *next;
  }
  return s;
}

Expected<Range> range_of(const std::map<std::string, int64_t>& coef, int64_t constant, const Scope& scope) {
  Range r{constant, constant};
  for (const auto& [v, k] : coef) {
    const Binding* b = find(scope, v);
    if (!b->range) return make_error("the footprint is symbolic: loop '{}' runs {} times", v, b->extent);
    int64_t a = k * b->range->lo, z = k * b->range->hi;
    r.lo += std::min(a, z);
    r.hi += std::max(a, z);
  }
  return r;
}

Expected<LoadForm> load_form(const Expr& load, const Scope& scope, const std::vector<int64_t>& strides, Terms& terms) {
  Linearizer lin(scope, terms);
  TESSEL_ASSIGN(Form form, lin.run(load->arg(0)));
  LoadForm out;
  out.outer = int_imm(0);
  out.dims.resize(strides.size());
  auto dim_of = [&](int64_t c) {
    for (size_t d = 0; d < strides.size(); ++d)
      if (strides[d] > 0 && c % strides[d] == 0) return d;
    return strides.size() - 1;
  };
  for (const auto& [key, c] : form.coef) {
    if (c == 0) continue;
    const Term& t = terms.at(key);
    if (t.kind == TermKind::Outer) {
      out.outer = out.outer + t.expr * int_imm(c);
      out.outer_key += fmt::format("{}*{};", c, key);
      continue;
    }
    size_t d = dim_of(c);
    int64_t k = c / strides[d];
    DimPart& part = out.dims[d];
    if (t.kind == TermKind::Inner) {
      part.inner[key] += k;
      continue;
    }
    if (k != 1 || !part.atom.empty())
      return make_error("the index {} scales or adds clamped positions", print(load->arg(0)));
    part.atom = key;
  }
  int64_t rest = form.constant;
  for (size_t d = 0; d < strides.size(); ++d) {
    if (strides[d] <= 0) continue;
    out.dims[d].constant += rest / strides[d];
    rest %= strides[d];
  }
  for (DimPart& part : out.dims) {
    if (!part.atom.empty() && !part.inner.empty())
      return make_error("the index {} adds loop variables to a clamped position", print(load->arg(0)));
    const Term* t = part.atom.empty() ? nullptr : &terms.at(part.atom);
    TESSEL_ASSIGN(Range r, t ? range_of(t->core_inner, t->core_constant, scope) : range_of(part.inner, 0, scope));
    part.lo = r.lo + (t ? 0 : part.constant);
    part.hi = r.hi + (t ? 0 : part.constant);
  }
  out.outer = simplify(out.outer);
  return out;
}

/// The range of a footprint dim while the loads are combined; atom dims also collect their constants.
struct DimRange {
  const Term* atom = nullptr;
  int64_t lo = kHuge, hi = -kHuge, clo = kHuge, chi = -kHuge;
};

Expected<Footprint> combine(const std::vector<LoadForm>& loads, const Terms& terms, std::vector<int64_t> strides) {
  Footprint fp;
  fp.outer = loads[0].outer;
  fp.strides = std::move(strides);
  fp.dims.resize(fp.strides.size());
  std::vector<DimRange> ranges(fp.strides.size());
  for (const LoadForm& l : loads) {
    if (l.outer_key != loads[0].outer_key)
      return make_error("two of its loads in one block have different origins ({} and {})", print(loads[0].outer),
                        print(l.outer));
    for (size_t d = 0; d < fp.dims.size(); ++d) {
      DimRange& box = ranges[d];
      const DimPart& part = l.dims[d];
      const Term* atom = part.atom.empty() ? nullptr : &terms.at(part.atom);
      if (&l != &loads[0] && (atom == nullptr) != (box.atom == nullptr))
        return make_error("its loads read dim {} both at clamped positions and directly", d);
      if (atom && box.atom && atom->wrapper_key != box.atom->wrapper_key)
        return make_error("its loads clamp dim {} differently ({} and {})", d, print(box.atom->expr),
                          print(atom->expr));
      box.atom = atom;
      box.lo = std::min(box.lo, part.lo);
      box.hi = std::max(box.hi, part.hi);
      box.clo = std::min(box.clo, part.constant);
      box.chi = std::max(box.chi, part.constant);
    }
  }
  for (size_t d = 0; d < fp.dims.size(); ++d) {
    const DimRange& r = ranges[d];
    BoxDim& box = fp.dims[d];
    if (r.atom) {
      box.extent = r.hi - r.lo + r.chi - r.clo + 1;
      box.origin =
          simplify(substitute(r.atom->wrapper, kPlaceholder, r.atom->core_outer + int_imm(r.lo)) + int_imm(r.clo));
    } else {
      box.extent = r.hi - r.lo + 1;
      box.origin = int_imm(r.lo);
    }
    fp.elements = static_cast<int64_t>(std::min<__int128>(kHuge, static_cast<__int128>(fp.elements) * box.extent));
  }
  return fp;
}

/// The copy's index of the element a load (of form `l`) reads.
Expr rebased_index(const Footprint& fp, const LoadForm& l, const Terms& terms) {
  Expr index = int_imm(0), stride = int_imm(1);
  for (size_t d = fp.dims.size(); d-- > 0;) {
    const BoxDim& box = fp.dims[d];
    const DimPart& part = l.dims[d];
    Expr value = int_imm(part.constant);
    if (!part.atom.empty()) value = value + terms.at(part.atom).expr;
    for (const auto& [v, k] : part.inner) value = value + var(v) * int_imm(k);
    index = index + (value - box.origin) * stride;
    stride = stride * int_imm(box.extent);
  }
  return simplify(index);
}

int64_t count_loads(const Expr& e, const std::string& buffer) {
  int64_t n = e->kind == ExprKind::Load && e->name == buffer ? 1 : 0;
  for (const Expr& a : e->args) n += count_loads(a, buffer);
  return n;
}

/// The loads of `buffer` that one run of `s` makes: the larger branch of an if (the edge copies of a nest
/// are alternatives), loops times their constant extents.
int64_t count_loads(const Stmt& s, const std::string& buffer) {
  int64_t n = 0;
  for (const Expr& e : s->exprs) n += count_loads(e, buffer);
  std::vector<int64_t> body;
  for (const Stmt& b : s->body) body.push_back(b ? count_loads(b, buffer) : 0);
  if (s->kind == StmtKind::If) return std::min(kHuge, n + *std::max_element(body.begin(), body.end()));
  for (int64_t b : body) n = std::min(kHuge, n + b);
  if (s->kind != StmtKind::For || n == 0) return n;
  const int64_t* extent = as_int_const(s->expr(1));
  if (!extent) return kHuge;
  return static_cast<int64_t>(std::min<__int128>(kHuge, static_cast<__int128>(n) * std::max<int64_t>(*extent, 0)));
}

/// Rebuilds a statement, handing every load of the named buffers to a callback with the bindings of the
/// loops and lets around it.
class Walker {
 public:
  using OnLoad = std::function<Expected<Expr>(const Expr& load, const Scope& scope)>;
  Walker(std::set<std::string> buffers, OnLoad on_load) : buffers_(std::move(buffers)), on_load_(std::move(on_load)) {}

  Expected<Stmt> run(const Stmt& s) {
    Stmt out = stmt(s);
    if (error_) return *error_;
    return out;
  }

 private:
  Expr expr(const Expr& e) {
    std::vector<Expr> args;
    bool changed = false;
    for (const Expr& a : e->args) {
      args.push_back(expr(a));
      changed |= args.back() != a;
    }
    Expr out = changed ? with_args(e, std::move(args)) : e;
    if (error_ || out->kind != ExprKind::Load || !buffers_.count(out->name)) return out;
    auto replaced = on_load_(out, scope_);
    if (!replaced) {
      error_ = replaced.error();
      return out;
    }
    return *replaced;
  }

  Stmt stmt(const Stmt& s) {
    std::vector<Expr> exprs;
    for (const Expr& e : s->exprs) exprs.push_back(expr(e));
    size_t depth = scope_.size();
    if (s->kind == StmtKind::For) {
      const int64_t *min = as_int_const(exprs[0]), *extent = as_int_const(exprs[1]);
      Binding b{s->name, std::nullopt, print(exprs[1]), nullptr};
      if (min && extent) b.range = Range{*min, *min + std::max<int64_t>(*extent, 1) - 1};
      scope_.push_back(b);
    } else if (s->kind == StmtKind::Let) {
      scope_.push_back(Binding{s->name, std::nullopt, "", exprs[0]});
    }
    std::vector<Stmt> body;
    for (const Stmt& b : s->body) body.push_back(b ? stmt(b) : b);
    scope_.resize(depth);
    return with_parts(s, std::move(exprs), std::move(body));
  }

  std::set<std::string> buffers_;
  OnLoad on_load_;
  Scope scope_;
  std::optional<Error> error_;
};

}  // namespace

Expected<std::optional<Footprint>> footprint_of(const Stmt& body, const Buffer& b) {
  std::vector<LoadForm> loads;
  Terms terms;
  std::vector<int64_t> strides = strides_of(b.shape);
  Walker walker({b.name}, [&](const Expr& load, const Scope& scope) -> Expected<Expr> {
    TESSEL_ASSIGN(LoadForm form, load_form(load, scope, strides, terms));
    loads.push_back(std::move(form));
    return load;
  });
  TESSEL_TRY(walker.run(body));
  if (loads.empty()) return std::optional<Footprint>();
  TESSEL_ASSIGN(Footprint fp, combine(loads, terms, strides));
  fp.loads = count_loads(body, b.name);
  return std::optional<Footprint>(std::move(fp));
}

Expected<Stmt> rebase_loads(const Stmt& body, const std::vector<Staged>& staged) {
  std::set<std::string> names;
  for (const Staged& s : staged) names.insert(s.buffer->name);
  Walker rewrite(names, [&](const Expr& l, const Scope& scope) -> Expected<Expr> {
    auto s = std::find_if(staged.begin(), staged.end(), [&](const Staged& x) { return x.buffer->name == l->name; });
    Terms terms;
    TESSEL_ASSIGN(LoadForm form, load_form(l, scope, s->fp.strides, terms));
    return load(s->shared, s->buffer->dtype, rebased_index(s->fp, form, terms));
  });
  return rewrite.run(body);
}

namespace {

/// Saturates at +-kHuge: unbounded stays unbounded.
int64_t saturate(__int128 v) { return static_cast<int64_t>(std::max<__int128>(-kHuge, std::min<__int128>(kHuge, v))); }

}  // namespace

std::optional<Range> interval(const Expr& e, const Ranges& ranges) {
  if (e->kind == ExprKind::IntImm) return Range{e->int_value, e->int_value};
  if (e->kind == ExprKind::Var) {
    auto it = ranges.find(e->name);
    return it == ranges.end() ? std::nullopt : std::optional<Range>(it->second);
  }
  if (e->kind != ExprKind::Binary || e->type != i64_type()) return std::nullopt;
  auto a = interval(e->arg(0), ranges), b = interval(e->arg(1), ranges);
  if (!a || !b) return std::nullopt;
  using I = __int128;
  switch (e->op) {
    case BinOp::Add: return Range{saturate(I{a->lo} + b->lo), saturate(I{a->hi} + b->hi)};
    case BinOp::Sub: return Range{saturate(I{a->lo} - b->hi), saturate(I{a->hi} - b->lo)};
    case BinOp::Min: return Range{std::min(a->lo, b->lo), std::min(a->hi, b->hi)};
    case BinOp::Max: return Range{std::max(a->lo, b->lo), std::max(a->hi, b->hi)};
    case BinOp::Mul: {
      I c[] = {I{a->lo} * b->lo, I{a->lo} * b->hi, I{a->hi} * b->lo, I{a->hi} * b->hi};
      return Range{saturate(*std::min_element(c, c + 4)), saturate(*std::max_element(c, c + 4))};
    }
    case BinOp::Div:
      // Truncation is monotone; an unbounded end stays unbounded.
      if (b->lo > 0 && b->lo == b->hi)
        return Range{a->lo <= -kHuge ? -kHuge : a->lo / b->lo, a->hi >= kHuge ? kHuge : a->hi / b->lo};
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace tessel::shared
