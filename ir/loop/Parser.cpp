// Parses the loop IR's text form (see Printer.cpp for its shape). Recursive descent over a small
// tokenizer; every name is resolved against a scope (loop and let variables, symbolic-dim parameters,
// buffers and allocations) so that each expression gets its type, and ill-typed text is an error with
// a line and column rather than an assertion.
#include <cassert>
#include <cctype>
#include <cstdlib>

#include "ir/loop/Text.h"

namespace tessel::loop {
namespace {

enum class Tok { End, Ident, Number, String, Punct, Bad };

struct Token {
  Tok kind = Tok::End;
  std::string text;
  int line = 1, col = 1;
};

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  Token next() {
    skip_space();
    Token t;
    t.line = line_;
    t.col = col_;
    if (pos_ >= text_.size()) return t;
    char c = text_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Tok::Ident;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '.'))
        t.text += bump();
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      t.kind = Tok::Number;
      while (pos_ < text_.size()) {
        char d = text_[pos_];
        bool exponent_sign =
            (d == '-' || d == '+') && !t.text.empty() && (t.text.back() == 'e' || t.text.back() == 'E');
        if (!std::isalnum(static_cast<unsigned char>(d)) && d != '.' && !exponent_sign) break;
        t.text += bump();
      }
      return t;
    }
    if (c == '"') {
      bump();
      t.kind = Tok::String;
      while (pos_ < text_.size() && text_[pos_] != '"') t.text += bump();
      if (pos_ >= text_.size())
        t.kind = Tok::Bad;
      else
        bump();
      return t;
    }
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (std::string_view two : kTwo)
      if (text_.substr(pos_, 2) == two) {
        t.kind = Tok::Punct;
        t.text = std::string(two);
        bump();
        bump();
        return t;
      }
    if (std::string_view("()[]{},;:=<>+-*/%").find(c) != std::string_view::npos) {
      t.kind = Tok::Punct;
      t.text = std::string(1, bump());
      return t;
    }
    t.kind = Tok::Bad;
    t.text = std::string(1, c);
    return t;
  }

 private:
  char bump() {
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    return c;
  }
  void skip_space() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        bump();
      } else if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') bump();
      } else {
        break;
      }
    }
  }
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

std::optional<BinOp> infix_op(std::string_view text) {
  static constexpr std::pair<std::string_view, BinOp> kOps[] = {
      {"+", BinOp::Add}, {"-", BinOp::Sub},  {"*", BinOp::Mul}, {"/", BinOp::Div}, {"%", BinOp::Mod},
      {"==", BinOp::Eq}, {"!=", BinOp::Ne},  {"<", BinOp::Lt},  {"<=", BinOp::Le}, {">", BinOp::Gt},
      {">=", BinOp::Ge}, {"&&", BinOp::And}, {"||", BinOp::Or}};
  for (auto [name, op] : kOps)
    if (name == text) return op;
  return std::nullopt;
}

std::optional<Intrinsic> find_intrinsic(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Intrinsic::Pow); ++i)
    if (intrinsic_name(static_cast<Intrinsic>(i)) == name) return static_cast<Intrinsic>(i);
  return std::nullopt;
}

std::optional<Type> parse_type_name(std::string_view text) {
  size_t x = text.rfind('x');
  int lanes = 1;
  std::string_view base = text;
  if (x != std::string_view::npos && x + 1 < text.size() &&
      text.substr(x + 1).find_first_not_of("0123456789") == std::string_view::npos) {
    lanes = std::atoi(std::string(text.substr(x + 1)).c_str());
    base = text.substr(0, x);
  }
  auto dtype = parse_dtype(base);
  if (!dtype || lanes < 1) return std::nullopt;
  return Type{*dtype, lanes};
}

/// Dim from an i64 expression of the shape grammar (symbols, constants, + - * and / % by constants).
std::optional<Dim> expr_to_dim(const Expr& e) {
  if (e->kind == ExprKind::IntImm) return Dim(e->int_value);
  if (e->kind == ExprKind::Var) return Dim::symbol(e->name);
  if (e->kind == ExprKind::Call && e->fn == Intrinsic::Neg) {
    auto a = expr_to_dim(e->arg(0));
    if (!a) return std::nullopt;
    return -*a;
  }
  if (e->kind != ExprKind::Binary) return std::nullopt;
  auto a = expr_to_dim(e->arg(0));
  auto b = expr_to_dim(e->arg(1));
  if (!a || !b) return std::nullopt;
  switch (e->op) {
    case BinOp::Add: return *a + *b;
    case BinOp::Sub: return *a - *b;
    case BinOp::Mul: return *a * *b;
    case BinOp::Div:
      if (auto c = b->as_const(); c && *c > 0) return a->floordiv(*c);
      return std::nullopt;
    case BinOp::Mod:
      if (auto c = b->as_const(); c && *c > 0) return a->mod(*c);
      return std::nullopt;
    default: return std::nullopt;
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { advance(); }

  std::map<std::string, Type> vars;
  std::map<std::string, DType> buffers;

  Expected<Kernel> kernel() {
    TESSEL_TRY(expect_word("kernel"));
    Kernel k;
    TESSEL_ASSIGN(k.name, ident("a kernel name"));
    TESSEL_TRY(expect("("));
    while (!at(")")) {
      if (!k.buffers.empty()) TESSEL_TRY(expect(","));
      TESSEL_ASSIGN(Buffer b, buffer_param());
      buffers[b.name] = b.dtype;
      k.buffers.push_back(std::move(b));
    }
    TESSEL_TRY(expect(")"));
    for (const std::string& p : k.params()) vars[p] = i64_type();
    TESSEL_TRY(expect("{"));
    TESSEL_ASSIGN(k.body, stmts_until_brace());
    TESSEL_TRY(expect("}"));
    if (tok_.kind != Tok::End) return error("expected the end of the text after the kernel");
    return k;
  }

  Expected<Expr> whole_expr() {
    TESSEL_ASSIGN(Expr e, expr());
    if (tok_.kind != Tok::End) return error("expected the end of the expression");
    return e;
  }

 private:
  void advance() { tok_ = lexer_.next(); }
  bool at(std::string_view punct) const { return tok_.kind == Tok::Punct && tok_.text == punct; }
  bool at_word(std::string_view word) const { return tok_.kind == Tok::Ident && tok_.text == word; }

  Error error(const std::string& message) const { return error_at(tok_, message); }
  Error error_at(const Token& at, const std::string& message) const {
    std::string got = at.kind == Tok::End ? "the end of the text" : "'" + at.text + "'";
    return Error{message + ", got " + got, "<loops>:" + std::to_string(at.line) + ":" + std::to_string(at.col), {}};
  }
  Status expect(std::string_view punct) {
    if (!at(punct)) return error("expected '" + std::string(punct) + "'");
    advance();
    return Status::success();
  }
  Status expect_word(std::string_view word) {
    if (!at_word(word)) return error("expected '" + std::string(word) + "'");
    advance();
    return Status::success();
  }
  Expected<std::string> ident(const std::string& what) {
    if (tok_.kind != Tok::Ident) return error("expected " + what);
    std::string text = tok_.text;
    advance();
    return text;
  }
  Expected<int64_t> integer(const std::string& what) {
    bool negative = at("-");
    if (negative) advance();
    if (tok_.kind != Tok::Number || tok_.text.find_first_not_of("0123456789") != std::string::npos)
      return error("expected " + what);
    int64_t value = std::strtoll(tok_.text.c_str(), nullptr, 10);
    advance();
    return negative ? -value : value;
  }

  Expected<Buffer> buffer_param() {
    Buffer b;
    TESSEL_ASSIGN(std::string role, ident("a buffer role (in, out or const)"));
    if (role == "in")
      b.role = BufferRole::Input;
    else if (role == "out")
      b.role = BufferRole::Output;
    else if (role == "const")
      b.role = BufferRole::Constant;
    else
      return error("unknown buffer role '" + role + "' (use in, out or const)");
    TESSEL_ASSIGN(b.name, ident("a buffer name"));
    TESSEL_TRY(expect(":"));
    TESSEL_ASSIGN(std::string dtype, ident("a dtype"));
    auto parsed = parse_dtype(dtype);
    if (!parsed) return error("unknown dtype '" + dtype + "'");
    b.dtype = *parsed;
    TESSEL_TRY(expect("["));
    while (!at("]")) {
      if (!b.shape.empty()) TESSEL_TRY(expect(","));
      TESSEL_ASSIGN(Expr e, dim_sum());
      auto dim = expr_to_dim(e);
      if (!dim) return error("buffer dims may only use symbols, constants, + - * and / % by a positive constant");
      b.shape.push_back(*dim);
    }
    TESSEL_TRY(expect("]"));
    if (b.role == BufferRole::Constant) {
      TESSEL_TRY(expect("="));
      if (tok_.kind != Tok::String) return error("expected the constant's name as a string");
      b.constant = tok_.text;
      advance();
    }
    return b;
  }

  // ---- statements ----

  Expected<Stmt> stmts_until_brace() {
    std::vector<Stmt> stmts;
    while (!at("}") && tok_.kind != Tok::End) {
      if (at_word("let")) {
        advance();
        TESSEL_ASSIGN(std::string name, ident("a variable name"));
        TESSEL_TRY(expect("="));
        TESSEL_ASSIGN(Expr value, expr());
        TESSEL_TRY(expect(";"));
        auto saved = vars;
        vars[name] = value->type;
        TESSEL_ASSIGN(Stmt rest, stmts_until_brace());
        vars = std::move(saved);
        stmts.push_back(let_stmt(name, value, rest));
        break;
      }
      TESSEL_ASSIGN(Stmt s, stmt());
      stmts.push_back(std::move(s));
    }
    return block(std::move(stmts));
  }

  Expected<Stmt> braced() {
    TESSEL_TRY(expect("{"));
    TESSEL_ASSIGN(Stmt body, stmts_until_brace());
    TESSEL_TRY(expect("}"));
    return body;
  }

  Expected<Stmt> stmt() {
    static constexpr std::pair<std::string_view, ForKind> kKinds[] = {{"parallel", ForKind::Parallel},
                                                                      {"vectorized", ForKind::Vectorized},
                                                                      {"unrolled", ForKind::Unrolled},
                                                                      {"gpu_block", ForKind::GpuBlock},
                                                                      {"gpu_thread", ForKind::GpuThread}};
    for (auto [name, kind] : kKinds)
      if (at_word(name)) {
        advance();
        return for_stmt(kind);
      }
    if (at_word("for")) return for_stmt(ForKind::Serial);
    if (at_word("if")) return if_stmt();
    if (at_word("allocate")) return allocate_stmt();
    TESSEL_ASSIGN(std::string name, ident("a statement"));
    if (name == "prefetch" && at("(")) return prefetch_stmt();
    return store_stmt(name);
  }

  Expected<Stmt> for_stmt(ForKind kind) {
    TESSEL_TRY(expect_word("for"));
    TESSEL_TRY(expect("("));
    TESSEL_ASSIGN(std::string name, ident("a loop variable"));
    TESSEL_TRY(expect(","));
    TESSEL_ASSIGN(Expr min, index_expr("the loop minimum"));
    TESSEL_TRY(expect(","));
    TESSEL_ASSIGN(Expr extent, index_expr("the loop extent"));
    TESSEL_TRY(expect(")"));
    auto saved = vars;
    vars[name] = i64_type();
    TESSEL_ASSIGN(Stmt body, braced());
    vars = std::move(saved);
    return for_loop(name, min, extent, kind, body);
  }

  Expected<Stmt> if_stmt() {
    advance();
    TESSEL_TRY(expect("("));
    TESSEL_ASSIGN(Expr cond, expr());
    if (cond->type != bool_type()) return error("an if condition must be a scalar bool, not " + cond->type.str());
    TESSEL_TRY(expect(")"));
    TESSEL_ASSIGN(Stmt then_case, braced());
    Stmt else_case;
    if (at_word("else")) {
      advance();
      TESSEL_ASSIGN(else_case, braced());
    }
    return if_then_else(cond, then_case, else_case);
  }

  Expected<Stmt> allocate_stmt() {
    advance();
    TESSEL_ASSIGN(std::string name, ident("a buffer name"));
    TESSEL_TRY(expect(":"));
    TESSEL_ASSIGN(std::string dtype_text, ident("a dtype"));
    auto dtype = parse_dtype(dtype_text);
    if (!dtype) return error("unknown dtype '" + dtype_text + "'");
    TESSEL_TRY(expect("["));
    TESSEL_ASSIGN(Expr size, index_expr("the allocation size"));
    TESSEL_TRY(expect("]"));
    TESSEL_ASSIGN(std::string memory, ident("a memory kind (local, shared or heap)"));
    MemoryKind kind = MemoryKind::Local;
    if (memory == "shared")
      kind = MemoryKind::Shared;
    else if (memory == "heap")
      kind = MemoryKind::Heap;
    else if (memory != "local")
      return error("unknown memory kind '" + memory + "' (use local, shared or heap)");
    auto saved = buffers;
    buffers[name] = *dtype;
    TESSEL_ASSIGN(Stmt body, braced());
    buffers = std::move(saved);
    return allocate(name, *dtype, size, kind, body);
  }

  /// `prefetch(buffer[index]);`, the keyword already read.
  Expected<Stmt> prefetch_stmt() {
    advance();
    TESSEL_ASSIGN(std::string name, ident("a buffer name"));
    if (!buffers.count(name)) return error("unknown buffer '" + name + "'");
    TESSEL_TRY(expect("["));
    TESSEL_ASSIGN(Expr index, index_expr("a prefetch index"));
    TESSEL_TRY(expect("]"));
    TESSEL_TRY(expect(")"));
    TESSEL_TRY(expect(";"));
    return prefetch(name, index);
  }

  /// `buffer[index] = value;`, the buffer's name already read.
  Expected<Stmt> store_stmt(const std::string& name) {
    auto it = buffers.find(name);
    if (it == buffers.end()) return error("unknown buffer '" + name + "'");
    TESSEL_TRY(expect("["));
    TESSEL_ASSIGN(Expr index, expr());
    TESSEL_TRY(expect("]"));
    TESSEL_TRY(expect("="));
    TESSEL_ASSIGN(Expr value, expr());
    TESSEL_TRY(expect(";"));
    if (index->type.elem != DType::I64) return error("a store index must be i64, not " + index->type.str());
    if (value->type != Type{it->second, index->type.lanes})
      return error("store of " + value->type.str() + " into " + name + " needs " +
                   Type{it->second, index->type.lanes}.str());
    return store(name, index, value);
  }

  // ---- expressions ----

  Expected<Expr> index_expr(const std::string& what) {
    TESSEL_ASSIGN(Expr e, expr());
    if (e->type != i64_type()) return error(what + " must be a scalar i64, not " + e->type.str());
    return e;
  }

  Expected<Expr> args_then_close(std::vector<Expr>& out, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      if (i) TESSEL_TRY(expect(","));
      TESSEL_ASSIGN(Expr e, expr());
      out.push_back(e);
    }
    TESSEL_TRY(expect(")"));
    return out.empty() ? Expr() : out[0];
  }

  Expected<Expr> literal(bool negative) {
    std::string text = tok_.text;
    bool is_number = tok_.kind == Tok::Number;
    advance();
    DType dtype = DType::I64;
    if (at(":")) {
      advance();
      TESSEL_ASSIGN(std::string name, ident("a dtype"));
      auto parsed = parse_dtype(name);
      if (!parsed) return error("unknown dtype '" + name + "'");
      dtype = *parsed;
    }
    bool float_text = !is_number || text.find_first_of(".eEn") != std::string::npos;
    if (is_float(dtype)) {
      double value = std::strtod(text.c_str(), nullptr);
      return float_imm(negative ? -value : value, dtype);
    }
    if (float_text) return error("a float literal needs a float dtype such as ':f32'");
    if (dtype == DType::U64) return int_imm(static_cast<int64_t>(std::strtoull(text.c_str(), nullptr, 10)), dtype);
    int64_t value = static_cast<int64_t>(std::strtoull(text.c_str(), nullptr, 10));
    return int_imm(negative ? static_cast<int64_t>(0 - static_cast<uint64_t>(value)) : value, dtype);
  }

  Expected<Expr> expr() {
    if (at("(")) {
      advance();
      TESSEL_ASSIGN(Expr a, expr());
      auto op = tok_.kind == Tok::Punct ? infix_op(tok_.text) : std::nullopt;
      if (!op) return error("expected an operator such as '+' or '<'");
      advance();
      TESSEL_ASSIGN(Expr b, expr());
      TESSEL_TRY(expect(")"));
      return make_binary(*op, a, b);
    }
    if (at("-")) {
      advance();
      if (tok_.kind == Tok::Number || at_word("inf") || at_word("nan")) return literal(true);
      return error("expected a number after '-'");
    }
    if (tok_.kind == Tok::Number || at_word("inf") || at_word("nan")) return literal(false);
    if (at_word("true") || at_word("false")) {
      bool value = at_word("true");
      advance();
      return bool_imm(value);
    }
    Token name_token = tok_;
    TESSEL_ASSIGN(std::string name, ident("an expression"));
    if (at("[")) return load_expr(name);
    if ((name == "cast" || name == "reinterpret") && at("<")) return cast_expr(name == "reinterpret");
    if (at("(")) return call_expr(name);
    auto it = vars.find(name);
    if (it != vars.end()) return var(name, it->second);
    return error_at(name_token, "unknown variable '" + name + "'");
  }

  Expected<Expr> make_binary(BinOp op, const Expr& a, const Expr& b) {
    if (a->type != b->type)
      return error("operands of '" + std::string(binop_name(op)) + "' differ in type (" + a->type.str() + " and " +
                   b->type.str() + ")");
    bool logical = op == BinOp::And || op == BinOp::Or || op == BinOp::Xor;
    if (logical != (a->type.elem == DType::Bool) && op != BinOp::Eq && op != BinOp::Ne)
      return error("'" + std::string(binop_name(op)) + "' does not take " + a->type.str());
    return binary(op, a, b);
  }

  Expected<Expr> load_expr(const std::string& name) {
    auto it = buffers.find(name);
    if (it == buffers.end()) return error("unknown buffer '" + name + "'");
    advance();
    TESSEL_ASSIGN(Expr index, expr());
    TESSEL_TRY(expect("]"));
    if (index->type.elem != DType::I64) return error("a load index must be i64, not " + index->type.str());
    return load(name, it->second, index);
  }

  // cast<T>(x), or reinterpret<T>(x), which also keeps the element size.
  Expected<Expr> cast_expr(bool bits) {
    advance();
    TESSEL_ASSIGN(std::string type_text, ident("a type"));
    auto type = parse_type_name(type_text);
    if (!type) return error("unknown type '" + type_text + "'");
    TESSEL_TRY(expect(">"));
    TESSEL_TRY(expect("("));
    TESSEL_ASSIGN(Expr value, expr());
    TESSEL_TRY(expect(")"));
    std::string what = bits ? "a reinterpret" : "a cast";
    if (value->type.lanes != type->lanes) return error(what + " keeps the lane count (" + value->type.str() + ")");
    if (!bits) return cast(*type, value);
    if (dtype_size(type->elem) != dtype_size(value->type.elem) || type->elem == DType::String)
      return error("a reinterpret keeps the element size (" + value->type.str() + " to " + type->str() + ")");
    return reinterpret(*type, value);
  }

  Expected<Expr> call_expr(const std::string& name) {
    advance();
    std::vector<Expr> args;
    if (name == "select") {
      TESSEL_TRY(args_then_close(args, 3));
      if (args[0]->type != bool_type(args[1]->type.lanes) || args[1]->type != args[2]->type)
        return error("select needs a bool condition and two values of one type");
      return select(args[0], args[1], args[2]);
    }
    if (name == "ramp" || name == "broadcast") {
      size_t count = name == "ramp" ? 2 : 1;
      for (size_t i = 0; i < count; ++i) {
        TESSEL_ASSIGN(Expr e, expr());
        args.push_back(e);
        TESSEL_TRY(expect(","));
      }
      TESSEL_ASSIGN(int64_t lanes, integer("a lane count"));
      TESSEL_TRY(expect(")"));
      if (lanes < 2 || lanes > 1024) return error("a lane count must be in [2, 1024]");
      if (args[0]->type.is_vector()) return error(name + " takes a scalar");
      if (name == "broadcast") return broadcast(args[0], static_cast<int>(lanes));
      if (args[1]->type != args[0]->type) return error("ramp base and stride differ in type");
      return ramp(args[0], args[1], static_cast<int>(lanes));
    }
    if (name == "min" || name == "max" || name == "xor") {
      TESSEL_TRY(args_then_close(args, 2));
      BinOp op = name == "min" ? BinOp::Min : name == "max" ? BinOp::Max : BinOp::Xor;
      return make_binary(op, args[0], args[1]);
    }
    auto fn = find_intrinsic(name);
    if (!fn) return error("unknown function '" + name + "'");
    TESSEL_TRY(args_then_close(args, static_cast<size_t>(intrinsic_arity(*fn))));
    if (args.size() == 2 && args[0]->type.lanes != args[1]->type.lanes) return error("pow operands differ in lanes");
    return call(*fn, args);
  }

  // ---- dims: the precedence grammar of Dim::str() ("2*N+1", "(N+1)/2") ----

  Expected<Expr> dim_sum() {
    TESSEL_ASSIGN(Expr e, dim_product());
    while (at("+") || at("-")) {
      bool plus = at("+");
      advance();
      TESSEL_ASSIGN(Expr rhs, dim_product());
      e = plus ? e + rhs : e - rhs;
    }
    return e;
  }
  Expected<Expr> dim_product() {
    TESSEL_ASSIGN(Expr e, dim_atom());
    while (at("*") || at("/") || at("%")) {
      std::string op = tok_.text;
      advance();
      TESSEL_ASSIGN(Expr rhs, dim_atom());
      e = op == "*" ? e * rhs : op == "/" ? e / rhs : e % rhs;
    }
    return e;
  }
  Expected<Expr> dim_atom() {
    if (at("(")) {
      advance();
      TESSEL_ASSIGN(Expr e, dim_sum());
      TESSEL_TRY(expect(")"));
      return e;
    }
    if (at("-")) {
      advance();
      TESSEL_ASSIGN(Expr e, dim_atom());
      return call(Intrinsic::Neg, {e});
    }
    if (tok_.kind == Tok::Number) {
      TESSEL_ASSIGN(int64_t value, integer("a dim"));
      return int_imm(value);
    }
    TESSEL_ASSIGN(std::string name, ident("a dim"));
    return var(name, i64_type());
  }

 public:
  Expected<Expr> whole_dim() {
    TESSEL_ASSIGN(Expr e, dim_sum());
    if (tok_.kind != Tok::End) return error("expected the end of the dim");
    return e;
  }

 private:
  Tokenizer lexer_;
  Token tok_;
};

}  // namespace

Expected<Kernel> parse_kernel(std::string_view text) {
  Parser parser(text);
  return parser.kernel();
}

Expected<Expr> parse_expr(std::string_view text, const std::map<std::string, Type>& scope) {
  Parser parser(text);
  parser.vars = scope;
  return parser.whole_expr();
}

Expr dim_expr(const Dim& dim) {
  if (auto c = dim.as_const()) return int_imm(*c);
  const std::string text = dim.str();  // the parser keeps a view of it
  Parser parser(text);
  auto e = parser.whole_dim();
  assert(e.ok());  // Dim::str() is always in the shape grammar
  return e.ok() ? *e : int_imm(0);
}

}  // namespace tessel::loop
