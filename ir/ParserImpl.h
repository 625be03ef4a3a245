// The text-form parser's class, shared by its two source files: Parser.cpp
// (module, functions, ops, attributes) and ParserValues.cpp (types, dims,
// numbers, constant data). Internal to ir/; use ir/Parser.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/Error.h"
#include "ir/Lexer.h"
#include "ir/Module.h"

namespace tessel::parser_detail {

// Bounds recursion in dim expressions so that deeply nested garbage cannot overflow the stack.
constexpr int kMaxDimDepth = 128;

/// How a token reads in "got X": "'conv'", "'%x'", "end of input".
std::string describe(const Token& token);

/// Recursive descent over the token stream; one instance parses one module.
class Parser {
 public:
  Parser(std::string_view text, std::string filename) : lexer_(text), filename_(std::move(filename)) {
    tok_ = lexer_.next();
  }

  Expected<std::unique_ptr<Module>> parse_module();

 private:
  // ---- Tokens and errors ----
  void advance(LexMode mode = LexMode::Normal) { tok_ = lexer_.next(mode); }
  bool at(TokenKind kind) const { return tok_.kind == kind; }
  bool at_word(std::string_view word) const { return tok_.kind == TokenKind::Ident && tok_.text == word; }
  std::string where(const Token& token) const {
    return filename_ + ":" + std::to_string(token.line) + ":" + std::to_string(token.col);
  }
  Error error_at(const Token& token, std::string message, std::string hint = {}) const {
    return Error{std::move(message), where(token), std::move(hint)};
  }
  /// "expected X, got Y" at the current token; a lexer error reports itself instead.
  Error unexpected(std::string_view what) const {
    if (tok_.kind == TokenKind::Error) return error_at(tok_, tok_.text);
    return error_at(tok_, fmt::format("expected {}, got {}", what, describe(tok_)));
  }
  Status expect(TokenKind kind, LexMode next_mode = LexMode::Normal) {
    if (!at(kind)) return unexpected(token_kind_name(kind));
    advance(next_mode);
    return Status::success();
  }
  Status expect_word(std::string_view word) {
    if (!at_word(word)) return unexpected(fmt::format("'{}'", word));
    advance();
    return Status::success();
  }

  // ---- Types and dims ----
  Expected<TensorType> parse_type();
  Expected<Shape> parse_dim_list();  // after '[' was seen; consumes through ']'
  Expected<Dim> parse_dim_sum(int depth);
  Expected<Dim> parse_dim_product(int depth);
  Expected<Dim> parse_dim_atom(int depth);
  Expected<Dim> parse_dim_literal(bool negative);

  // ---- Numbers ----
  Expected<int64_t> parse_signed_int();
  Expected<double> parse_double();

  // ---- Constants ----
  Status parse_constant();
  Status parse_constant_list(const TensorType& type, const Token& name, std::vector<unsigned char>& bytes,
                             int64_t& count);
  Status parse_element(DType dtype, std::vector<unsigned char>& bytes);
  Status parse_hex(const Token& name, size_t element_size, std::vector<unsigned char>& bytes);

  // ---- Functions and ops ----
  Status parse_function();
  Status parse_statement(Function& function);
  Expected<std::vector<Value*>> parse_return();
  Expected<Value*> parse_operand();
  Status parse_attrs(const OpInfo& info, const Token& op_token, AttrMap& attrs);
  Expected<Attr> parse_attr_value(AttrKind kind, const std::string& attr_name, std::string_view op_name);
  Status define(const Token& token, Value* value);

  Lexer lexer_;
  std::string filename_;
  Token tok_;
  std::unique_ptr<Module> module_ = std::make_unique<Module>();
  std::unordered_map<std::string, Value*> values_;  ///< names defined so far in the current function
  std::vector<TensorType> output_types_;            ///< the current function's declared output types
};

}  // namespace tessel::parser_detail
