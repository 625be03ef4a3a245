// Prints loop IR as C-like text. Immediates carry their dtype unless they are i64 or bool
// ("3", "3:i32", "0.5:f32", "true"); infix operations are fully parenthesized so that the parser needs
// no precedence rules; a let's body follows it at the same indentation.
#include <cmath>

#include <fmt/format.h>

#include "ir/Attr.h"
#include "ir/loop/Text.h"

namespace tessel::loop {
namespace {

bool is_infix(BinOp op) { return op != BinOp::Min && op != BinOp::Max && op != BinOp::Xor; }

// The shortest text that reads back as the same value of the immediate's dtype.
std::string float_text(double value, DType dtype) {
  if (dtype == DType::F64 || std::isnan(value) || std::isinf(value)) return float_str(value);
  std::string text = fmt::format("{}", static_cast<float>(value));
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

std::string print_imm(const ExprNode& e) {
  if (e.kind == ExprKind::FloatImm)
    return fmt::format("{}:{}", float_text(e.float_value, e.type.elem), dtype_name(e.type.elem));
  if (e.type.elem == DType::Bool) return e.int_value ? "true" : "false";
  if (e.type.elem == DType::I64) return std::to_string(e.int_value);
  if (e.type.elem == DType::U64) return fmt::format("{}:u64", static_cast<uint64_t>(e.int_value));
  return fmt::format("{}:{}", e.int_value, dtype_name(e.type.elem));
}

void print_stmt(const Stmt& s, int indent, std::string& out);

void print_body(const Stmt& s, int indent, std::string& out) {
  out += " {\n";
  print_stmt(s, indent + 1, out);
  out += std::string(static_cast<size_t>(indent) * 2, ' ') + "}";
}

void print_stmt(const Stmt& s, int indent, std::string& out) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  switch (s->kind) {
    case StmtKind::Block:
      for (const Stmt& child : s->body) print_stmt(child, indent, out);
      return;
    case StmtKind::For: {
      std::string kind = s->for_kind == ForKind::Serial ? "" : std::string(for_kind_name(s->for_kind)) + " ";
      out += fmt::format("{}{}for ({}, {}, {})", pad, kind, s->name, print(s->expr(0)), print(s->expr(1)));
      print_body(s->body[0], indent, out);
      out += "\n";
      return;
    }
    case StmtKind::Store:
      out += fmt::format("{}{}[{}] = {};\n", pad, s->name, print(s->expr(0)), print(s->expr(1)));
      return;
    case StmtKind::Let:
      out += fmt::format("{}let {} = {};\n", pad, s->name, print(s->expr(0)));
      print_stmt(s->body[0], indent, out);
      return;
    case StmtKind::If:
      out += fmt::format("{}if ({})", pad, print(s->expr(0)));
      print_body(s->body[0], indent, out);
      if (s->body.size() > 1) {
        out += " else";
        print_body(s->body[1], indent, out);
      }
      out += "\n";
      return;
    case StmtKind::Prefetch: out += fmt::format("{}prefetch({}[{}]);\n", pad, s->name, print(s->expr(0))); return;
    case StmtKind::Allocate:
      out += fmt::format("{}allocate {}: {}[{}] {}", pad, s->name, dtype_name(s->elem), print(s->expr(0)),
                         memory_kind_name(s->memory));
      print_body(s->body[0], indent, out);
      out += "\n";
      return;
  }
}

}  // namespace

std::string print(const Expr& expr) {
  const ExprNode& e = *expr;
  switch (e.kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm: return print_imm(e);
    case ExprKind::Var: return e.name;
    case ExprKind::Binary:
      if (is_infix(e.op)) return fmt::format("({} {} {})", print(e.arg(0)), binop_name(e.op), print(e.arg(1)));
      return fmt::format("{}({}, {})", binop_name(e.op), print(e.arg(0)), print(e.arg(1)));
    case ExprKind::Select: return fmt::format("select({}, {}, {})", print(e.arg(0)), print(e.arg(1)), print(e.arg(2)));
    case ExprKind::Cast: return fmt::format("cast<{}>({})", e.type.str(), print(e.arg(0)));
    case ExprKind::Reinterpret: return fmt::format("reinterpret<{}>({})", e.type.str(), print(e.arg(0)));
    case ExprKind::Load: return fmt::format("{}[{}]", e.name, print(e.arg(0)));
    case ExprKind::Ramp: return fmt::format("ramp({}, {}, {})", print(e.arg(0)), print(e.arg(1)), e.int_value);
    case ExprKind::Broadcast: return fmt::format("broadcast({}, {})", print(e.arg(0)), e.int_value);
    case ExprKind::Call: {
      std::string args;
      for (const Expr& a : e.args) args += (args.empty() ? "" : ", ") + print(a);
      return fmt::format("{}({})", intrinsic_name(e.fn), args);
    }
  }
  return "?";
}

std::string print(const Stmt& stmt, int indent) {
  std::string out;
  print_stmt(stmt, indent, out);
  return out;
}

std::string print(const Kernel& kernel) {
  std::string params;
  for (const Buffer& b : kernel.buffers) {
    if (!params.empty()) params += ", ";
    params += fmt::format("{} {}: {}{}", buffer_role_name(b.role), b.name, dtype_name(b.dtype), shape_str(b.shape));
    if (b.role == BufferRole::Constant) params += fmt::format(" = \"{}\"", b.constant);
  }
  std::string out = fmt::format("kernel {}({}) {{\n", kernel.name, params);
  if (kernel.body) print_stmt(kernel.body, 1, out);
  return out + "}\n";
}

}  // namespace tessel::loop
