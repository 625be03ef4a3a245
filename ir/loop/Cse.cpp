// Common-subexpression elimination on loop IR (in the spirit of Halide's CSE): inlining producers into
// their consumers copies expressions, so one store may compute the same index arithmetic or read the
// same element many times. For each store (index and value together), if condition and let value, the
// expressions are value-numbered (structurally equal subtrees get one number), each non-trivial one
// that would still be computed more than once is bound by a `let` wrapped right around the statement
// (children before parents, so nested lets see their operands), and its occurrences read the variable.
//
// Safety: a let evaluates its value unconditionally, and a load may be out of bounds (an error) where a
// select does not choose it. So a subexpression is bound only if every load in it is also evaluated
// whatever the selects choose (reachable without passing through a select arm); loads under a select
// guard alone, and what holds them, stay where they are. Nothing crosses a statement, so the branches of
// an `if` are never hoisted.
// Ramps and broadcasts themselves are never bound (their operands may be): codegen recognizes dense and
// strided accesses by a ramp index, which must stay visible.
#include <algorithm>
#include <bit>
#include <functional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

/// What identifies an expression up to its operands' value numbers.
struct Key {
  ExprKind kind;
  Type type;
  int64_t int_value;
  uint64_t float_bits;  // bits, so that NaN equals itself and -0 differs from +0
  std::string name;
  BinOp op;
  Intrinsic fn;
  std::vector<int> args;

  bool operator==(const Key& o) const {
    return kind == o.kind && type == o.type && int_value == o.int_value && float_bits == o.float_bits &&
           name == o.name && op == o.op && fn == o.fn && args == o.args;
  }
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = std::hash<std::string>()(k.name);
    auto mix = [&h](uint64_t v) { h ^= std::hash<uint64_t>()(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    mix(static_cast<uint64_t>(k.kind));
    mix(static_cast<uint64_t>(k.type.elem));
    mix(static_cast<uint64_t>(k.type.lanes));
    mix(static_cast<uint64_t>(k.int_value));
    mix(k.float_bits);
    mix(static_cast<uint64_t>(k.op));
    mix(static_cast<uint64_t>(k.fn));
    for (int a : k.args) mix(static_cast<uint64_t>(a));
    return h;
  }
};

/// One value number: a representative expression and its operands' numbers.
struct Value {
  Expr expr;
  std::vector<int> args;
  bool unsafe = false;     // holds a load that only a select arm evaluates
  bool unguarded = false;  // some occurrence is evaluated whatever the selects choose
  int64_t uses = 0;        // occurrences left after the binding decisions of its users
  bool bound = false;
};

constexpr int64_t kMany = int64_t{1} << 40;

bool is_trivial(const Expr& e) {
  switch (e->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var:
    case ExprKind::Ramp:
    case ExprKind::Broadcast: return true;
    default: return false;
  }
}

/// Value numbering and binding for the expressions of one statement.
class StatementCse {
 public:
  explicit StatementCse(std::function<std::string()> fresh_name) : fresh_name_(std::move(fresh_name)) {}

  /// Rewrites `exprs` to read let variables; returns the lets to wrap around the statement, outermost first.
  std::vector<std::pair<std::string, Expr>> run(std::vector<Expr>& exprs) {
    std::vector<int> roots;
    for (const Expr& e : exprs) roots.push_back(number(e));
    for (int r : roots) mark_unguarded(r);
    for (Value& v : values_) {  // operands first: numbers increase from operands to users
      v.unsafe = v.expr->kind == ExprKind::Load && !v.unguarded;
      for (int a : v.args) v.unsafe |= values_[a].unsafe;
    }
    decide(roots);
    std::vector<std::pair<std::string, Expr>> lets;
    for (size_t n = 0; n < values_.size(); ++n) {
      if (!values_[n].bound) continue;
      names_[static_cast<int>(n)] = fresh_name_();
      lets.emplace_back(names_[static_cast<int>(n)], rebuild(static_cast<int>(n), true));
    }
    if (lets.empty()) return lets;
    for (size_t i = 0; i < exprs.size(); ++i) exprs[i] = rebuild(roots[i], false);
    return lets;
  }

 private:
  int number(const Expr& e) {
    auto seen = by_pointer_.find(e.get());
    if (seen != by_pointer_.end()) return seen->second;
    Key key{e->kind, e->type, e->int_value, std::bit_cast<uint64_t>(e->float_value), e->name, e->op, e->fn, {}};
    for (const Expr& a : e->args) key.args.push_back(number(a));
    auto [it, inserted] = by_key_.emplace(std::move(key), static_cast<int>(values_.size()));
    if (inserted) values_.push_back(Value{e, it->first.args});
    by_pointer_.emplace(e.get(), it->second);
    return it->second;
  }

  // A select evaluates its condition always and its arms only as chosen (for what may trap).
  void mark_unguarded(int n) {
    Value& v = values_[n];
    if (v.unguarded) return;
    v.unguarded = true;
    if (v.expr->kind == ExprKind::Select) {
      mark_unguarded(v.args[0]);
      return;
    }
    for (int a : v.args) mark_unguarded(a);
  }

  // Operands are numbered before their users, so descending numbers visit each value after all its users:
  // a bound value is computed once, any other as often as its users are.
  void decide(const std::vector<int>& roots) {
    for (int r : roots) values_[r].uses += 1;
    for (size_t i = values_.size(); i-- > 0;) {
      Value& v = values_[i];
      if (v.uses == 0) continue;
      v.bound = v.uses > 1 && !is_trivial(v.expr) && !v.unsafe;
      int64_t times = v.bound ? 1 : v.uses;
      // Counts multiply along unbound paths of a shared DAG; "many" is all that matters.
      for (int a : v.args) values_[a].uses = std::min(values_[a].uses + times, kMany);
    }
  }

  Expr rebuild(int n, bool as_value) {
    const Value& v = values_[n];
    if (v.bound && !as_value) return var(names_.at(n), v.expr->type);
    if (!as_value) {
      auto done = rebuilt_.find(n);
      if (done != rebuilt_.end()) return done->second;
    }
    std::vector<Expr> args;
    bool changed = false;
    for (size_t i = 0; i < v.args.size(); ++i) {
      args.push_back(rebuild(v.args[i], false));
      changed |= args.back() != v.expr->args[i];
    }
    Expr e = changed ? with_args(v.expr, std::move(args)) : v.expr;
    if (!as_value) rebuilt_.emplace(n, e);
    return e;
  }

  std::function<std::string()> fresh_name_;
  std::unordered_map<const ExprNode*, int> by_pointer_;
  std::unordered_map<Key, int, KeyHash> by_key_;
  std::vector<Value> values_;
  std::unordered_map<int, std::string> names_;
  std::unordered_map<int, Expr> rebuilt_;
};

void collect_names(const Expr& e, std::set<std::string>& names) {
  if (!e->name.empty()) names.insert(e->name);
  for (const Expr& a : e->args) collect_names(a, names);
}

void collect_names(const Stmt& s, std::set<std::string>& names) {
  if (!s) return;
  if (!s->name.empty()) names.insert(s->name);
  for (const Expr& e : s->exprs) collect_names(e, names);
  for (const Stmt& b : s->body) collect_names(b, names);
}

class Cse {
 public:
  explicit Cse(std::set<std::string> taken) : taken_(std::move(taken)) {}

  Stmt stmt(const Stmt& s) {
    if (!s) return s;
    std::vector<Expr> exprs = s->exprs;
    std::vector<std::pair<std::string, Expr>> lets;
    if (s->kind == StmtKind::Store || s->kind == StmtKind::If || s->kind == StmtKind::Let ||
        s->kind == StmtKind::Prefetch) {
      StatementCse cse([this] { return fresh_name(); });
      lets = cse.run(exprs);
    }
    std::vector<Stmt> body;
    bool changed = false;
    for (const Stmt& b : s->body) {
      body.push_back(stmt(b));
      changed |= body.back() != b;
    }
    if (!changed && lets.empty()) return s;
    Stmt result = with_parts(s, std::move(exprs), std::move(body));
    for (size_t i = lets.size(); i-- > 0;) result = let_stmt(lets[i].first, lets[i].second, result);
    return result;
  }

 private:
  std::string fresh_name() {
    std::string name;
    do {
      name = fmt::format("cse{}", next_++);
    } while (taken_.count(name));
    return name;
  }

  std::set<std::string> taken_;
  int next_ = 0;
};

}  // namespace

Stmt cse(const Stmt& s) {
  std::set<std::string> taken;
  collect_names(s, taken);
  return Cse(std::move(taken)).stmt(s);
}

}  // namespace tessel::loop
