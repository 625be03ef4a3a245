// Constructors and small queries of the loop IR nodes.
#include "ir/loop/LoopIR.h"

#include <algorithm>
#include <cassert>
#include <set>

#include <fmt/format.h>

#include "ir/Half.h"

namespace tessel::loop {
namespace {

std::shared_ptr<ExprNode> make(ExprKind kind, Type type, std::vector<Expr> args = {}) {
  auto node = std::make_shared<ExprNode>();
  node->kind = kind;
  node->type = type;
  node->args = std::move(args);
  return node;
}

std::shared_ptr<StmtNode> make_stmt(StmtKind kind, std::string name, std::vector<Expr> exprs, std::vector<Stmt> body) {
  auto node = std::make_shared<StmtNode>();
  node->kind = kind;
  node->name = std::move(name);
  node->exprs = std::move(exprs);
  node->body = std::move(body);
  return node;
}

}  // namespace

std::string Type::str() const {
  std::string base(dtype_name(elem));
  return lanes == 1 ? base : fmt::format("{}x{}", base, lanes);
}

Expr int_imm(int64_t value, DType dtype) {
  auto e = make(ExprKind::IntImm, Type{dtype, 1});
  e->int_value = dtype == DType::Bool ? (value != 0) : value;
  return e;
}

Expr float_imm(double value, DType dtype) {
  auto e = make(ExprKind::FloatImm, Type{dtype, 1});
  // Immediates hold values of their dtype, so that folding and evaluation see what codegen emits.
  if (dtype == DType::F32) value = static_cast<float>(value);
  if (dtype == DType::F16) value = half_to_float(float_to_half(static_cast<float>(value)));
  if (dtype == DType::BF16) value = bf16_to_float(float_to_bf16(static_cast<float>(value)));
  e->float_value = value;
  return e;
}

Expr bool_imm(bool value) { return int_imm(value ? 1 : 0, DType::Bool); }

Expr var(std::string name, Type type) {
  auto e = make(ExprKind::Var, type);
  e->name = std::move(name);
  return e;
}

bool is_comparison(BinOp op) { return op >= BinOp::Eq && op <= BinOp::Ge; }

Expr binary(BinOp op, Expr a, Expr b) {
  assert(a->type == b->type);
  Type type = is_comparison(op) ? bool_type(a->type.lanes) : a->type;
  auto e = make(ExprKind::Binary, type, {std::move(a), std::move(b)});
  e->op = op;
  return e;
}

Expr select(Expr cond, Expr then_value, Expr else_value) {
  assert(then_value->type == else_value->type && cond->type.elem == DType::Bool);
  Type type = then_value->type;
  return make(ExprKind::Select, type, {std::move(cond), std::move(then_value), std::move(else_value)});
}

Expr cast(Type type, Expr value) { return make(ExprKind::Cast, type, {std::move(value)}); }

Expr reinterpret(Type type, Expr value) {
  assert(type.lanes == value->type.lanes && dtype_size(type.elem) == dtype_size(value->type.elem));
  return make(ExprKind::Reinterpret, type, {std::move(value)});
}

Expr load(std::string buffer, DType elem, Expr index) {
  Type type{elem, index->type.lanes};
  auto e = make(ExprKind::Load, type, {std::move(index)});
  e->name = std::move(buffer);
  return e;
}

Expr ramp(Expr base, Expr stride, int lanes) {
  Type type = base->type.with_lanes(lanes);
  auto e = make(ExprKind::Ramp, type, {std::move(base), std::move(stride)});
  e->int_value = lanes;
  return e;
}

Expr broadcast(Expr value, int lanes) {
  Type type = value->type.with_lanes(lanes);
  auto e = make(ExprKind::Broadcast, type, {std::move(value)});
  e->int_value = lanes;
  return e;
}

Expr call(Intrinsic fn, std::vector<Expr> args) {
  Type type = args.at(0)->type;
  if (fn == Intrinsic::IsNan || fn == Intrinsic::IsInf) type = bool_type(type.lanes);
  auto e = make(ExprKind::Call, type, std::move(args));
  e->fn = fn;
  return e;
}

Expr operator+(Expr a, Expr b) { return binary(BinOp::Add, std::move(a), std::move(b)); }
Expr operator-(Expr a, Expr b) { return binary(BinOp::Sub, std::move(a), std::move(b)); }
Expr operator*(Expr a, Expr b) { return binary(BinOp::Mul, std::move(a), std::move(b)); }
Expr operator/(Expr a, Expr b) { return binary(BinOp::Div, std::move(a), std::move(b)); }
Expr operator%(Expr a, Expr b) { return binary(BinOp::Mod, std::move(a), std::move(b)); }
Expr min(Expr a, Expr b) { return binary(BinOp::Min, std::move(a), std::move(b)); }
Expr max(Expr a, Expr b) { return binary(BinOp::Max, std::move(a), std::move(b)); }
Expr operator<(Expr a, Expr b) { return binary(BinOp::Lt, std::move(a), std::move(b)); }
Expr operator<=(Expr a, Expr b) { return binary(BinOp::Le, std::move(a), std::move(b)); }
Expr operator>(Expr a, Expr b) { return binary(BinOp::Gt, std::move(a), std::move(b)); }
Expr operator>=(Expr a, Expr b) { return binary(BinOp::Ge, std::move(a), std::move(b)); }
Expr eq(Expr a, Expr b) { return binary(BinOp::Eq, std::move(a), std::move(b)); }
Expr ne(Expr a, Expr b) { return binary(BinOp::Ne, std::move(a), std::move(b)); }
Expr operator&&(Expr a, Expr b) { return binary(BinOp::And, std::move(a), std::move(b)); }
Expr operator||(Expr a, Expr b) { return binary(BinOp::Or, std::move(a), std::move(b)); }

const int64_t* as_int_const(const Expr& e) {
  if (e->kind == ExprKind::IntImm) return &e->int_value;
  if (e->kind == ExprKind::Broadcast) return as_int_const(e->arg(0));
  return nullptr;
}

bool is_const_int(const Expr& e, int64_t value) {
  const int64_t* c = as_int_const(e);
  return c && *c == value;
}

std::string_view binop_name(BinOp op) {
  switch (op) {
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::Mod: return "%";
    case BinOp::Min: return "min";
    case BinOp::Max: return "max";
    case BinOp::Eq: return "==";
    case BinOp::Ne: return "!=";
    case BinOp::Lt: return "<";
    case BinOp::Le: return "<=";
    case BinOp::Gt: return ">";
    case BinOp::Ge: return ">=";
    case BinOp::And: return "&&";
    case BinOp::Or: return "||";
    case BinOp::Xor: return "xor";
  }
  return "?";
}

std::string_view intrinsic_name(Intrinsic fn) {
  static constexpr std::string_view kNames[] = {
      "neg",  "not",  "abs",  "exp",  "log",   "sqrt",  "tanh",  "sigmoid", "erf",  "sin",   "cos",    "tan",    "asin",
      "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "floor",   "ceil", "round", "is_nan", "is_inf", "pow"};
  return kNames[static_cast<int>(fn)];
}

int intrinsic_arity(Intrinsic fn) { return fn == Intrinsic::Pow ? 2 : 1; }

std::string_view for_kind_name(ForKind kind) {
  switch (kind) {
    case ForKind::Serial: return "serial";
    case ForKind::Parallel: return "parallel";
    case ForKind::Vectorized: return "vectorized";
    case ForKind::Unrolled: return "unrolled";
    case ForKind::GpuBlock: return "gpu_block";
    case ForKind::GpuThread: return "gpu_thread";
  }
  return "?";
}

std::string_view memory_kind_name(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::Local: return "local";
    case MemoryKind::Shared: return "shared";
    case MemoryKind::Heap: return "heap";
  }
  return "?";
}

std::string_view buffer_role_name(BufferRole role) {
  switch (role) {
    case BufferRole::Input: return "in";
    case BufferRole::Output: return "out";
    case BufferRole::Constant: return "const";
  }
  return "?";
}

Stmt for_loop(std::string var_name, Expr min, Expr extent, ForKind kind, Stmt body) {
  auto s = make_stmt(StmtKind::For, std::move(var_name), {std::move(min), std::move(extent)}, {std::move(body)});
  s->for_kind = kind;
  return s;
}

Stmt store(std::string buffer, Expr index, Expr value) {
  return make_stmt(StmtKind::Store, std::move(buffer), {std::move(index), std::move(value)}, {});
}

Stmt let_stmt(std::string var_name, Expr value, Stmt body) {
  return make_stmt(StmtKind::Let, std::move(var_name), {std::move(value)}, {std::move(body)});
}

Stmt block(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (Stmt& s : stmts) {
    if (!s) continue;
    if (s->kind == StmtKind::Block) {
      flat.insert(flat.end(), s->body.begin(), s->body.end());
    } else {
      flat.push_back(std::move(s));
    }
  }
  if (flat.size() == 1) return flat[0];
  return make_stmt(StmtKind::Block, "", {}, std::move(flat));
}

Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case) {
  std::vector<Stmt> body{std::move(then_case)};
  if (else_case) body.push_back(std::move(else_case));
  return make_stmt(StmtKind::If, "", {std::move(cond)}, std::move(body));
}

Stmt allocate(std::string buffer, DType elem, Expr size, MemoryKind memory, Stmt body) {
  auto s = make_stmt(StmtKind::Allocate, std::move(buffer), {std::move(size)}, {std::move(body)});
  auto& node = *s;
  node.elem = elem;
  node.memory = memory;
  return s;
}

Stmt prefetch(std::string buffer, Expr index) {
  return make_stmt(StmtKind::Prefetch, std::move(buffer), {std::move(index)}, {});
}

std::vector<std::string> Kernel::params() const {
  std::set<std::string> symbols;
  for (const Buffer& b : buffers)
    for (const Dim& d : b.shape) d.collect_symbols(symbols);
  return {symbols.begin(), symbols.end()};
}

const Buffer* Kernel::find_buffer(const std::string& buffer_name) const {
  auto it = std::find_if(buffers.begin(), buffers.end(), [&](const Buffer& b) { return b.name == buffer_name; });
  return it == buffers.end() ? nullptr : &*it;
}

}  // namespace tessel::loop
