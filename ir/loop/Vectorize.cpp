// Vectorization of `vectorized` loops (Halide's VectorizeLoops, reduced to straight-line bodies): the
// loop variable becomes a ramp, operations whose operands became vectors are rebuilt on vectors with
// their scalar operands broadcast, loads and stores at vector indices become vector (dense or gather)
// accesses. What cannot be widened leaves the loop as it was.
#include <optional>
#include <set>

#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

class Widener {
 public:
  Widener(std::string var, Expr min, int lanes) : var_(std::move(var)), min_(std::move(min)), lanes_(lanes) {}

  std::optional<Expr> expr(const Expr& e) {
    switch (e->kind) {
      case ExprKind::IntImm:
      case ExprKind::FloatImm: return e;
      case ExprKind::Var:
        if (e->name == var_) return ramp(min_, int_imm(1), lanes_);
        if (vector_vars_.count(e->name)) return var(e->name, e->type.with_lanes(lanes_));
        return e;
      case ExprKind::Ramp:
      case ExprKind::Broadcast: {
        for (const Expr& a : e->args) {
          auto w = expr(a);
          if (!w || (*w)->type.is_vector()) return std::nullopt;  // no vectors of vectors
        }
        return e;
      }
      default: break;
    }
    std::vector<Expr> args;
    bool any_vector = false;
    for (const Expr& a : e->args) {
      auto w = expr(a);
      if (!w) return std::nullopt;
      any_vector |= (*w)->type.is_vector();
      args.push_back(*w);
    }
    if (!any_vector) return e;
    for (Expr& a : args)
      if (!a->type.is_vector()) a = broadcast(a, lanes_);
    return with_args(e, std::move(args));
  }

  std::optional<Stmt> stmt(const Stmt& s) {
    switch (s->kind) {
      case StmtKind::Store: {
        auto index = expr(s->expr(0));
        auto value = expr(s->expr(1));
        if (!index || !value) return std::nullopt;
        if (!(*index)->type.is_vector()) {
          // Every iteration writes the same element; only a loop-invariant value makes that one store.
          if ((*value)->type.is_vector()) return std::nullopt;
          return store(s->name, *index, *value);
        }
        Expr v = (*value)->type.is_vector() ? *value : broadcast(*value, lanes_);
        return store(s->name, *index, v);
      }
      case StmtKind::Let: {
        auto value = expr(s->expr(0));
        if (!value) return std::nullopt;
        bool was_vector = vector_vars_.count(s->name) > 0;
        if ((*value)->type.is_vector())
          vector_vars_.insert(s->name);
        else
          vector_vars_.erase(s->name);
        auto body = stmt(s->body[0]);
        if (was_vector)
          vector_vars_.insert(s->name);
        else
          vector_vars_.erase(s->name);
        if (!body) return std::nullopt;
        return let_stmt(s->name, *value, *body);
      }
      case StmtKind::Block: {
        std::vector<Stmt> body;
        for (const Stmt& b : s->body) {
          auto w = stmt(b);
          if (!w) return std::nullopt;
          body.push_back(*w);
        }
        return block(std::move(body));
      }
      case StmtKind::If: {
        auto cond = expr(s->expr(0));
        if (!cond || (*cond)->type.is_vector()) return std::nullopt;
        auto then_case = stmt(s->body[0]);
        if (!then_case) return std::nullopt;
        Stmt else_case;
        if (s->body.size() > 1) {
          auto w = stmt(s->body[1]);
          if (!w) return std::nullopt;
          else_case = *w;
        }
        return if_then_else(*cond, *then_case, else_case);
      }
      case StmtKind::Prefetch: {
        // The vector's elements share a line or a few; the first lane's stands for them.
        auto index = expr(s->expr(0));
        if (!index) return std::nullopt;
        if (!(*index)->type.is_vector()) return s;
        Expr first = substitute(s->expr(0), var_, min_);
        auto scalar = expr(first);
        if (!scalar || (*scalar)->type.is_vector()) return std::nullopt;
        return prefetch(s->name, first);
      }
      default: return std::nullopt;  // nested loops and allocations stay scalar
    }
  }

 private:
  std::string var_;
  Expr min_;
  int lanes_;
  std::set<std::string> vector_vars_;
};

}  // namespace

Stmt vectorize_loops(const Stmt& s) {
  std::vector<Stmt> body;
  for (const Stmt& b : s->body) body.push_back(vectorize_loops(b));
  switch (s->kind) {
    case StmtKind::For: {
      const int64_t* extent = as_int_const(s->expr(1));
      if (s->for_kind == ForKind::Vectorized && extent && *extent >= 2 && *extent <= 1024) {
        Widener widener(s->name, s->expr(0), static_cast<int>(*extent));
        if (auto widened = widener.stmt(body[0])) return *widened;
      }
      return for_loop(s->name, s->expr(0), s->expr(1), s->for_kind, body[0]);
    }
    case StmtKind::Let: return let_stmt(s->name, s->expr(0), body[0]);
    case StmtKind::Block: return block(std::move(body));
    case StmtKind::If: return if_then_else(s->expr(0), body[0], body.size() > 1 ? body[1] : nullptr);
    case StmtKind::Allocate: return allocate(s->name, s->elem, s->expr(0), s->memory, body[0]);
    case StmtKind::Store:
    case StmtKind::Prefetch: return s;
  }
  return s;
}

}  // namespace tessel::loop
