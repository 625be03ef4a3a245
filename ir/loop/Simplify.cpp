// Substitution and the simplifier. Rules are applied bottom-up, once per node: constant folding through
// the evaluator's lane semantics (so folding never changes a result), integer identities, vector
// algebra that turns "broadcast(b) + ramp(0, 1, L)" into "ramp(b, 1, L)" (so codegen sees dense
// accesses), and statement cleanup (dead and one-trip loops, constant conditions, trivial lets).
#include "ir/loop/Evaluator.h"
#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

bool is_imm(const Expr& e) { return e->kind == ExprKind::IntImm || e->kind == ExprKind::FloatImm; }
bool is_int_type(const Type& t) { return is_integer(t.elem); }

Expr simplify_binary(BinOp op, const Expr& a, const Expr& b) {
  Type t = a->type;
  // Vector algebra first: results keep their lanes.
  auto is_ramp = [](const Expr& e) { return e->kind == ExprKind::Ramp; };
  auto is_bcast = [](const Expr& e) { return e->kind == ExprKind::Broadcast; };
  if (is_bcast(a) && is_bcast(b)) return broadcast(simplify_binary(op, a->arg(0), b->arg(0)), t.lanes);
  if (is_int_type(t)) {
    int lanes = t.lanes;
    if (op == BinOp::Add && is_ramp(a) && is_bcast(b))
      return ramp(simplify_binary(BinOp::Add, a->arg(0), b->arg(0)), a->arg(1), lanes);
    if (op == BinOp::Add && is_bcast(a) && is_ramp(b))
      return ramp(simplify_binary(BinOp::Add, a->arg(0), b->arg(0)), b->arg(1), lanes);
    if (op == BinOp::Sub && is_ramp(a) && is_bcast(b))
      return ramp(simplify_binary(BinOp::Sub, a->arg(0), b->arg(0)), a->arg(1), lanes);
    if (op == BinOp::Add && is_ramp(a) && is_ramp(b))
      return ramp(simplify_binary(BinOp::Add, a->arg(0), b->arg(0)), simplify_binary(BinOp::Add, a->arg(1), b->arg(1)),
                  lanes);
    if (op == BinOp::Mul && is_ramp(a) && is_bcast(b))
      return ramp(simplify_binary(BinOp::Mul, a->arg(0), b->arg(0)), simplify_binary(BinOp::Mul, a->arg(1), b->arg(0)),
                  lanes);
    if (op == BinOp::Mul && is_bcast(a) && is_ramp(b)) return simplify_binary(BinOp::Mul, b, a);
  }
  Expr e = binary(op, a, b);
  if (auto folded = fold_constant(e)) return *folded;
  if (t.elem == DType::Bool && (op == BinOp::And || op == BinOp::Or)) {
    // true && x -> x, false || x -> x; false && x -> false, true || x -> true.
    int64_t unit = op == BinOp::And ? 1 : 0;
    if (is_const_int(a, unit)) return b;
    if (is_const_int(b, unit)) return a;
    if (is_const_int(a, 1 - unit)) return a;
    if (is_const_int(b, 1 - unit)) return b;
    return e;
  }
  if (!is_int_type(t)) {
    if (op == BinOp::Mul && t.elem != DType::Bool) {
      if (b->kind == ExprKind::FloatImm && b->float_value == 1) return a;
      if (a->kind == ExprKind::FloatImm && a->float_value == 1) return b;
    }
    return e;
  }
  switch (op) {
    case BinOp::Add:
      if (is_const_int(b, 0)) return a;
      if (is_const_int(a, 0)) return b;
      if (is_imm(a)) return simplify_binary(BinOp::Add, b, a);  // constants to the right
      // (x + c1) + c2 -> x + (c1 + c2)
      if (is_imm(b) && a->kind == ExprKind::Binary && a->op == BinOp::Add && is_imm(a->arg(1)))
        return simplify_binary(BinOp::Add, a->arg(0), simplify_binary(BinOp::Add, a->arg(1), b));
      return e;
    case BinOp::Sub:
      if (is_const_int(b, 0)) return a;
      return e;
    case BinOp::Mul:
      if (is_const_int(b, 1)) return a;
      if (is_const_int(a, 1)) return b;
      if (is_const_int(a, 0) || is_const_int(b, 0)) return is_const_int(a, 0) ? a : b;
      if (is_imm(a)) return simplify_binary(BinOp::Mul, b, a);
      return e;
    case BinOp::Div:
      if (is_const_int(b, 1)) return a;
      return e;
    case BinOp::Mod:
      if (is_const_int(b, 1)) return t.lanes == 1 ? int_imm(0, t.elem) : broadcast(int_imm(0, t.elem), t.lanes);
      return e;
    default: return e;
  }
}

}  // namespace

Expr with_args(const Expr& e, std::vector<Expr> args) {
  switch (e->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var: return e;
    case ExprKind::Binary: return binary(e->op, args[0], args[1]);
    case ExprKind::Select: return select(args[0], args[1], args[2]);
    case ExprKind::Cast: return cast(e->type.with_lanes(args[0]->type.lanes), args[0]);
    case ExprKind::Reinterpret: return reinterpret(e->type.with_lanes(args[0]->type.lanes), args[0]);
    case ExprKind::Load: return load(e->name, e->type.elem, args[0]);
    case ExprKind::Ramp: return ramp(args[0], args[1], static_cast<int>(e->int_value));
    case ExprKind::Broadcast: return broadcast(args[0], static_cast<int>(e->int_value));
    case ExprKind::Call: return call(e->fn, std::move(args));
  }
  return e;
}

Expr substitute(const Expr& e, const std::string& name, const Expr& value) {
  if (e->kind == ExprKind::Var) return e->name == name ? value : e;
  if (e->args.empty()) return e;
  std::vector<Expr> args;
  bool changed = false;
  for (const Expr& a : e->args) {
    args.push_back(substitute(a, name, value));
    changed |= args.back() != a;
  }
  return changed ? with_args(e, std::move(args)) : e;
}

bool depends_on(const Expr& e, const std::string& name) {
  if (e->kind == ExprKind::Var) return e->name == name;
  for (const Expr& a : e->args)
    if (depends_on(a, name)) return true;
  return false;
}

Stmt substitute(const Stmt& s, const std::string& name, const Expr& value) {
  std::vector<Expr> exprs;
  for (const Expr& e : s->exprs) exprs.push_back(substitute(e, name, value));
  // A loop or let that rebinds `name` shadows it in its body.
  bool shadows = (s->kind == StmtKind::For || s->kind == StmtKind::Let) && s->name == name;
  std::vector<Stmt> body;
  for (const Stmt& b : s->body) body.push_back(shadows ? b : substitute(b, name, value));
  return with_parts(s, std::move(exprs), std::move(body));
}

Stmt with_parts(const Stmt& s, std::vector<Expr> exprs, std::vector<Stmt> body) {
  switch (s->kind) {
    case StmtKind::For: return for_loop(s->name, exprs[0], exprs[1], s->for_kind, body[0]);
    case StmtKind::Store: return store(s->name, exprs[0], exprs[1]);
    case StmtKind::Let: return let_stmt(s->name, exprs[0], body[0]);
    case StmtKind::Block: return block(std::move(body));
    case StmtKind::If: return if_then_else(exprs[0], body[0], body.size() > 1 ? body[1] : nullptr);
    case StmtKind::Allocate: return allocate(s->name, s->elem, exprs[0], s->memory, body[0]);
    case StmtKind::Prefetch: return prefetch(s->name, exprs[0]);
  }
  return s;
}

Expr simplify(const Expr& e) {
  if (e->args.empty()) return e;
  std::vector<Expr> args;
  for (const Expr& a : e->args) args.push_back(simplify(a));
  switch (e->kind) {
    case ExprKind::Binary: return simplify_binary(e->op, args[0], args[1]);
    case ExprKind::Select:
      if (const int64_t* c = as_int_const(args[0])) return *c ? args[1] : args[2];
      break;
    case ExprKind::Cast:
      if (args[0]->type == e->type) return args[0];
      break;
    case ExprKind::Reinterpret: {
      if (args[0]->type == e->type) return args[0];
      // Bits through bits: only a bool in the middle changes them (to 0/1).
      const Expr& inner = args[0];
      if (inner->kind == ExprKind::Reinterpret && inner->type.elem != DType::Bool) {
        if (inner->arg(0)->type == e->type) return inner->arg(0);
        return simplify(reinterpret(e->type, inner->arg(0)));
      }
      if (inner->kind == ExprKind::Broadcast)  // keeps the broadcast outermost, where vector algebra sees it
        return broadcast(simplify(reinterpret(e->type.element_of(), inner->arg(0))), e->type.lanes);
      break;
    }
    case ExprKind::Ramp:
      if (is_const_int(args[1], 0)) return broadcast(args[0], static_cast<int>(e->int_value));
      break;
    default: break;
  }
  Expr rebuilt = with_args(e, std::move(args));
  if (auto folded = fold_constant(rebuilt)) return *folded;
  return rebuilt;
}

bool is_no_op(const Stmt& s) { return s->kind == StmtKind::Block && s->body.empty(); }

Stmt simplify(const Stmt& s) {
  std::vector<Expr> exprs;
  for (const Expr& e : s->exprs) exprs.push_back(simplify(e));
  switch (s->kind) {
    case StmtKind::For: {
      const int64_t* extent = as_int_const(exprs[1]);
      if (extent && *extent <= 0) return block({});
      bool gpu = s->for_kind == ForKind::GpuBlock || s->for_kind == ForKind::GpuThread;
      if (extent && *extent == 1 && !gpu) return simplify(substitute(s->body[0], s->name, exprs[0]));
      Stmt body = simplify(s->body[0]);
      if (is_no_op(body)) return body;
      return for_loop(s->name, exprs[0], exprs[1], s->for_kind, body);
    }
    case StmtKind::Store: return store(s->name, exprs[0], exprs[1]);
    case StmtKind::Prefetch: return prefetch(s->name, exprs[0]);
    case StmtKind::Let:
      if (exprs[0]->kind == ExprKind::IntImm || exprs[0]->kind == ExprKind::FloatImm || exprs[0]->kind == ExprKind::Var)
        return simplify(substitute(s->body[0], s->name, exprs[0]));
      return let_stmt(s->name, exprs[0], simplify(s->body[0]));
    case StmtKind::Block: {
      std::vector<Stmt> body;
      for (const Stmt& b : s->body) body.push_back(simplify(b));
      return block(std::move(body));
    }
    case StmtKind::If: {
      if (const int64_t* c = as_int_const(exprs[0])) {
        if (*c) return simplify(s->body[0]);
        return s->body.size() > 1 ? simplify(s->body[1]) : block({});
      }
      Stmt then_case = simplify(s->body[0]);
      Stmt else_case = s->body.size() > 1 ? simplify(s->body[1]) : nullptr;
      if (else_case && is_no_op(else_case)) else_case = nullptr;
      if (is_no_op(then_case) && !else_case) return then_case;
      return if_then_else(exprs[0], then_case, else_case);
    }
    case StmtKind::Allocate: {
      Stmt body = simplify(s->body[0]);
      if (is_no_op(body)) return body;
      return allocate(s->name, s->elem, exprs[0], s->memory, body);
    }
  }
  return s;
}

Kernel simplify(Kernel kernel) {
  if (kernel.body) kernel.body = simplify(kernel.body);
  return kernel;
}

}  // namespace tessel::loop
