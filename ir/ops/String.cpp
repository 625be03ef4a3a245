// The string family: string_concat (broadcasting), regex_full_match (-> bool), string_split (padded
// substrings and their counts) and string_normalizer (stopword removal and case change). Strings are
// UTF-8 byte sequences; host tensors hold std::string objects.
//
// Two results have dims that depend on the data: string_split's substring axis and the kept count of
// string_normalizer. The op carries that dim as an attribute (`parts`, `size`), like `range` carries its
// length. A constant there is checked (string_split pads up to it); a symbol that nothing else defines
// is bound when the op runs, so the rest of the function sees one symbolic dim for it (docs/ir.md).
#include <algorithm>
#include <cctype>
#include <locale>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "ir/ops/Elementwise.h"
#include "ir/ops/Families.h"

namespace tessel::ops {
namespace {

Status check_string(OpKind kind, const TensorType& type, std::string_view role) {
  if (type.dtype == DType::String) return Status::success();
  return make_error("{} needs a string {}, got {}", op_info(kind).name, role, type.str());
}

/// The value of a data-dependent dim attribute: exactly one dim, not negative.
Expected<Dim> dim_attr(const ShapeContext& ctx, const std::string& name) {
  const Shape& dims = ctx.attrs.dims(name);
  if (dims.size() != 1)
    return make_error("{} needs exactly one dim in '{}', got {}", op_info(ctx.kind).name, name, shape_str(dims));
  if (auto value = dims[0].as_const(); value && *value < 0)
    return make_error("{} '{}' is negative ({})", op_info(ctx.kind).name, name, *value);
  return dims[0];
}

// ---- string_concat ---------------------------------------------------------------------------------

Expected<Tensor> eval_concat(const Tensor& a, const Tensor& b) {
  TESSEL_ASSIGN(std::vector<int64_t> shape, broadcast_shapes(a.shape(), b.shape()));
  Tensor out(DType::String, shape);
  const auto* pa = a.data<std::string>();
  const auto* pb = b.data<std::string>();
  auto* dst = out.data<std::string>();
  for_each_broadcast<2>(shape, {a.shape(), b.shape()},
                        [&](int64_t i, const std::array<int64_t, 2>& at) { dst[i] = pa[at[0]] + pb[at[1]]; });
  return out;
}

// ---- regex_full_match ------------------------------------------------------------------------------
// ECMAScript syntax (std::regex) stands in for ONNX's RE2: the common subset (classes, \w \d \s \b,
// groups, alternation, counted repetition, anchors) means the same; RE2-only syntax such as (?P<name>)
// or \pL is rejected when the pattern is compiled, and matching is by bytes, not code points.

Expected<std::regex> compile_pattern(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    return make_error("regex_full_match pattern \"{}\" is not a valid ECMAScript regex: {}", pattern, error.what());
  }
}

Expected<Tensor> eval_regex(const Tensor& x, const std::string& pattern) {
  TESSEL_ASSIGN(std::regex regex, compile_pattern(pattern));
  Tensor out(DType::Bool, x.shape());
  try {
    for (int64_t i = 0; i < x.numel(); ++i) out.data<uint8_t>()[i] = std::regex_match(x.data<std::string>()[i], regex);
  } catch (const std::regex_error& error) {
    // std::regex reports patterns that explode on an input (error_complexity, error_stack) this way.
    return make_error("regex_full_match pattern \"{}\" failed on an input: {}", pattern, error.what());
  }
  return out;
}

// ---- string_split ----------------------------------------------------------------------------------
// A non-empty delimiter splits at every occurrence (consecutive ones delimit empty strings); an empty
// delimiter splits at runs of whitespace and drops leading and trailing whitespace (Python's str.split).
// At most `maxsplit` splits are made when it is >= 0; the rest of the string is the last part.

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::vector<std::string> split_on(const std::string& s, const std::string& delimiter, int64_t maxsplit) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (int64_t splits = 0; maxsplit < 0 || splits < maxsplit; ++splits) {
    size_t at = s.find(delimiter, start);
    if (at == std::string::npos) break;
    parts.push_back(s.substr(start, at - start));
    start = at + delimiter.size();
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::vector<std::string> split_whitespace(const std::string& s, int64_t maxsplit) {
  std::vector<std::string> parts;
  size_t i = 0, n = s.size();
  while (true) {
    while (i < n && is_space(s[i])) ++i;
    if (i == n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
      size_t end = n;
      while (end > i && is_space(s[end - 1])) --end;
      parts.push_back(s.substr(i, end - i));
      break;
    }
    size_t start = i;
    while (i < n && !is_space(s[i])) ++i;
    parts.push_back(s.substr(start, i - start));
  }
  return parts;
}

Expected<std::vector<Tensor>> eval_split(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::string& delimiter = ctx.attrs.s("delimiter");
  int64_t maxsplit = ctx.attrs.i("maxsplit");
  std::vector<std::vector<std::string>> split(static_cast<size_t>(x.numel()));
  int64_t most = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string& s = x.data<std::string>()[i];
    split[i] = delimiter.empty() ? split_whitespace(s, maxsplit) : split_on(s, delimiter, maxsplit);
    most = std::max(most, static_cast<int64_t>(split[i].size()));
  }
  // A symbolic width is bound to the most parts; a known one pads up to it and must hold them all.
  int64_t width = most;
  if (ctx.result_shapes.size() > 0 && ctx.result_shapes[0]) {
    width = ctx.result_shapes[0]->back();
    if (width < most)
      return make_error(
          "string_split: an input element splits into {} parts, more than the result's {} (attribute "
          "'parts')",
          most, width);
  }
  std::vector<int64_t> shape = x.shape();
  shape.push_back(width);
  Tensor parts(DType::String, shape);
  Tensor counts(DType::I64, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    for (size_t k = 0; k < split[i].size(); ++k)
      parts.data<std::string>()[i * width + static_cast<int64_t>(k)] = split[i][k];
    counts.data<int64_t>()[i] = static_cast<int64_t>(split[i].size());
  }
  return std::vector<Tensor>{parts, counts};
}

// ---- string_normalizer -----------------------------------------------------------------------------
// Stopwords are removed first (whole elements; compared after lowercasing both sides unless
// is_case_sensitive), then the case changes. If every element is removed the result holds one empty
// string. Case mapping is Unicode simple case mapping per code point (the C.UTF-8 locale's), whatever
// the model's locale; invalid UTF-8 bytes are kept as they are.

const std::ctype<wchar_t>* unicode_ctype() {
  static const std::unique_ptr<std::locale> locale = []() -> std::unique_ptr<std::locale> {
    try {
      return std::make_unique<std::locale>("C.UTF-8");
    } catch (const std::runtime_error&) {
      return nullptr;  // without C.UTF-8, only ASCII letters change case (docs/ir.md)
    }
  }();
  return locale ? &std::use_facet<std::ctype<wchar_t>>(*locale) : nullptr;
}

/// Decodes one UTF-8 code point at `s[i]`; returns its length (0 for an invalid sequence).
size_t decode_utf8(std::string_view s, size_t i, char32_t& out) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > s.size()) return 0;
  char32_t value = length == 1 ? lead : lead & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  out = value;
  return length;
}

void encode_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string change_case(std::string_view s, bool upper) {
  const std::ctype<wchar_t>* ctype = unicode_ctype();
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t c = 0;
    size_t length = decode_utf8(s, i, c);
    if (length == 0) {  // not UTF-8: keep the byte
      out += s[i++];
      continue;
    }
    i += length;
    if (ctype && sizeof(wchar_t) >= 4) {
      auto w = static_cast<wchar_t>(c);
      c = static_cast<char32_t>(upper ? ctype->toupper(w) : ctype->tolower(w));
    } else if (c < 0x80) {
      c = static_cast<char32_t>(upper ? std::toupper(static_cast<int>(c)) : std::tolower(static_cast<int>(c)));
    }
    encode_utf8(c, out);
  }
  return out;
}

Status check_case_action(const std::string& action) {
  if (action == "NONE" || action == "LOWER" || action == "UPPER") return Status::success();
  return make_error("string_normalizer case_change_action must be NONE, LOWER or UPPER, got \"{}\"", action);
}

Expected<std::vector<Tensor>> eval_normalizer(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::string& action = ctx.attrs.s("case_change_action");
  TESSEL_TRY(check_case_action(action));
  bool case_sensitive = ctx.attrs.i("is_case_sensitive") != 0;
  auto key = [&](const std::string& s) { return case_sensitive ? s : change_case(s, false); };
  std::unordered_set<std::string> stops;
  for (const std::string& word : ctx.attrs.strings("stopwords")) stops.insert(key(word));
  std::vector<std::string> kept;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string& s = x.data<std::string>()[i];
    if (stops.count(key(s))) continue;
    kept.push_back(action == "NONE" ? s : change_case(s, action == "UPPER"));
  }
  if (kept.empty()) kept.emplace_back();
  auto count = static_cast<int64_t>(kept.size());
  if (ctx.result_shapes.size() > 0 && ctx.result_shapes[0] && ctx.result_shapes[0]->back() != count)
    return make_error("string_normalizer keeps {} strings but the result type has {} (attribute 'size')", count,
                      ctx.result_shapes[0]->back());
  std::vector<int64_t> shape = x.rank() == 2 ? std::vector<int64_t>{1, count} : std::vector<int64_t>{count};
  Tensor out(DType::String, shape);
  for (int64_t i = 0; i < count; ++i) out.data<std::string>()[i] = std::move(kept[i]);
  return std::vector<Tensor>{out};
}

}  // namespace

Expected<std::vector<TensorType>> infer_string(const ShapeContext& ctx) {
  const TensorType& x = ctx.operand(0);
  std::string_view name = op_info(ctx.kind).name;
  switch (ctx.kind) {
    case OpKind::StringConcat: {
      const TensorType& y = ctx.operand(1);
      TESSEL_TRY(check_string(ctx.kind, x, "first operand"));
      TESSEL_TRY(check_string(ctx.kind, y, "second operand"));
      auto shape = broadcast_shapes(x.shape, y.shape);
      if (!shape) return make_error("{}: {}", name, shape.error().message);
      return std::vector<TensorType>{{DType::String, std::move(*shape)}};
    }
    case OpKind::RegexFullMatch: {
      TESSEL_TRY(check_string(ctx.kind, x, "operand"));
      TESSEL_TRY(compile_pattern(ctx.attrs.s("pattern")));
      return std::vector<TensorType>{{DType::Bool, x.shape}};
    }
    case OpKind::StringSplit: {
      TESSEL_TRY(check_string(ctx.kind, x, "operand"));
      TESSEL_ASSIGN(Dim parts, dim_attr(ctx, "parts"));
      Shape shape = x.shape;
      shape.push_back(parts);
      return std::vector<TensorType>{{DType::String, shape}, {DType::I64, x.shape}};
    }
    case OpKind::StringNormalizer: {
      TESSEL_TRY(check_string(ctx.kind, x, "operand"));
      TESSEL_TRY(check_case_action(ctx.attrs.s("case_change_action")));
      if (!(x.rank() == 1 || (x.rank() == 2 && x.shape[0] == Dim(1))))
        return make_error("string_normalizer needs a [C] or [1, C] operand, got {}", x.str());
      TESSEL_ASSIGN(Dim size, dim_attr(ctx, "size"));
      if (size == Dim(0)) return make_error("string_normalizer 'size' is 0; the result always has an element");
      Shape shape = x.rank() == 2 ? Shape{Dim(1), size} : Shape{size};
      return std::vector<TensorType>{{DType::String, shape}};
    }
    default: return make_error("{} is not a string op", name);
  }
}

Expected<std::vector<Tensor>> eval_string(const EvalContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::String)
    return make_error("{} needs a string operand, got {}", op_info(ctx.kind).name, x.type_str());
  switch (ctx.kind) {
    case OpKind::StringConcat: {
      const Tensor& y = ctx.input(1);
      if (y.dtype() != DType::String) return make_error("string_concat needs string operands, got {}", y.type_str());
      TESSEL_ASSIGN(Tensor out, eval_concat(x, y));
      return std::vector<Tensor>{out};
    }
    case OpKind::RegexFullMatch: {
      TESSEL_ASSIGN(Tensor out, eval_regex(x, ctx.attrs.s("pattern")));
      return std::vector<Tensor>{out};
    }
    case OpKind::StringSplit: return eval_split(ctx);
    case OpKind::StringNormalizer: return eval_normalizer(ctx);
    default: return make_error("{} is not a string op", op_info(ctx.kind).name);
  }
}

}  // namespace tessel::ops
