// The FunctionEmitter's tensor-level helpers. Dims: a symbolic dim becomes an
// `index` value once per function -- tensor.dim of an input that has exactly
// that dim, else arith on index over its canonical text, whose symbols come
// from input dims (`N` directly, or solved from a linear dim such as `2*N+1`).
// Tensors: tensor.empty with those sizes, linalg.fill, linalg.generic with
// written-out affine maps, and reshapes as collapse/expand_shape wherever the
// dims group, so that later MLIR passes see static reassociations.
#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {
namespace {

std::string affine_map(int loops, const std::vector<std::string>& results) {
  std::vector<std::string> dims;
  for (int i = 0; i < loops; ++i) dims.push_back(fmt::format("d{}", i));
  return fmt::format("affine_map<({}) -> ({})>", fmt::join(dims, ", "), fmt::join(results, ", "));
}

/// Recursive-descent evaluation of a canonical dim text ("2*N+1", "(N*seq)/8", "N%4") into index values.
class DimParser {
 public:
  DimParser(const std::string& text, Block& block, std::function<Expected<std::string>(const std::string&)> symbol,
            std::function<std::string(int64_t)> constant)
      : text_(text), block_(block), symbol_(std::move(symbol)), constant_(std::move(constant)) {}

  Expected<std::string> parse() {
    TESSEL_ASSIGN(std::string value, expression());
    if (pos_ != text_.size()) return make_error("unexpected '{}' in dim '{}'", text_.substr(pos_), text_);
    return value;
  }

 private:
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }

  Expected<std::string> expression() {
    TESSEL_ASSIGN(std::string value, term());
    while (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
      const char* op = text_[pos_++] == '+' ? "arith.addi" : "arith.subi";
      TESSEL_ASSIGN(std::string rhs, term());
      value = block_.def(fmt::format("{} {}, {} : index", op, value, rhs));
    }
    return value;
  }

  Expected<std::string> term() {
    TESSEL_ASSIGN(std::string value, unary());
    while (pos_ < text_.size() && (text_[pos_] == '*' || text_[pos_] == '/' || text_[pos_] == '%')) {
      char op = text_[pos_++];
      TESSEL_ASSIGN(std::string rhs, unary());
      if (op == '*') {
        value = block_.def(fmt::format("arith.muli {}, {} : index", value, rhs));
        continue;
      }
      std::string quotient = block_.def(fmt::format("arith.floordivsi {}, {} : index", value, rhs));
      if (op == '/') {
        value = quotient;
        continue;
      }
      // Floor modulo: a - floor(a / b) * b, in [0, b) for the positive divisors dims use.
      std::string product = block_.def(fmt::format("arith.muli {}, {} : index", quotient, rhs));
      value = block_.def(fmt::format("arith.subi {}, {} : index", value, product));
    }
    return value;
  }

  Expected<std::string> unary() {
    if (eat('-')) {
      TESSEL_ASSIGN(std::string value, unary());
      return block_.def(fmt::format("arith.subi {}, {} : index", constant_(0), value));
    }
    if (eat('(')) {
      TESSEL_ASSIGN(std::string value, expression());
      if (!eat(')')) return make_error("missing ')' in dim '{}'", text_);
      return value;
    }
    size_t start = pos_;
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      return constant_(std::stoll(text_.substr(start, pos_ - start)));
    }
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                   text_[pos_] == '.' || text_[pos_] == '$'))
      ++pos_;
    if (start == pos_) return make_error("cannot read dim '{}' at '{}'", text_, text_.substr(pos_));
    return symbol_(text_.substr(start, pos_ - start));
  }

  const std::string& text_;
  Block& block_;
  std::function<Expected<std::string>(const std::string&)> symbol_;
  std::function<std::string(int64_t)> constant_;
  size_t pos_ = 0;
};

/// Groups of source and target axes with equal products, for collapse-then-expand reshapes; nullopt when
/// the dims do not group provably (symbolic products that do not divide, or zero-size dims).
using Groups = std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>;

std::optional<Groups> group_dims(const Shape& from, const Shape& to) {
  for (const Shape* shape : {&from, &to})
    for (const Dim& dim : *shape)
      if (dim == Dim(0)) return std::nullopt;
  Groups groups;
  size_t i = 0, j = 0;
  while (i < from.size() && j < to.size()) {
    std::vector<int64_t> gs{static_cast<int64_t>(i)}, gt{static_cast<int64_t>(j)};
    Dim ps = from[i++], pt = to[j++];
    while (ps != pt) {
      auto cs = ps.as_const(), ct = pt.as_const();
      bool grow_source = false;
      if (cs && ct) {
        grow_source = *cs < *ct;
      } else if (auto q = pt.divide_exact(ps); q && *q != Dim(1)) {
        grow_source = true;
      } else if (!ps.divide_exact(pt)) {
        return std::nullopt;
      }
      if (grow_source) {
        if (i == from.size()) return std::nullopt;
        ps = ps * from[i];
        gs.push_back(static_cast<int64_t>(i++));
      } else {
        if (j == to.size()) return std::nullopt;
        pt = pt * to[j];
        gt.push_back(static_cast<int64_t>(j++));
      }
    }
    groups.push_back({gs, gt});
  }
  // Trailing size-1 dims join the last group.
  for (; i < from.size(); ++i) {
    if (from[i] != Dim(1) || groups.empty()) return std::nullopt;
    groups.back().first.push_back(static_cast<int64_t>(i));
  }
  for (; j < to.size(); ++j) {
    if (to[j] != Dim(1) || groups.empty()) return std::nullopt;
    groups.back().second.push_back(static_cast<int64_t>(j));
  }
  return groups;
}

/// Whether every target group has at most one dynamic dim: MLIR 19's bufferization crashes on a
/// tensor.expand_shape group with several (tensor.reshape takes those).
bool expandable(const Groups& groups, const Shape& to) {
  for (const auto& group : groups) {
    int dynamic = 0;
    for (int64_t axis : group.second) dynamic += to[static_cast<size_t>(axis)].is_const() ? 0 : 1;
    if (dynamic > 1) return false;
  }
  return true;
}

std::string reassociation(const Groups& groups, bool source) {
  std::vector<std::string> parts;
  for (const auto& group : groups)
    parts.push_back(fmt::format("[{}]", fmt::join(source ? group.first : group.second, ", ")));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

}  // namespace

std::vector<std::string> identity_map(int64_t rank) {
  std::vector<std::string> map;
  for (int64_t i = 0; i < rank; ++i) map.push_back(fmt::format("d{}", i));
  return map;
}

std::vector<std::string> broadcast_map(const Shape& operand, const Shape& result) {
  std::vector<std::string> map;
  size_t offset = result.size() - operand.size();
  for (size_t j = 0; j < operand.size(); ++j) {
    bool stretched = operand[j] == Dim(1) && result[offset + j] != Dim(1);
    map.push_back(stretched ? "0" : fmt::format("d{}", offset + j));
  }
  return map;
}

DType float_acc_dtype(DType dtype, const MlirExportOptions& options) {
  return options.f64_accumulation ? DType::F64 : compute_dtype(dtype);
}

Error FunctionEmitter::op_error(const Op& op, const std::string& message) const {
  return make_error("MLIR export of {}: {}", describe(op), message);
}

std::string FunctionEmitter::index(int64_t value) {
  std::string key = fmt::format("#{}", value);
  auto it = dims_.find(key);
  if (it != dims_.end()) return it->second;
  std::string name =
      body_.def(fmt::format("arith.constant {} : index", value), value >= 0 ? fmt::format("c{}", value) : "");
  dims_.emplace(key, name);
  return name;
}

Expected<std::string> FunctionEmitter::dim(const Dim& dim) {
  if (auto value = dim.as_const()) return index(*value);
  std::string key = dim.str();
  if (auto it = dims_.find(key); it != dims_.end()) return it->second;
  std::string name;
  if (auto source = dim_sources_.find(key); source != dim_sources_.end()) {
    const auto& [tensor, axis] = source->second;
    name = body_.def(fmt::format("tensor.dim {}, {} : {}", tensor.v, index(axis), tensor_type(tensor.type)));
  } else {
    TESSEL_ASSIGN(name, dim_expression(key));
  }
  dims_.emplace(key, name);
  return name;
}

Expected<std::string> FunctionEmitter::symbol(const std::string& name) {
  Dim symbol = Dim::symbol(name);
  if (dim_sources_.count(symbol.str())) return dim(symbol);
  // Solve a linear input dim c*name + k (the only symbol in it) for name.
  for (const auto& [text, source] : dim_sources_) {
    const Dim& d = source.first.type.shape[source.second];
    std::set<std::string> symbols;
    d.collect_symbols(symbols);
    if (symbols != std::set<std::string>{name}) continue;
    auto k = d.evaluate({{name, 0}}), k_plus_c = d.evaluate({{name, 1}});
    if (!k || !k_plus_c || *k_plus_c == *k || Dim(*k_plus_c - *k) * symbol + Dim(*k) != d) continue;
    TESSEL_ASSIGN(std::string value, dim(d));
    std::string shifted = body_.def(fmt::format("arith.subi {}, {} : index", value, index(*k)));
    std::string solved = body_.def(fmt::format("arith.floordivsi {}, {} : index", shifted, index(*k_plus_c - *k)));
    dims_.emplace(symbol.str(), solved);
    return solved;
  }
  return make_error("symbol '{}' of @{} cannot be recovered from the input shapes (no input dim is {} or linear in it)",
                    name, function_.name(), name);
}

Expected<std::string> FunctionEmitter::dim_expression(const std::string& text) {
  DimParser parser(
      text, body_, [this](const std::string& name) { return symbol(name); },
      [this](int64_t value) { return index(value); });
  return parser.parse();
}

Expected<std::vector<std::string>> FunctionEmitter::dynamic_sizes(const Shape& shape) {
  std::vector<std::string> sizes;
  for (const Dim& d : shape) {
    if (d.is_const()) continue;
    TESSEL_ASSIGN(std::string value, dim(d));
    sizes.push_back(value);
  }
  return sizes;
}

Expected<std::string> FunctionEmitter::mixed_list(const Shape& values) {
  std::vector<std::string> parts;
  for (const Dim& d : values) {
    if (auto value = d.as_const()) {
      parts.push_back(std::to_string(*value));
      continue;
    }
    TESSEL_ASSIGN(std::string value, dim(d));
    parts.push_back(value);
  }
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

Expected<TValue> FunctionEmitter::empty(const TensorType& type) {
  TESSEL_ASSIGN(std::vector<std::string> sizes, dynamic_sizes(type.shape));
  return TValue{body_.def(fmt::format("tensor.empty({}) : {}", fmt::join(sizes, ", "), tensor_type(type))), type};
}

Expected<TValue> FunctionEmitter::filled(const TensorType& type, Scalar value) {
  TESSEL_ASSIGN(TValue init, empty(type));
  std::string t = tensor_type(type);
  return TValue{
      body_.def(fmt::format("linalg.fill ins({} : {}) outs({} : {}) -> {}", value.v, elem_type(value.t), init.v, t, t)),
      type};
}

Expected<std::vector<TValue>> FunctionEmitter::generic(const GenericSpec& spec) {
  std::vector<std::string> maps, iterators;
  std::vector<std::string> in_names, in_types, out_names, out_types, arg_decls;
  Block body(namer_, body_.indent() + 2);
  std::vector<Scalar> args;
  auto add_arg = [&](const Operand& operand) {
    Scalar arg{namer_.fresh(args.size() < spec.inputs.size() ? "in" : "out"), operand.value.type.dtype};
    arg_decls.push_back(fmt::format("{}: {}", arg.v, elem_type(arg.t)));
    args.push_back(arg);
    maps.push_back(affine_map(spec.loops, operand.map));
  };
  for (const Operand& in : spec.inputs) {
    add_arg(in);
    in_names.push_back(in.value.v);
    in_types.push_back(tensor_type(in.value.type));
  }
  for (const Operand& out : spec.outputs) {
    add_arg(out);
    out_names.push_back(out.value.v);
    out_types.push_back(tensor_type(out.value.type));
  }
  for (int i = 0; i < spec.loops; ++i) {
    bool reduction = std::find(spec.reductions.begin(), spec.reductions.end(), i) != spec.reductions.end();
    iterators.push_back(reduction ? "\"reduction\"" : "\"parallel\"");
  }
  TESSEL_ASSIGN(std::vector<Scalar> yields, spec.body(body, args));
  if (yields.size() != spec.outputs.size())
    return make_error("internal: a linalg.generic body yields {} values for {} outputs", yields.size(),
                      spec.outputs.size());
  std::vector<std::string> yield_names, yield_types;
  for (size_t i = 0; i < yields.size(); ++i) {
    if (yields[i].t != spec.outputs[i].value.type.dtype)
      return make_error("internal: a linalg.generic body yields {} for a {} output", elem_type(yields[i].t),
                        elem_type(spec.outputs[i].value.type.dtype));
    yield_names.push_back(yields[i].v);
    yield_types.push_back(elem_type(yields[i].t));
  }
  body.put(fmt::format("linalg.yield {} : {}", fmt::join(yield_names, ", "), fmt::join(yield_types, ", ")));

  std::string name = namer_.fresh();
  size_t outputs = spec.outputs.size();
  std::string results = outputs == 1 ? name : fmt::format("{}:{}", name, outputs);
  std::string ins = spec.inputs.empty()
                        ? std::string()
                        : fmt::format(" ins({} : {})", fmt::join(in_names, ", "), fmt::join(in_types, ", "));
  body_.put(fmt::format("{} = linalg.generic {{indexing_maps = [{}], iterator_types = [{}]}}{} outs({} : {}) {{",
                        results, fmt::join(maps, ", "), fmt::join(iterators, ", "), ins, fmt::join(out_names, ", "),
                        fmt::join(out_types, ", ")));
  Block label(namer_, body_.indent());
  label.put(fmt::format("^bb0({}):", fmt::join(arg_decls, ", ")));
  body_.append(label);
  body_.append(body);
  std::string result_types = outputs == 1 ? out_types[0] : fmt::format("({})", fmt::join(out_types, ", "));
  body_.put(fmt::format("}} -> {}", result_types));
  std::vector<TValue> values;
  for (size_t i = 0; i < outputs; ++i)
    values.push_back({outputs == 1 ? name : fmt::format("{}#{}", name, i), spec.outputs[i].value.type});
  return values;
}

Expected<TValue> FunctionEmitter::elementwise(const std::vector<TValue>& operands, const TensorType& result,
                                              const std::function<Scalar(Block&, const std::vector<Scalar>&)>& fn) {
  GenericSpec spec;
  spec.loops = static_cast<int>(result.rank());
  for (const TValue& operand : operands)
    spec.inputs.push_back({operand, broadcast_map(operand.type.shape, result.shape)});
  TESSEL_ASSIGN(TValue init, empty(result));
  spec.outputs.push_back({init, identity_map(result.rank())});
  size_t count = operands.size();
  spec.body = [&](Block& body, const std::vector<Scalar>& args) -> Expected<std::vector<Scalar>> {
    return std::vector<Scalar>{fn(body, std::vector<Scalar>(args.begin(), args.begin() + static_cast<long>(count)))};
  };
  TESSEL_ASSIGN(std::vector<TValue> values, generic(spec));
  return values[0];
}

Expected<TValue> FunctionEmitter::cast(const TValue& x, DType to, bool from_acc) {
  if (x.type.dtype == to) return x;
  return elementwise({x}, {to, x.type.shape}, [&](Block& b, const std::vector<Scalar>& args) {
    return from_acc ? narrow_acc(b, args[0], to) : convert(b, args[0], to);
  });
}

Expected<TValue> FunctionEmitter::reshape(const TValue& x, const Shape& to) {
  TensorType result{x.type.dtype, to};
  if (x.type.shape == to) return x;
  std::string from_type = tensor_type(x.type), to_type = tensor_type(result);
  if (x.type.rank() == 0 || result.rank() == 0) {
    // Scalar <-> all-ones shape: the empty reassociation.
    if (result.rank() == 0)
      return TValue{body_.def(fmt::format("tensor.collapse_shape {} [] : {} into {}", x.v, from_type, to_type)),
                    result};
    TESSEL_ASSIGN(std::string sizes, mixed_list(to));
    return TValue{body_.def(fmt::format("tensor.expand_shape {} [] output_shape {} : {} into {}", x.v, sizes, from_type,
                                        to_type)),
                  result};
  }
  auto groups = group_dims(x.type.shape, to);
  if (groups && expandable(*groups, to)) {
    TValue current = x;
    bool collapse = false, expand = false;
    Shape middle;
    for (const auto& [source, target] : *groups) {
      collapse |= source.size() != 1;
      expand |= target.size() != 1;
      Dim product(1);
      for (int64_t axis : source) product = product * x.type.shape[axis];
      middle.push_back(product);
    }
    if (collapse) {
      TensorType middle_type{x.type.dtype, middle};
      current = {body_.def(fmt::format("tensor.collapse_shape {} {} : {} into {}", x.v, reassociation(*groups, true),
                                       from_type, tensor_type(middle_type))),
                 middle_type};
    }
    if (!expand) return current;
    TESSEL_ASSIGN(std::string sizes, mixed_list(to));
    return TValue{body_.def(fmt::format("tensor.expand_shape {} {} output_shape {} : {} into {}", current.v,
                                        reassociation(*groups, false), sizes, tensor_type(current.type), to_type)),
                  result};
  }
  std::vector<std::string> sizes;
  for (const Dim& d : to) {
    TESSEL_ASSIGN(std::string value, dim(d));
    sizes.push_back(value);
  }
  std::string shape_type = fmt::format("tensor<{}xindex>", to.size());
  std::string shape = body_.def(fmt::format("tensor.from_elements {} : {}", fmt::join(sizes, ", "), shape_type));
  return TValue{
      body_.def(fmt::format("tensor.reshape {}({}) : ({}, {}) -> {}", x.v, shape, from_type, shape_type, to_type)),
      result};
}

Expected<TValue> FunctionEmitter::pad(const TValue& x, const Shape& low, const Shape& high, Scalar value) {
  Shape shape;
  bool any = false;
  for (int64_t axis = 0; axis < x.type.rank(); ++axis) {
    shape.push_back(x.type.shape[axis] + low[axis] + high[axis]);
    any |= low[axis] != Dim(0) || high[axis] != Dim(0);
  }
  if (!any) return x;
  TensorType result{x.type.dtype, shape};
  TESSEL_ASSIGN(std::string lows, mixed_list(low));
  TESSEL_ASSIGN(std::string highs, mixed_list(high));
  std::string name = namer_.fresh();
  body_.put(fmt::format("{} = tensor.pad {} low{} high{} {{", name, x.v, lows, highs));
  std::vector<std::string> indices;
  for (int64_t axis = 0; axis < x.type.rank(); ++axis) indices.push_back(namer_.fresh("i") + ": index");
  Block region(namer_, body_.indent());
  region.put(fmt::format("^bb0({}):", fmt::join(indices, ", ")));
  region.put(fmt::format("  tensor.yield {} : {}", value.v, elem_type(value.t)));
  body_.append(region);
  body_.put(fmt::format("}} : {} to {}", tensor_type(x.type), tensor_type(result)));
  return TValue{name, result};
}

}  // namespace tessel::mlir
