#include "ir/Attr.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace tessel {

std::string_view attr_kind_name(AttrKind kind) {
  switch (kind) {
    case AttrKind::Int: return "int";
    case AttrKind::Float: return "float";
    case AttrKind::String: return "string";
    case AttrKind::Ints: return "ints";
    case AttrKind::Floats: return "floats";
    case AttrKind::Strings: return "strings";
    case AttrKind::Dims: return "dims";
    case AttrKind::Type: return "type";
  }
  return "?";
}

bool Attr::operator==(const Attr& other) const {
  if (kind() != other.kind()) return false;
  if (kind() == AttrKind::Float) {
    // NaN attributes (e.g. a missing-value marker) compare equal to themselves.
    double a = as_float(), b = other.as_float();
    return a == b || (std::isnan(a) && std::isnan(b));
  }
  return value_ == other.value_;
}

std::string float_str(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

namespace {

std::string quote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (c == '\n') {
      quoted += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      quoted += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

template <typename T, typename F>
std::string list_str(const std::vector<T>& items, F&& item_str) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) text += ", ";
    text += item_str(items[i]);
  }
  return text + "]";
}

}  // namespace

std::string attr_value_str(const Attr& attr) {
  switch (attr.kind()) {
    case AttrKind::Int: return std::to_string(attr.as_int());
    case AttrKind::Float: return float_str(attr.as_float());
    case AttrKind::String: return quote(attr.as_string());
    case AttrKind::Ints: return list_str(attr.as_ints(), [](int64_t v) { return std::to_string(v); });
    case AttrKind::Floats: return list_str(attr.as_floats(), float_str);
    case AttrKind::Strings: return list_str(attr.as_strings(), quote);
    case AttrKind::Dims: return shape_str(attr.as_dims());
    case AttrKind::Type: return std::string(dtype_name(attr.as_type()));
  }
  return "?";
}

}  // namespace tessel
