// The value-level half of the text-form parser: tensor types, dim
// expressions, numbers, and constant data (decimal lists and hex bytes).
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "ir/Half.h"
#include "ir/LowPrecision.h"
#include "ir/ParserImpl.h"

namespace tessel::parser_detail {
namespace {

template <typename T>
void append_bytes(std::vector<unsigned char>& bytes, T value) {
  unsigned char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  bytes.insert(bytes.end(), raw, raw + sizeof(T));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Types and dims

Expected<TensorType> Parser::parse_type() {
  if (!at(TokenKind::Ident)) return unexpected("a type such as f32[N, 3]");
  auto dtype = parse_dtype(tok_.text);
  if (!dtype) return error_at(tok_, fmt::format("unknown element type '{}'", tok_.text));
  advance();
  if (!at(TokenKind::LBracket)) return unexpected("'[' after the element type (a scalar is written f32[])");
  advance(LexMode::Dim);
  TESSEL_ASSIGN(Shape shape, parse_dim_list());
  return TensorType{*dtype, std::move(shape)};
}

Expected<Shape> Parser::parse_dim_list() {
  Shape dims;
  if (at(TokenKind::RBracket)) {
    advance();
    return dims;
  }
  while (true) {
    TESSEL_ASSIGN(Dim dim, parse_dim_sum(0));
    dims.push_back(std::move(dim));
    if (at(TokenKind::RBracket)) {
      advance();
      return dims;
    }
    if (!at(TokenKind::Comma)) return unexpected("',' or ']' in a dim list");
    advance(LexMode::Dim);
  }
}

Expected<Dim> Parser::parse_dim_sum(int depth) {
  TESSEL_ASSIGN(Dim sum, parse_dim_product(depth));
  while (at(TokenKind::Plus) || at(TokenKind::Minus)) {
    bool minus = at(TokenKind::Minus);
    advance(LexMode::Dim);
    TESSEL_ASSIGN(Dim term, parse_dim_product(depth));
    auto a = sum.as_const(), b = term.as_const();
    int64_t folded = 0;
    if (a && b && (minus ? __builtin_sub_overflow(*a, *b, &folded) : __builtin_add_overflow(*a, *b, &folded)))
      return error_at(tok_, "bad dim expression: integer overflow");
    sum = minus ? sum - term : sum + term;
  }
  return sum;
}

Expected<Dim> Parser::parse_dim_product(int depth) {
  TESSEL_ASSIGN(Dim product, parse_dim_atom(depth));
  while (at(TokenKind::Star) || at(TokenKind::Slash) || at(TokenKind::Percent)) {
    TokenKind op = tok_.kind;
    advance(LexMode::Dim);
    Token rhs_token = tok_;
    TESSEL_ASSIGN(Dim rhs, parse_dim_atom(depth));
    if (op == TokenKind::Star) {
      auto a = product.as_const(), b = rhs.as_const();
      int64_t folded = 0;
      if (a && b && __builtin_mul_overflow(*a, *b, &folded))
        return error_at(rhs_token, "bad dim expression: integer overflow");
      product = product * rhs;
      continue;
    }
    auto divisor = rhs.as_const();
    if (!divisor || *divisor <= 0)
      return error_at(rhs_token, fmt::format("bad dim expression: the divisor of '{}' must be a positive constant, "
                                             "got {}",
                                             op == TokenKind::Slash ? "/" : "%", rhs.str()));
    product = op == TokenKind::Slash ? product.floordiv(*divisor) : product.mod(*divisor);
  }
  return product;
}

Expected<Dim> Parser::parse_dim_atom(int depth) {
  if (depth > kMaxDimDepth) return error_at(tok_, "bad dim expression: nested too deeply");
  if (at(TokenKind::Minus)) {
    advance(LexMode::Dim);
    if (at(TokenKind::Int)) return parse_dim_literal(true);  // so that -9223372036854775808 reads back
    TESSEL_ASSIGN(Dim inner, parse_dim_atom(depth + 1));
    return -inner;
  }
  if (at(TokenKind::LParen)) {
    advance(LexMode::Dim);
    TESSEL_ASSIGN(Dim inner, parse_dim_sum(depth + 1));
    if (!at(TokenKind::RParen)) return unexpected("')' in a dim expression");
    advance(LexMode::Dim);
    return inner;
  }
  if (at(TokenKind::Ident)) {
    Dim symbol = Dim::symbol(tok_.text);
    advance(LexMode::Dim);
    return symbol;
  }
  if (at(TokenKind::Int)) return parse_dim_literal(false);
  return unexpected("a dim (an integer, a symbol or a parenthesized expression)");
}

Expected<Dim> Parser::parse_dim_literal(bool negative) {
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), magnitude);
  uint64_t limit = uint64_t{std::numeric_limits<int64_t>::max()} + (negative ? 1 : 0);
  if (ec != std::errc() || magnitude > limit)
    return error_at(tok_,
                    fmt::format("bad dim expression: {}{} does not fit in 64 bits", negative ? "-" : "", tok_.text));
  advance(LexMode::Dim);
  return Dim(negative ? static_cast<int64_t>(uint64_t{0} - magnitude) : static_cast<int64_t>(magnitude));
}

// ---------------------------------------------------------------------------------------------------
// Numbers

Expected<int64_t> Parser::parse_signed_int() {
  bool negative = at(TokenKind::Minus);
  if (negative) advance();
  if (!at(TokenKind::Int)) return unexpected("an integer");
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), magnitude);
  uint64_t limit = uint64_t{std::numeric_limits<int64_t>::max()} + (negative ? 1 : 0);
  if (ec != std::errc() || magnitude > limit)
    return error_at(tok_, fmt::format("integer {}{} does not fit in 64 bits", negative ? "-" : "", tok_.text));
  advance();
  // Through unsigned negation so that -9223372036854775808 is exact.
  return negative ? static_cast<int64_t>(uint64_t{0} - magnitude) : static_cast<int64_t>(magnitude);
}

Expected<double> Parser::parse_double() {
  bool negative = at(TokenKind::Minus);
  if (negative) advance();
  double value = 0;
  if (at_word("inf")) {
    value = std::numeric_limits<double>::infinity();
  } else if (at_word("nan")) {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (at(TokenKind::Int) || at(TokenKind::Float)) {
    auto [end, ec] = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), value);
    if (ec != std::errc()) return error_at(tok_, fmt::format("number {} is out of range for f64", tok_.text));
  } else {
    return unexpected("a number");
  }
  advance();
  return negative ? -value : value;
}

// ---------------------------------------------------------------------------------------------------
// Constants: `const @name : TYPE = [elements] | hex"bytes"`

Status Parser::parse_constant() {
  advance();  // 'const'
  if (!at(TokenKind::SymbolId)) return unexpected("a constant name (@name)");
  Token name = tok_;
  if (module_->constant(name.text)) return error_at(name, fmt::format("constant @{} is defined twice", name.text));
  advance();
  TESSEL_TRY(expect(TokenKind::Colon));
  Token type_token = tok_;
  TESSEL_ASSIGN(TensorType type, parse_type());
  auto dims = static_shape(type.shape);
  if (!dims)
    return error_at(type_token, fmt::format("constant @{} needs a static shape, got {}", name.text, type.str()));
  uint64_t numel = 1;
  for (int64_t dim : *dims) {
    if (dim < 0)
      return error_at(type_token, fmt::format("constant @{} has a negative dim in {}", name.text, type.str()));
    if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(dim))
      return error_at(type_token, fmt::format("constant @{} of type {} is too large", name.text, type.str()));
    numel *= static_cast<uint64_t>(dim);
  }
  TESSEL_TRY(expect(TokenKind::Equal));
  if (at_word("elided"))
    return error_at(tok_,
                    fmt::format("constant @{} was printed with its data elided and cannot be parsed back", name.text),
                    "print with full constants (`tessel dump --full-constants`)");
  if (type.dtype == DType::String) {  // a list of quoted strings; strings have no hex form
    Token value_token = tok_;
    if (!at(TokenKind::LBracket))
      return unexpected(fmt::format("the value of constant @{}: a list of quoted strings", name.text));
    advance();
    std::vector<std::string> strings;
    while (!at(TokenKind::RBracket) || !strings.empty()) {  // a ',' must be followed by another string
      if (!at(TokenKind::String)) return unexpected(fmt::format("a quoted string in constant @{}", name.text));
      strings.push_back(tok_.text);
      advance();
      if (at(TokenKind::RBracket)) break;
      if (!at(TokenKind::Comma)) return unexpected(fmt::format("',' or ']' in the values of constant @{}", name.text));
      advance();
    }
    advance();  // ']'
    if (strings.size() != numel)
      return error_at(value_token, fmt::format("constant @{} has {} values, but {} needs {}", name.text, strings.size(),
                                               type.str(), numel));
    Tensor tensor(type.dtype, *dims);
    std::move(strings.begin(), strings.end(), tensor.data<std::string>());
    module_->add_constant(name.text, std::move(tensor));
    return Status::success();
  }
  size_t element_size = dtype_size(type.dtype);
  std::vector<unsigned char> bytes;
  Token value_token = tok_;
  if (at_word("hex")) {
    advance();
    TESSEL_TRY(parse_hex(name, element_size, bytes));
    if (bytes.size() != numel * element_size)
      return error_at(value_token, fmt::format("constant @{}: hex data has {} bytes, but {} needs {}", name.text,
                                               bytes.size(), type.str(), numel * element_size));
  } else {
    int64_t count = 0;
    TESSEL_TRY(parse_constant_list(type, name, bytes, count));
    if (static_cast<uint64_t>(count) != numel)
      return error_at(value_token,
                      fmt::format("constant @{} has {} values, but {} needs {}", name.text, count, type.str(), numel));
  }
  // The data was in the text, so its size is already bounded by the input: allocating is safe.
  Tensor tensor(type.dtype, *dims);
  if (!bytes.empty()) std::memcpy(tensor.raw_data(), bytes.data(), bytes.size());
  module_->add_constant(name.text, std::move(tensor));
  return Status::success();
}

Status Parser::parse_constant_list(const TensorType& type, const Token& name, std::vector<unsigned char>& bytes,
                                   int64_t& count) {
  if (!at(TokenKind::LBracket))
    return unexpected(fmt::format("the value of constant @{}: [elements] or hex\"...\"", name.text));
  advance();
  if (at(TokenKind::RBracket)) {
    advance();
    return Status::success();
  }
  while (true) {
    TESSEL_TRY(parse_element(type.dtype, bytes));
    ++count;
    if (at(TokenKind::RBracket)) {
      advance();
      return Status::success();
    }
    if (!at(TokenKind::Comma)) return unexpected(fmt::format("',' or ']' in the values of constant @{}", name.text));
    advance();
  }
}

Status Parser::parse_element(DType dtype, std::vector<unsigned char>& bytes) {
  if (dtype == DType::Bool) {
    if (!at_word("true") && !at_word("false")) return unexpected("true or false");
    bytes.push_back(at_word("true") ? 1 : 0);
    advance();
    return Status::success();
  }
  if (is_float(dtype) || is_low_precision_float(dtype)) {
    if (dtype == DType::F64) {
      TESSEL_ASSIGN(double value, parse_double());
      append_bytes(bytes, value);
      return Status::success();
    }
    // Read f32 (and the 16-bit floats, which round from f32) straight into a float: going through
    // double would round twice.
    bool negative = at(TokenKind::Minus);
    if (negative) advance();
    float value = 0;
    if (at_word("inf") || at_word("nan")) {
      value = at_word("inf") ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    } else if (at(TokenKind::Int) || at(TokenKind::Float)) {
      auto [end, ec] = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), value);
      if (ec == std::errc::result_out_of_range) {
        double wide = std::strtod(tok_.text.c_str(), nullptr);  // saturates to inf or flushes to 0
        value = static_cast<float>(wide);
      }
    } else {
      return unexpected("a number");
    }
    Token token = tok_;
    advance();
    if (negative) value = -value;
    if (is_low_precision_float(dtype)) {
      auto bits = low_precision_from_text(dtype, value);
      if (!bits)
        return error_at(token,
                        fmt::format("value {}{} is out of range for {} (largest finite value {})", negative ? "-" : "",
                                    token.text, dtype_name(dtype), low_precision_max(dtype)));
      bytes.push_back(*bits);
      return Status::success();
    }
    if (dtype == DType::F32) append_bytes(bytes, value);
    if (dtype == DType::F16) append_bytes(bytes, float_to_half(value));
    if (dtype == DType::BF16) append_bytes(bytes, float_to_bf16(value));
    return Status::success();
  }
  Token token = tok_;
  bool negative = at(TokenKind::Minus);
  if (negative) advance();
  if (!at(TokenKind::Int)) return unexpected(fmt::format("an integer ({})", dtype_name(dtype)));
  std::string digits = tok_.text;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  advance();
  // Range of the dtype: [-min_magnitude, max].
  uint64_t max = dtype == DType::U64
                     ? std::numeric_limits<uint64_t>::max()
                     : (uint64_t{1} << (dtype_size(dtype) * 8 - (is_signed_integer(dtype) ? 1 : 0))) - 1;
  uint64_t min_magnitude = is_signed_integer(dtype) ? max + 1 : 0;
  if (is_low_precision_int(dtype)) {
    max = static_cast<uint64_t>(low_precision_max(dtype));
    min_magnitude = static_cast<uint64_t>(-low_precision_lowest(dtype));
  }
  if (ec != std::errc() || (negative ? magnitude > min_magnitude : magnitude > max))
    return error_at(token,
                    fmt::format("value {}{} is out of range for {}", negative ? "-" : "", digits, dtype_name(dtype)));
  uint64_t bits = negative ? uint64_t{0} - magnitude : magnitude;
  if (is_low_precision_int(dtype)) bits = int_to_low_precision(dtype, static_cast<int64_t>(bits));  // sign-extended
  // Little-endian hosts keep the low bytes first; write through the sized type to be order-independent.
  switch (dtype_size(dtype)) {
    case 1: append_bytes(bytes, static_cast<uint8_t>(bits)); break;
    case 2: append_bytes(bytes, static_cast<uint16_t>(bits)); break;
    case 4: append_bytes(bytes, static_cast<uint32_t>(bits)); break;
    default: append_bytes(bytes, bits); break;
  }
  return Status::success();
}

Status Parser::parse_hex(const Token& name, size_t element_size, std::vector<unsigned char>& bytes) {
  if (!at(TokenKind::String)) return unexpected("a string of hex digits after 'hex'");
  const std::string& digits = tok_.text;
  if (digits.size() % 2 != 0)
    return error_at(tok_, fmt::format("constant @{}: hex data has an odd number of digits", name.text));
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes.reserve(digits.size() / 2);
  for (size_t i = 0; i < digits.size(); i += 2) {
    int high = nibble(digits[i]), low = nibble(digits[i + 1]);
    if (high < 0 || low < 0)
      return error_at(
          tok_, fmt::format("constant @{}: '{}' is not a hex digit", name.text, high < 0 ? digits[i] : digits[i + 1]));
    bytes.push_back(static_cast<unsigned char>(high * 16 + low));
  }
  // The text is little-endian per element.
  if constexpr (std::endian::native == std::endian::big) {
    for (size_t offset = 0; offset + element_size <= bytes.size(); offset += element_size)
      std::reverse(bytes.begin() + offset, bytes.begin() + offset + element_size);
  }
  advance();
  return Status::success();
}

}  // namespace tessel::parser_detail
