// Prints modules in the text form. Everything here is canonical -- attributes
// sorted, constants in pool order, floats in their shortest round-trip text --
// so that print(parse(print(m))) == print(m) holds byte for byte.
#include "ir/Printer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "ir/Half.h"
#include "ir/LowPrecision.h"
#include "ir/ValueNames.h"

namespace tessel {
namespace {

// Constants with at most this many elements print as a decimal list, larger ones as hex bytes (low-precision
// types one byte per element, as host tensors hold them); strings always print as a list.
constexpr int64_t kMaxDecimalElements = 64;

std::string with_point(std::string text) {
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string special_float_str(float value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

// Shortest text that reads back (std::from_chars) as the same float.
std::string f32_str(float value) {
  if (!std::isfinite(value)) return special_float_str(value);
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return with_point(std::string(buffer, result.ptr));
}

// Shortest text that reads back as the same 16-bit float: the parser reads the decimal as a float
// and rounds it with `to_bits`, so try increasing precision under exactly that conversion.
std::string half_str(uint16_t bits, float (*to_float)(uint16_t), uint16_t (*to_bits)(float)) {
  float value = to_float(bits);
  if (!std::isfinite(value)) return special_float_str(value);
  for (int precision = 1; precision <= 9; ++precision) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general, precision);
    float back = 0;
    std::from_chars(buffer, result.ptr, back);
    if (to_bits(back) == bits) return f32_str(back);
  }
  return f32_str(value);
}

// Low-precision floats print as their values ("-nan" keeps a NaN's sign), integers as integers.
std::string low_precision_str(DType dtype, uint8_t bits) {
  float value = low_precision_to_float(dtype, bits);
  if (is_low_precision_int(dtype)) return std::to_string(static_cast<int>(value));
  if (std::isnan(value)) return std::signbit(value) ? "-nan" : "nan";
  return f32_str(value);
}

// Whether the decimal list reads back to the same bits: not for a low-precision NaN with a payload
// other than the one the parser writes.
bool decimal_round_trips(const Tensor& tensor) {
  if (!is_low_precision_float(tensor.dtype())) return true;
  const auto* bits = tensor.data<uint8_t>();
  for (int64_t i = 0; i < tensor.numel(); ++i)
    if (low_precision_from_text(tensor.dtype(), low_precision_to_float(tensor.dtype(), bits[i])) != bits[i])
      return false;
  return true;
}

std::string element_str(const Tensor& tensor, int64_t i) {
  switch (tensor.dtype()) {
    case DType::F32: return f32_str(tensor.data<float>()[i]);
    case DType::F64: return float_str(tensor.data<double>()[i]);
    case DType::F16: return half_str(tensor.data<uint16_t>()[i], half_to_float, float_to_half);
    case DType::BF16: return half_str(tensor.data<uint16_t>()[i], bf16_to_float, float_to_bf16);
    case DType::Bool: return tensor.data<uint8_t>()[i] ? "true" : "false";
    case DType::U64: return std::to_string(tensor.data<uint64_t>()[i]);
    case DType::String: return attr_value_str(Attr(tensor.data<std::string>()[i]));  // quoted and escaped
    default:
      if (is_low_precision(tensor.dtype())) return low_precision_str(tensor.dtype(), tensor.data<uint8_t>()[i]);
      return std::to_string(tensor.get_int(i));
  }
}

std::string decimal_str(const Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    if (i) text += ", ";
    text += element_str(tensor, i);
  }
  return text + "]";
}

// Raw bytes, each element little-endian whatever the host order.
std::string hex_str(const Tensor& tensor) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t element_size = dtype_size(tensor.dtype());
  const auto* bytes = static_cast<const unsigned char*>(tensor.raw_data());
  std::string text = "hex\"";
  text.reserve(tensor.nbytes() * 2 + 5);
  for (size_t offset = 0; offset < tensor.nbytes(); offset += element_size) {
    for (size_t k = 0; k < element_size; ++k) {
      size_t index = std::endian::native == std::endian::little ? offset + k : offset + element_size - 1 - k;
      text += kDigits[bytes[index] >> 4];
      text += kDigits[bytes[index] & 0xf];
    }
  }
  return text + "\"";
}

std::string constant_value_str(const Tensor& tensor, const PrintOptions& options) {
  if (options.elide_constants_above >= 0 && tensor.numel() > options.elide_constants_above)
    return fmt::format("elided(hash = \"{:016x}\")", tensor.content_hash());
  // Strings have no byte form: always a list of quoted strings.
  if (tensor.dtype() == DType::String) return decimal_str(tensor);
  if (tensor.numel() <= kMaxDecimalElements && decimal_round_trips(tensor)) return decimal_str(tensor);
  return hex_str(tensor);
}

std::string tensor_type_str(const Tensor& tensor) {
  TensorType type{tensor.dtype(), to_shape(tensor.shape())};
  return type.str();
}

// Output names print bare when they lex as one name token (a letter or '_' first), else quoted.
std::string output_name_str(const std::string& name) {
  bool bare = !name.empty() && is_plain_identifier(name) &&
              ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_');
  if (bare) return name;
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

bool prints_as_const(const Op& op) {
  if (op.kind() != OpKind::Const || op.num_operands() != 0 || op.num_results() != 1) return false;
  auto it = op.attrs().find("name");
  return op.attrs().size() == 1 && it != op.attrs().end() && it->second.kind() == AttrKind::String;
}

std::string attrs_str(const AttrMap& attrs) {
  if (attrs.empty()) return "";
  std::string text = " {";
  bool first = true;
  for (const auto& [name, value] : attrs) {
    if (!first) text += ", ";
    first = false;
    text += name + " = " + attr_value_str(value);
  }
  return text + "}";
}

std::string op_str(const Op& op, const ValueNames& names) {
  std::string text;
  for (size_t i = 0; i < op.num_results(); ++i) text += (i ? ", " : "") + names(op.result(i));
  text += " = ";
  if (prints_as_const(op)) {
    text += "const @" + quote_identifier(op.attrs().at("name").as_string()) + " : " + op.result()->type().str();
  } else {
    text += std::string(op.name()) + "(";
    for (size_t i = 0; i < op.num_operands(); ++i) {
      if (i) text += ", ";
      text += op.operand(i) ? names(op.operand(i)) : "none";
    }
    text += ")" + attrs_str(op.attrs()) + " : ";
    for (size_t i = 0; i < op.num_results(); ++i) text += (i ? ", " : "") + op.result(i)->type().str();
  }
  if (!op.location().empty()) text += " loc(" + attr_value_str(Attr(op.location())) + ")";
  return text;
}

}  // namespace

std::string print_function(const Function& function, const PrintOptions& options) {
  ValueNames names(function);
  std::string text = "func @" + quote_identifier(function.name()) + "(";
  for (size_t i = 0; i < function.inputs().size(); ++i) {
    const Value* input = function.inputs()[i];
    text += (i ? ", " : "") + names(input) + ": " + input->type().str();
  }
  text += ") -> (";
  const auto& outputs = function.outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string name = i < function.output_names().size() ? function.output_names()[i] : "";
    if (name.empty()) name = "output" + std::to_string(i);
    text += (i ? ", " : "") + output_name_str(name) + ": " + outputs[i]->type().str();
  }
  text += ") {\n";
  for (const Op* op : function.ops()) text += "  " + op_str(*op, names) + "\n";
  text += "  return";
  for (size_t i = 0; i < outputs.size(); ++i) text += (i ? ", " : " ") + names(outputs[i]);
  return text + "\n}\n";
}

std::string print_module(const Module& module, const PrintOptions& options) {
  std::string text;
  for (const auto& [name, tensor] : module.constants())
    text += "const @" + quote_identifier(name) + " : " + tensor_type_str(tensor) + " = " +
            constant_value_str(tensor, options) + "\n";
  for (const auto& function : module.functions()) {
    if (!text.empty()) text += "\n";
    text += print_function(*function, options);
  }
  return text;
}

}  // namespace tessel
