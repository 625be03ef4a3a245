// Splits `.tsl` text into tokens, tracking line and column for diagnostics.
#include "ir/Lexer.h"

namespace tessel {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word_char(char c) { return is_alpha(c) || is_digit(c); }
// Characters of an unquoted %value / @symbol name (ir/ValueNames.h: is_plain_identifier).
bool is_name_char(char c) { return is_word_char(c) || c == '.' || c == '$' || c == '-'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::Eof: return "end of input";
    case TokenKind::Error: return "invalid token";
    case TokenKind::Ident: return "a name";
    case TokenKind::Int: return "an integer";
    case TokenKind::Float: return "a number";
    case TokenKind::String: return "a string";
    case TokenKind::ValueId: return "a value name (%name)";
    case TokenKind::SymbolId: return "a symbol (@name)";
    case TokenKind::LParen: return "'('";
    case TokenKind::RParen: return "')'";
    case TokenKind::LBracket: return "'['";
    case TokenKind::RBracket: return "']'";
    case TokenKind::LBrace: return "'{'";
    case TokenKind::RBrace: return "'}'";
    case TokenKind::Comma: return "','";
    case TokenKind::Colon: return "':'";
    case TokenKind::Equal: return "'='";
    case TokenKind::Arrow: return "'->'";
    case TokenKind::Plus: return "'+'";
    case TokenKind::Minus: return "'-'";
    case TokenKind::Star: return "'*'";
    case TokenKind::Slash: return "'/'";
    case TokenKind::Percent: return "'%'";
  }
  return "?";
}

void Lexer::bump() {
  if (at_end()) return;
  if (text_[pos_] == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  ++pos_;
}

void Lexer::skip_space_and_comments() {
  while (!at_end()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      bump();
    } else if (c == '/' && peek(1) == '/') {
      while (!at_end() && peek() != '\n') bump();
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, std::string text, int line, int col) const {
  return Token{kind, std::move(text), line, col};
}

Token Lexer::lex_number(int line, int col) {
  size_t start = pos_;
  bool is_float = false;
  while (is_digit(peek())) bump();
  if (peek() == '.' && is_digit(peek(1))) {
    is_float = true;
    bump();
    while (is_digit(peek())) bump();
  }
  // An exponent only when digits follow, so "2e" never swallows a following name.
  bool sign = peek(1) == '+' || peek(1) == '-';
  if ((peek() == 'e' || peek() == 'E') && is_digit(peek(sign ? 2 : 1))) {
    is_float = true;
    bump();
    if (sign) bump();
    while (is_digit(peek())) bump();
  }
  std::string text(text_.substr(start, pos_ - start));
  if (is_word_char(peek()) || peek() == '.')
    return make(TokenKind::Error, "malformed number '" + text + std::string(1, peek()) + "'", line, col);
  return make(is_float ? TokenKind::Float : TokenKind::Int, std::move(text), line, col);
}

Token Lexer::lex_string(int line, int col) {
  bump();  // opening quote
  std::string value;
  while (true) {
    if (at_end()) return make(TokenKind::Error, "unterminated string", line, col);
    char c = peek();
    if (c == '"') {
      bump();
      return make(TokenKind::String, std::move(value), line, col);
    }
    if (c != '\\') {
      value += c;
      bump();
      continue;
    }
    int escape_line = line_, escape_col = col_;
    bump();
    char e = peek();
    if (e == '"' || e == '\\') {
      value += e;
      bump();
    } else if (e == 'n') {
      value += '\n';
      bump();
    } else if (e == 't') {
      value += '\t';
      bump();
    } else if (e == 'x' && hex_value(peek(1)) >= 0 && hex_value(peek(2)) >= 0) {
      value += static_cast<char>(hex_value(peek(1)) * 16 + hex_value(peek(2)));
      bump();
      bump();
      bump();
    } else {
      return make(TokenKind::Error, "invalid escape in string (use \\\", \\\\, \\n, \\t or \\xNN)", escape_line,
                  escape_col);
    }
  }
}

Token Lexer::lex_name(TokenKind kind, int line, int col) {
  char sigil = peek();
  bump();
  if (peek() == '"') {
    Token quoted = lex_string(line, col);
    if (quoted.kind == TokenKind::Error) return quoted;
    if (quoted.text.empty()) return make(TokenKind::Error, std::string("empty name after '") + sigil + "'", line, col);
    return make(kind, std::move(quoted.text), line, col);
  }
  size_t start = pos_;
  while (is_name_char(peek())) bump();
  if (pos_ == start) return make(TokenKind::Error, std::string("expected a name after '") + sigil + "'", line, col);
  return make(kind, std::string(text_.substr(start, pos_ - start)), line, col);
}

Token Lexer::next(LexMode mode) {
  skip_space_and_comments();
  int line = line_, col = col_;
  if (at_end()) return make(TokenKind::Eof, "", line, col);
  char c = peek();
  if (is_digit(c)) return lex_number(line, col);
  if (is_alpha(c)) {
    size_t start = pos_;
    auto in_word = mode == LexMode::Dim ? is_word_char : is_name_char;
    while (in_word(peek())) bump();
    return make(TokenKind::Ident, std::string(text_.substr(start, pos_ - start)), line, col);
  }
  if (c == '"') return lex_string(line, col);
  if (c == '@') return lex_name(TokenKind::SymbolId, line, col);
  if (c == '%' && mode == LexMode::Normal) return lex_name(TokenKind::ValueId, line, col);
  if (c == '-' && peek(1) == '>') {
    bump();
    bump();
    return make(TokenKind::Arrow, "->", line, col);
  }
  TokenKind kind;
  switch (c) {
    case '(': kind = TokenKind::LParen; break;
    case ')': kind = TokenKind::RParen; break;
    case '[': kind = TokenKind::LBracket; break;
    case ']': kind = TokenKind::RBracket; break;
    case '{': kind = TokenKind::LBrace; break;
    case '}': kind = TokenKind::RBrace; break;
    case ',': kind = TokenKind::Comma; break;
    case ':': kind = TokenKind::Colon; break;
    case '=': kind = TokenKind::Equal; break;
    case '+': kind = TokenKind::Plus; break;
    case '-': kind = TokenKind::Minus; break;
    case '*': kind = TokenKind::Star; break;
    case '/': kind = TokenKind::Slash; break;
    case '%': kind = TokenKind::Percent; break;
    default: {
      std::string shown = static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f
                              ? std::string("'") + c + "'"
                              : "byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) +
                                    std::string(1, "0123456789abcdef"[c & 0xf]);
      return make(TokenKind::Error, "unexpected character " + shown, line, col);
    }
  }
  bump();
  return make(kind, std::string(1, c), line, col);
}

}  // namespace tessel
