// Op attributes: small typed values attached to an op by name. The op table
// declares, per op, which attributes exist, their kinds and defaults; the
// verifier checks them and `AttrReader` applies the defaults.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ir/DType.h"
#include "ir/Dim.h"

namespace tessel {

enum class AttrKind { Int, Float, String, Ints, Floats, Strings, Dims, Type };

std::string_view attr_kind_name(AttrKind kind);

class Attr {
 public:
  using Storage = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>,
                               std::vector<std::string>, Shape, DType>;

  Attr(int64_t value) : value_(value) {}  // NOLINT: attributes convert implicitly in builders.
  Attr(int value) : value_(int64_t{value}) {}
  Attr(double value) : value_(value) {}
  Attr(std::string value) : value_(std::move(value)) {}
  Attr(const char* value) : value_(std::string(value)) {}
  Attr(std::vector<int64_t> value) : value_(std::move(value)) {}
  Attr(std::vector<double> value) : value_(std::move(value)) {}
  Attr(std::vector<std::string> value) : value_(std::move(value)) {}
  Attr(Shape value) : value_(std::move(value)) {}
  Attr(DType value) : value_(value) {}

  AttrKind kind() const { return static_cast<AttrKind>(value_.index()); }
  const Storage& storage() const { return value_; }

  int64_t as_int() const { return std::get<int64_t>(value_); }
  double as_float() const { return std::get<double>(value_); }
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const std::vector<int64_t>& as_ints() const { return std::get<std::vector<int64_t>>(value_); }
  const std::vector<double>& as_floats() const { return std::get<std::vector<double>>(value_); }
  const std::vector<std::string>& as_strings() const { return std::get<std::vector<std::string>>(value_); }
  const Shape& as_dims() const { return std::get<Shape>(value_); }
  DType as_type() const { return std::get<DType>(value_); }

  bool operator==(const Attr& other) const;

 private:
  Storage value_;
};

/// Attributes by name; ordered so that printing is canonical.
using AttrMap = std::map<std::string, Attr>;

/// Text of an attribute value as the IR prints it: 1, 0.5, "same", [1, 2], [N, 3], f32.
std::string attr_value_str(const Attr& attr);
/// Shortest decimal text that reads back as the same double, always with '.', 'e', "inf" or "nan".
std::string float_str(double value);

}  // namespace tessel
