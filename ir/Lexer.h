// Tokens of the text form (`.tsl`). The lexer is pulled one token at a time by
// the parser, which says whether the next token sits inside a dim expression:
// there `%` is the modulo operator and identifiers are plain symbol names, while
// elsewhere `%name` is a value and bare names may contain `.`, `$` and `-`.
#pragma once

#include <string>
#include <string_view>

namespace tessel {

enum class TokenKind {
  Eof,
  Error,     ///< text holds the message
  Ident,     ///< bare word: keyword, op name, dtype, attribute name, dim symbol
  Int,       ///< unsigned decimal integer; text holds the digits
  Float,     ///< unsigned decimal with '.' or an exponent; text holds it
  String,    ///< "..." with escapes decoded into text
  ValueId,   ///< %name or %"quoted"; text holds the bare name
  SymbolId,  ///< @name or @"quoted"; text holds the bare name
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Equal,
  Arrow,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
};

/// How a token kind reads in "expected X" messages, e.g. "')'" or "a value name".
std::string_view token_kind_name(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string text;
  int line = 1;
  int col = 1;  ///< 1-based byte column
};

enum class LexMode { Normal, Dim };

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}
  /// The next token; an Error token on bad input (the lexer then stays at the bad spot).
  Token next(LexMode mode = LexMode::Normal);

 private:
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void bump();
  void skip_space_and_comments();
  Token make(TokenKind kind, std::string text, int line, int col) const;
  Token lex_number(int line, int col);
  Token lex_string(int line, int col);
  Token lex_name(TokenKind kind, int line, int col);

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

}  // namespace tessel
