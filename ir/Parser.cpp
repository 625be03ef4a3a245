// Recursive-descent parser for the text form; the value-level half (types,
// dims, numbers, constant data) lives in ParserValues.cpp. It builds the module
// exactly as written -- result types included -- and leaves semantic checks to
// the verifier, but rejects anything it cannot represent: unknown ops and
// attributes, attribute values of the wrong kind, undefined or redefined
// values, constants whose data does not match their type. Every error carries
// "file:line:col"; no input, however broken, may crash it.
//
// Grammar (`//` comments run to the end of a line):
//   module    := (constant | function)*
//   constant  := 'const' @name ':' type '=' ('[' elements? ']' | 'hex' STRING)
//   function  := 'func' @name '(' (%name ':' type),* ')' '->' '(' (name ':' type),* ')'
//                '{' statement* 'return' (%name),* '}'
//   statement := %name (',' %name)* '=' (const-op | generic-op) ('loc' '(' STRING ')')?
//   const-op  := 'const' @name ':' type
//   generic-op:= op-name '(' (%name | 'none'),* ')' ('{' (attr-name '=' attr-value),* '}')? ':' type (',' type)*
//   type      := dtype '[' (dim),* ']'          e.g. f32[N, 2*N+1, (N+1)/2], f32[] for a scalar
//   dim       := integers and symbols with + - * and / % by a positive constant (floor), unary -, ( )
// Names (@name, %name, output names) are [A-Za-z0-9_.$-]+ or a quoted string.
#include "ir/Parser.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ir/ParserImpl.h"

namespace tessel {
namespace parser_detail {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest candidate within a small edit distance, or empty.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (std::string_view candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return std::string(best);
}

}  // namespace

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::Eof: return "end of input";
    case TokenKind::String: return "string \"" + token.text.substr(0, 40) + "\"";
    case TokenKind::ValueId: return "'%" + token.text + "'";
    case TokenKind::SymbolId: return "'@" + token.text + "'";
    default: return "'" + token.text + "'";
  }
}

// ---------------------------------------------------------------------------------------------------
// Functions: `func @name(%x: T, ...) -> (name: T, ...) { statements; return %a, ... }`

Status Parser::define(const Token& token, Value* value) {
  auto [it, inserted] = values_.emplace(token.text, value);
  if (!inserted) return error_at(token, fmt::format("value %{} is defined twice", token.text));
  value->set_name(token.text);
  return Status::success();
}

Status Parser::parse_function() {
  advance();  // 'func'
  if (!at(TokenKind::SymbolId)) return unexpected("a function name (@name)");
  Token name = tok_;
  if (module_->function(name.text)) return error_at(name, fmt::format("function @{} is defined twice", name.text));
  advance();
  Function* function = module_->add_function(name.text);
  values_.clear();
  output_types_.clear();
  TESSEL_TRY(expect(TokenKind::LParen));
  while (!at(TokenKind::RParen)) {
    if (!function->inputs().empty()) TESSEL_TRY(expect(TokenKind::Comma));
    if (!at(TokenKind::ValueId)) return unexpected("an argument (%name: type) or ')'");
    Token arg = tok_;
    advance();
    TESSEL_TRY(expect(TokenKind::Colon));
    TESSEL_ASSIGN(TensorType type, parse_type());
    TESSEL_TRY(define(arg, function->add_input(arg.text, std::move(type))));
  }
  advance();
  TESSEL_TRY(expect(TokenKind::Arrow));
  TESSEL_TRY(expect(TokenKind::LParen));
  std::vector<std::string> output_names;
  while (!at(TokenKind::RParen)) {
    if (!output_names.empty()) TESSEL_TRY(expect(TokenKind::Comma));
    if (!at(TokenKind::Ident) && !at(TokenKind::String)) return unexpected("an output (name: type) or ')'");
    if (tok_.text.empty()) return error_at(tok_, "output names must not be empty");
    output_names.push_back(tok_.text);
    advance();
    TESSEL_TRY(expect(TokenKind::Colon));
    TESSEL_ASSIGN(TensorType type, parse_type());
    output_types_.push_back(std::move(type));
  }
  advance();
  TESSEL_TRY(expect(TokenKind::LBrace));
  while (!at_word("return")) TESSEL_TRY(parse_statement(*function));
  TESSEL_ASSIGN(std::vector<Value*> outputs, parse_return());
  function->set_outputs(std::move(outputs), std::move(output_names));
  return expect(TokenKind::RBrace);
}

Expected<std::vector<Value*>> Parser::parse_return() {
  Token return_token = tok_;
  advance();
  std::vector<Value*> outputs;
  if (at(TokenKind::ValueId)) {
    while (true) {
      Token use = tok_;
      TESSEL_ASSIGN(Value * value, parse_operand());
      if (!value) return error_at(use, "'none' cannot be returned");
      size_t index = outputs.size();
      if (index < output_types_.size() && value->type() != output_types_[index])
        return error_at(use, fmt::format("return value %{} has type {}, but the signature declares {} for output {}",
                                         use.text, value->type().str(), output_types_[index].str(), index));
      outputs.push_back(value);
      if (!at(TokenKind::Comma)) break;
      advance();
    }
  }
  if (outputs.size() != output_types_.size())
    return error_at(return_token, fmt::format("return has {} values, but the signature declares {} outputs",
                                              outputs.size(), output_types_.size()));
  if (!at(TokenKind::RBrace)) return unexpected("'}' after return (return must be the last statement)");
  return outputs;
}

Expected<Value*> Parser::parse_operand() {
  if (at_word("none")) {
    advance();
    return static_cast<Value*>(nullptr);
  }
  if (!at(TokenKind::ValueId)) return unexpected("an operand (%name or none)");
  auto it = values_.find(tok_.text);
  if (it == values_.end()) return error_at(tok_, fmt::format("use of undefined value %{}", tok_.text));
  advance();
  return it->second;
}

Status Parser::parse_statement(Function& function) {
  if (at(TokenKind::RBrace) || at(TokenKind::Eof)) return unexpected("'return' before the end of the function");
  std::vector<Token> results;
  while (true) {
    if (!at(TokenKind::ValueId))
      return unexpected(results.empty() ? "a statement (%name = op(...) or return)" : "a result name (%name)");
    results.push_back(tok_);
    advance();
    if (!at(TokenKind::Comma)) break;
    advance();
  }
  TESSEL_TRY(expect(TokenKind::Equal));
  if (!at(TokenKind::Ident)) return unexpected("an op name");
  Token op_token = tok_;
  const OpInfo* info = find_op(tok_.text);
  if (!info) {
    std::vector<std::string_view> names;
    for (const OpInfo& candidate : all_ops()) names.push_back(candidate.name);
    std::string suggestion = closest(tok_.text, names);
    return error_at(tok_, fmt::format("unknown op '{}'", tok_.text),
                    suggestion.empty() ? "" : fmt::format("did you mean '{}'?", suggestion));
  }
  advance();
  std::vector<Value*> operands;
  AttrMap attrs;
  if (info->kind == OpKind::Const && at(TokenKind::SymbolId)) {
    // The short form `const @name`, standing for `const() {name = "name"}`.
    attrs.emplace("name", Attr(tok_.text));
    advance();
  } else {
    TESSEL_TRY(expect(TokenKind::LParen));
    while (!at(TokenKind::RParen)) {
      if (!operands.empty()) TESSEL_TRY(expect(TokenKind::Comma));
      TESSEL_ASSIGN(Value * operand, parse_operand());
      operands.push_back(operand);
    }
    advance();
    if (at(TokenKind::LBrace)) TESSEL_TRY(parse_attrs(*info, op_token, attrs));
  }
  Token colon = tok_;
  TESSEL_TRY(expect(TokenKind::Colon));
  std::vector<TensorType> types;
  while (true) {
    TESSEL_ASSIGN(TensorType type, parse_type());
    types.push_back(std::move(type));
    if (!at(TokenKind::Comma)) break;
    advance();
  }
  if (types.size() != results.size())
    return error_at(colon,
                    fmt::format("op '{}' defines {} result{} but lists {} result type{}", info->name, results.size(),
                                results.size() == 1 ? "" : "s", types.size(), types.size() == 1 ? "" : "s"));
  std::string location;
  if (at_word("loc")) {
    advance();
    TESSEL_TRY(expect(TokenKind::LParen));
    if (!at(TokenKind::String)) return unexpected("a location string");
    location = tok_.text;
    advance();
    TESSEL_TRY(expect(TokenKind::RParen));
  }
  Op* op = function.append(info->kind, std::move(operands), std::move(types), std::move(attrs), std::move(location));
  for (size_t i = 0; i < results.size(); ++i) TESSEL_TRY(define(results[i], op->result(i)));
  return Status::success();
}

Status Parser::parse_attrs(const OpInfo& info, const Token& op_token, AttrMap& attrs) {
  advance();  // '{'
  while (!at(TokenKind::RBrace)) {
    if (!attrs.empty()) TESSEL_TRY(expect(TokenKind::Comma));
    if (!at(TokenKind::Ident)) return unexpected("an attribute name");
    Token name = tok_;
    const AttrSpec* spec = info.find_attr(name.text);
    if (!spec) {
      std::vector<std::string_view> names;
      for (const AttrSpec& candidate : info.attrs) names.push_back(candidate.name);
      std::string suggestion = closest(name.text, names);
      return error_at(name, fmt::format("op '{}' has no attribute '{}'", info.name, name.text),
                      suggestion.empty() ? "" : fmt::format("did you mean '{}'?", suggestion));
    }
    if (attrs.count(name.text))
      return error_at(name, fmt::format("attribute '{}' of op '{}' is given twice", name.text, info.name));
    advance();
    TESSEL_TRY(expect(TokenKind::Equal));
    TESSEL_ASSIGN(Attr value, parse_attr_value(spec->kind, name.text, info.name));
    attrs.emplace(name.text, std::move(value));
  }
  advance();
  return Status::success();
}

Expected<Attr> Parser::parse_attr_value(AttrKind kind, const std::string& attr_name, std::string_view op_name) {
  std::string context = fmt::format("for attribute '{}' of op '{}'", attr_name, op_name);
  bool at_number =
      at(TokenKind::Int) || at(TokenKind::Float) || at(TokenKind::Minus) || at_word("inf") || at_word("nan");
  switch (kind) {
    case AttrKind::Int: {
      if (!at(TokenKind::Int) && !at(TokenKind::Minus)) return unexpected("an int " + context);
      TESSEL_ASSIGN(int64_t value, parse_signed_int());
      return Attr(value);
    }
    case AttrKind::Float: {
      if (!at_number) return unexpected("a float " + context);
      TESSEL_ASSIGN(double value, parse_double());
      return Attr(value);
    }
    case AttrKind::String: {
      if (!at(TokenKind::String)) return unexpected("a string " + context);
      std::string value = tok_.text;
      advance();
      return Attr(std::move(value));
    }
    case AttrKind::Type: {
      auto dtype = at(TokenKind::Ident) ? parse_dtype(tok_.text) : std::nullopt;
      if (!dtype) return unexpected("an element type " + context);
      advance();
      return Attr(*dtype);
    }
    case AttrKind::Dims: {
      if (!at(TokenKind::LBracket)) return unexpected("a list of dims " + context);
      advance(LexMode::Dim);
      TESSEL_ASSIGN(Shape dims, parse_dim_list());
      return Attr(std::move(dims));
    }
    default: break;
  }
  // The remaining kinds are lists of ints, floats or strings.
  std::string list_context = fmt::format("a list of {} {}", attr_kind_name(kind), context);
  if (!at(TokenKind::LBracket)) return unexpected(list_context);
  advance();
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  for (size_t count = 0; !at(TokenKind::RBracket); ++count) {
    if (count) TESSEL_TRY(expect(TokenKind::Comma));
    if (kind == AttrKind::Ints) {
      if (!at(TokenKind::Int) && !at(TokenKind::Minus)) return unexpected("an int in " + list_context);
      TESSEL_ASSIGN(int64_t value, parse_signed_int());
      ints.push_back(value);
    } else if (kind == AttrKind::Floats) {
      TESSEL_ASSIGN(double value, parse_double());
      floats.push_back(value);
    } else {
      if (!at(TokenKind::String)) return unexpected("a string in " + list_context);
      strings.push_back(tok_.text);
      advance();
    }
  }
  advance();
  if (kind == AttrKind::Ints) return Attr(std::move(ints));
  if (kind == AttrKind::Floats) return Attr(std::move(floats));
  return Attr(std::move(strings));
}

// ---------------------------------------------------------------------------------------------------
// Module

Expected<std::unique_ptr<Module>> Parser::parse_module() {
  while (!at(TokenKind::Eof)) {
    if (at_word("const")) {
      TESSEL_TRY(parse_constant());
    } else if (at_word("func")) {
      TESSEL_TRY(parse_function());
    } else {
      return unexpected("'const' or 'func' at the top level");
    }
  }
  return std::move(module_);
}

}  // namespace parser_detail

Expected<std::unique_ptr<Module>> parse_module(std::string_view text, const std::string& filename) {
  parser_detail::Parser parser(text, filename);
  return parser.parse_module();
}

Expected<std::unique_ptr<Module>> parse_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error("cannot read file '{}': {}", path, std::strerror(errno));
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return make_error("cannot read file '{}'", path);
  return parse_module(buffer.str(), path);
}

}  // namespace tessel