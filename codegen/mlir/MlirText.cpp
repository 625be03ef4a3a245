// MLIR spellings for the exporter: element and tensor types, exact literals
// (floats print the shortest decimal of their exact value, so parsing gives the
// same bits; inf and NaN print as hex bit patterns), dense constants, symbol
// names, and the SSA namer and text block the emitters write into.
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "codegen/mlir/MlirEmitter.h"
#include "ir/Half.h"

namespace tessel::mlir {
namespace {

/// Elements above which a constant prints as hex bytes (the same threshold as the .tsl printer).
constexpr int64_t kMaxDecimalElements = 64;

/// Decimal text that MLIR lexes as a float literal: it must contain a '.'.
std::string decimal(double value) {
  std::string text = fmt::format("{}", value);
  size_t exponent = text.find_first_of("eE");
  if (text.find('.') != std::string::npos) return text;
  if (exponent == std::string::npos) return text + ".0";
  return text.substr(0, exponent) + ".0" + text.substr(exponent);
}

/// Bit pattern of `value` (already representable) in `dtype`, for inf and NaN.
std::string hex_bits(double value, DType dtype) {
  switch (dtype) {
    case DType::F64: return fmt::format("0x{:016X}", std::bit_cast<uint64_t>(value));
    case DType::F16: return fmt::format("0x{:04X}", float_to_half(static_cast<float>(value)));
    case DType::BF16: return fmt::format("0x{:04X}", float_to_bf16(static_cast<float>(value)));
    default: return fmt::format("0x{:08X}", float_bits(static_cast<float>(value)));
  }
}

/// `value` rounded to `dtype` the way Tensor::from_doubles stores it.
double round_to(double value, DType dtype) {
  switch (dtype) {
    case DType::F64: return value;
    case DType::F16: return half_to_float(float_to_half(static_cast<float>(value)));
    case DType::BF16: return bf16_to_float(float_to_bf16(static_cast<float>(value)));
    default: return static_cast<float>(value);
  }
}

std::string raw_hex(const Tensor& tensor) {
  const auto* bytes = static_cast<const uint8_t*>(tensor.raw_data());
  std::string text = "\"0x";
  text.reserve(tensor.nbytes() * 2 + 4);
  for (size_t i = 0; i < tensor.nbytes(); ++i) text += fmt::format("{:02X}", bytes[i]);
  return text + "\"";
}

bool is_splat(const Tensor& tensor) {
  size_t size = dtype_size(tensor.dtype());
  const auto* bytes = static_cast<const uint8_t*>(tensor.raw_data());
  for (int64_t i = 1; i < tensor.numel(); ++i)
    if (std::memcmp(bytes, bytes + i * size, size) != 0) return false;
  return true;
}

/// Nested lists over dims [axis, rank) starting at element `flat`.
void nested(const Tensor& tensor, size_t axis, int64_t& flat, std::string& out) {
  if (axis == tensor.shape().size()) {
    out += element_literal(tensor, flat++);
    return;
  }
  out += "[";
  for (int64_t i = 0; i < tensor.dim(static_cast<int64_t>(axis)); ++i) {
    if (i) out += ", ";
    nested(tensor, axis + 1, flat, out);
  }
  out += "]";
}

bool is_bare_id(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.')) return false;
  return true;
}

}  // namespace

std::string elem_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::F64: return "f64";
    case DType::Bool: return "i1";
    default: return fmt::format("i{}", bit_width(dtype));
  }
}

std::string tensor_type(const TensorType& type) {
  std::string text = "tensor<";
  for (const Dim& dim : type.shape) {
    auto value = dim.as_const();
    text += value ? std::to_string(*value) : "?";
    text += "x";
  }
  return text + elem_type(type.dtype) + ">";
}

bool is_unsigned(DType dtype) { return is_integer(dtype) && !is_signed_integer(dtype); }

int bit_width(DType dtype) { return dtype == DType::Bool ? 1 : static_cast<int>(dtype_size(dtype) * 8); }

DType compute_dtype(DType dtype) { return dtype == DType::F16 || dtype == DType::BF16 ? DType::F32 : dtype; }

std::string float_literal(double value, DType dtype) {
  double rounded = round_to(value, dtype);
  if (std::isnan(rounded)) {
    switch (dtype) {
      case DType::F64: return "0x7FF8000000000000";
      case DType::F16: return "0x7E00";
      case DType::BF16: return "0x7FC0";
      default: return "0x7FC00000";
    }
  }
  if (std::isinf(rounded)) return hex_bits(rounded, dtype);
  return decimal(rounded);
}

std::string element_literal(const Tensor& tensor, int64_t flat) {
  DType dtype = tensor.dtype();
  if (dtype == DType::Bool) return tensor.data<uint8_t>()[flat] ? "true" : "false";
  if (dtype == DType::U64) return std::to_string(tensor.data<uint64_t>()[flat]);
  if (is_integer(dtype)) return std::to_string(tensor.get_int(flat));
  double value = tensor.get_double(flat);
  if (std::isfinite(value)) return decimal(value);
  // Keep NaN payloads and signs bit for bit.
  switch (dtype) {
    case DType::F64: return fmt::format("0x{:016X}", std::bit_cast<uint64_t>(value));
    case DType::F16:
    case DType::BF16: return fmt::format("0x{:04X}", tensor.data<uint16_t>()[flat]);
    default: return fmt::format("0x{:08X}", float_bits(tensor.data<float>()[flat]));
  }
}

std::string dense_literal(const Tensor& tensor) {
  if (tensor.numel() == 0) return "dense<>";
  if (is_splat(tensor)) return "dense<" + element_literal(tensor, 0) + ">";
  // i1 hex data would be bit-packed in MLIR, unlike Tessel's bytes: bool always prints as a list.
  if (tensor.numel() > kMaxDecimalElements && tensor.dtype() != DType::Bool) return "dense<" + raw_hex(tensor) + ">";
  std::string text = "dense<";
  int64_t flat = 0;
  nested(tensor, 0, flat, text);
  return text + ">";
}

std::string symbol_name(const std::string& name) { return "@" + (is_bare_id(name) ? name : string_literal(name)); }

std::string string_literal(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      quoted += fmt::format("\\{:02X}", static_cast<unsigned char>(c));
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string Namer::fresh(std::string_view hint) {
  std::string base;
  for (char c : hint)
    base += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.' || c == '-') ? c : '_';
  if (base.empty()) {
    // Anonymous temporaries: %t0, %t1, ... skipping any taken by a named value.
    while (true) {
      std::string name = fmt::format("t{}", counter_++);
      if (used_.insert(name).second) return "%" + name;
    }
  }
  if (std::isdigit(static_cast<unsigned char>(base[0]))) base = "v" + base;
  std::string name = base;
  for (int suffix = 1; !used_.insert(name).second; ++suffix) name = fmt::format("{}_{}", base, suffix);
  return "%" + name;
}

std::string Block::def(std::string_view text, std::string_view hint) {
  std::string name = namer_->fresh(hint);
  put(name + " = " + std::string(text));
  return name;
}

std::string Block::def_constant(const std::string& text) {
  auto it = constants_.find(text);
  if (it != constants_.end()) return it->second;
  std::string name = def(text);
  constants_.emplace(text, name);
  return name;
}

void Block::put(std::string_view text) {
  text_.append(static_cast<size_t>(indent_), ' ');
  text_ += text;
  text_ += '\n';
}

void Block::append(const Block& inner) { text_ += inner.text_; }

}  // namespace tessel::mlir
