#include "ir/OpTable.h"

#include <cassert>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/ops/Families.h"

namespace tessel {
namespace {

struct FamilyFns {
  ShapeFn infer;
  EvalFn eval;
};

bool is_storage_dtype(DType dtype) { return dtype == DType::String || is_low_precision(dtype); }

Error storage_dtype_error(OpKind kind, DType dtype) {
  return Error{fmt::format("'{}' does not accept {} tensors", op_info(kind).name, dtype_name(dtype)),
               {},
               "strings and low-precision types only move through shape ops and casts; cast to a compute type "
               "first"};
}

template <ShapeFn Infer>
Expected<std::vector<TensorType>> infer_admitted(const ShapeContext& ctx) {
  for (const TensorType* operand : ctx.operands)
    if (operand && is_storage_dtype(operand->dtype) && !admits_storage_dtype(ctx.kind, operand->dtype))
      return storage_dtype_error(ctx.kind, operand->dtype);
  auto results = Infer(ctx);
  if (!results) return results;
  for (const TensorType& result : *results)
    if (is_storage_dtype(result.dtype) && !admits_storage_dtype(ctx.kind, result.dtype))
      return storage_dtype_error(ctx.kind, result.dtype);
  return results;
}

FamilyFns family_fns(OpFamily family) {
  switch (family) {
#define TESSEL_FAMILY(Family, family) \
  case OpFamily::Family:              \
    return {&infer_admitted<&ops::infer_##family>, &ops::eval_##family};
#include "ir/ops/Families.def"
#undef TESSEL_FAMILY
  }
  return {nullptr, nullptr};
}

std::optional<AttrKind> parse_kind(std::string_view text) {
  for (AttrKind kind : {AttrKind::Int, AttrKind::Float, AttrKind::String, AttrKind::Ints, AttrKind::Floats,
                        AttrKind::Strings, AttrKind::Dims, AttrKind::Type})
    if (attr_kind_name(kind) == text) return kind;
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
  // "[1, 2]" -> {"1", "2"}; "[]" -> {}.
  std::vector<std::string> items;
  std::string inner(text.substr(1, text.size() - 2));
  std::stringstream stream(inner);
  std::string item;
  while (std::getline(stream, item, ',')) {
    auto begin = item.find_first_not_of(' ');
    if (begin != std::string::npos) items.push_back(item.substr(begin));
  }
  return items;
}

// Defaults in Ops.def use a tiny subset of the text syntax; anything else is a table bug.
Attr parse_default(AttrKind kind, std::string_view text) {
  switch (kind) {
    case AttrKind::Int: return Attr(static_cast<int64_t>(std::strtoll(std::string(text).c_str(), nullptr, 10)));
    case AttrKind::Float: return Attr(std::strtod(std::string(text).c_str(), nullptr));
    case AttrKind::String: return Attr(std::string(text));
    case AttrKind::Type: return Attr(*parse_dtype(text));
    case AttrKind::Ints: {
      std::vector<int64_t> values;
      for (const auto& item : split_list(text))
        values.push_back(static_cast<int64_t>(std::strtoll(item.c_str(), nullptr, 10)));
      return Attr(values);
    }
    case AttrKind::Floats: {
      std::vector<double> values;
      for (const auto& item : split_list(text)) values.push_back(std::strtod(item.c_str(), nullptr));
      return Attr(values);
    }
    case AttrKind::Strings: return Attr(split_list(text));
    case AttrKind::Dims: {
      Shape dims;
      for (const auto& item : split_list(text))
        dims.push_back(Dim(static_cast<int64_t>(std::strtoll(item.c_str(), nullptr, 10))));
      return Attr(dims);
    }
  }
  return Attr(int64_t{0});
}

std::vector<AttrSpec> parse_schema(std::string_view schema) {
  std::vector<AttrSpec> specs;
  std::stringstream stream{std::string(schema)};
  std::string entry;
  while (stream >> entry) {
    auto colon = entry.find(':');
    assert(colon != std::string::npos && "Ops.def attribute needs name:kind");
    AttrSpec spec;
    spec.name = entry.substr(0, colon);
    std::string rest = entry.substr(colon + 1);
    auto equals = rest.find('=');
    std::string kind_text = rest.substr(0, equals);
    if (!kind_text.empty() && kind_text.back() == '?') {
      spec.required = false;
      kind_text.pop_back();
    }
    auto kind = parse_kind(kind_text);
    assert(kind && "Ops.def attribute kind unknown");
    spec.kind = *kind;
    if (equals != std::string::npos) {
      spec.required = false;
      spec.default_value = parse_default(spec.kind, std::string_view(rest).substr(equals + 1));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

const std::vector<OpInfo>& table() {
  static const std::vector<OpInfo> ops = [] {
    std::vector<OpInfo> list;
#define TESSEL_OP(Enum, name, Family, min_in, max_in, min_out, max_out, attrs)                                         \
  {                                                                                                                    \
    FamilyFns fns = family_fns(OpFamily::Family);                                                                      \
    list.push_back(OpInfo{OpKind::Enum, name, OpFamily::Family, min_in, max_in, min_out, max_out, parse_schema(attrs), \
                          fns.infer, fns.eval});                                                                       \
  }
#include "ir/Ops.def"
#undef TESSEL_OP
    return list;
  }();
  return ops;
}

}  // namespace

// Strings and the low-precision types are storage formats: only the ops below move or convert them;
// everything else sees them after a cast. Checking here, in front of every shape rule, keeps the
// kernels (which know only the compute dtypes) from ever meeting them.
bool admits_storage_dtype(OpKind kind, DType dtype) {
  switch (kind) {
    case OpKind::Const:
    case OpKind::Cast:
    case OpKind::Reshape:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::ShapeOf: return true;
    // The string ops, and the ops that also compare or map strings.
    case OpKind::Equal:
    case OpKind::LabelEncode:
    case OpKind::StringConcat:
    case OpKind::RegexFullMatch:
    case OpKind::StringSplit:
    case OpKind::StringNormalizer: return dtype == DType::String;
    case OpKind::Transpose:
    case OpKind::Concat:
    case OpKind::Split:
    case OpKind::Slice:
    case OpKind::Gather:
    case OpKind::Expand:
    case OpKind::Tile:
    case OpKind::Kernel: return dtype != DType::String;  // fused casts and moves of low-precision values
    default: return false;
  }
}

const AttrSpec* OpInfo::find_attr(std::string_view attr_name) const {
  for (const auto& spec : attrs)
    if (spec.name == attr_name) return &spec;
  return nullptr;
}

const OpInfo& op_info(OpKind kind) { return table()[static_cast<size_t>(kind)]; }

const OpInfo* find_op(std::string_view name) {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, const OpInfo*> map;
    for (const auto& info : table()) map.emplace(info.name, &info);
    return map;
  }();
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

std::span<const OpInfo> all_ops() { return table(); }

// ---- AttrReader ----------------------------------------------------------------------------------

bool AttrReader::has(const std::string& name) const {
  if (attrs_->count(name)) return true;
  const AttrSpec* spec = op_info(kind_).find_attr(name);
  return spec && spec->default_value;
}

const Attr* AttrReader::find(const std::string& name, AttrKind kind) const {
  auto it = attrs_->find(name);
  if (it != attrs_->end() && it->second.kind() == kind) return &it->second;
  const AttrSpec* spec = op_info(kind_).find_attr(name);
  if (spec && spec->default_value && spec->default_value->kind() == kind) return &*spec->default_value;
  return nullptr;
}

// Missing attributes read as empty values; the verifier rejects ops that lack a required one.
int64_t AttrReader::i(const std::string& name) const {
  const Attr* attr = find(name, AttrKind::Int);
  return attr ? attr->as_int() : 0;
}

double AttrReader::f(const std::string& name) const {
  const Attr* attr = find(name, AttrKind::Float);
  return attr ? attr->as_float() : 0.0;
}

const std::string& AttrReader::s(const std::string& name) const {
  static const std::string empty;
  const Attr* attr = find(name, AttrKind::String);
  return attr ? attr->as_string() : empty;
}

const std::vector<int64_t>& AttrReader::ints(const std::string& name) const {
  static const std::vector<int64_t> empty;
  const Attr* attr = find(name, AttrKind::Ints);
  return attr ? attr->as_ints() : empty;
}

const std::vector<double>& AttrReader::floats(const std::string& name) const {
  static const std::vector<double> empty;
  const Attr* attr = find(name, AttrKind::Floats);
  return attr ? attr->as_floats() : empty;
}

const std::vector<std::string>& AttrReader::strings(const std::string& name) const {
  static const std::vector<std::string> empty;
  const Attr* attr = find(name, AttrKind::Strings);
  return attr ? attr->as_strings() : empty;
}

const Shape& AttrReader::dims(const std::string& name) const {
  static const Shape empty;
  const Attr* attr = find(name, AttrKind::Dims);
  return attr ? attr->as_dims() : empty;
}

DType AttrReader::type(const std::string& name) const {
  const Attr* attr = find(name, AttrKind::Type);
  return attr ? attr->as_type() : DType::F32;
}

}  // namespace tessel
