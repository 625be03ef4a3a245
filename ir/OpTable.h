// The op table in C++ form: OpKind enumerates Ops.def, OpInfo describes one
// op (arity, attributes, shape rule, interpreter kernel). Every consumer --
// printer, parser, verifier, builder, interpreter -- looks ops up here.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/Attr.h"
#include "ir/Error.h"
#include "ir/Tensor.h"
#include "ir/Type.h"

namespace tessel {

enum class OpKind {
#define TESSEL_OP(Enum, name, Family, min_in, max_in, min_out, max_out, attrs) Enum,
#include "ir/Ops.def"
#undef TESSEL_OP
};

enum class OpFamily {
  Const,
  Unary,
  Binary,
  Select,
  Cast,
  MatMul,
  Conv,
  Pool,
  Reduce,
  Norm,
  Shape,
  Recurrent,
  Ml,
  Kernel,
  String
};

class Module;

/// Reads an op's attributes, falling back to the op table's defaults.
class AttrReader {
 public:
  AttrReader(OpKind kind, const AttrMap& attrs) : kind_(kind), attrs_(&attrs) {}
  bool has(const std::string& name) const;
  int64_t i(const std::string& name) const;
  double f(const std::string& name) const;
  const std::string& s(const std::string& name) const;
  const std::vector<int64_t>& ints(const std::string& name) const;
  const std::vector<double>& floats(const std::string& name) const;
  const std::vector<std::string>& strings(const std::string& name) const;
  const Shape& dims(const std::string& name) const;
  DType type(const std::string& name) const;

 private:
  const Attr* find(const std::string& name, AttrKind kind) const;
  OpKind kind_;
  const AttrMap* attrs_;
};

/// What a shape rule sees: operand types (null where an optional operand is absent) and attributes.
struct ShapeContext {
  OpKind kind;
  std::vector<const TensorType*> operands;
  AttrReader attrs;
  int num_results;       ///< results requested (matters for variadic-result ops such as split)
  const Module* module;  ///< for const ops; may be null
  const TensorType& operand(size_t i) const { return *operands[i]; }
  bool has_operand(size_t i) const { return i < operands.size() && operands[i]; }
};

/// What an interpreter kernel sees: input tensors (null where absent), attributes and, for each
/// result, its dtype and its shape when the result type determines it under the current symbols.
struct EvalContext {
  OpKind kind;
  std::vector<const Tensor*> inputs;
  AttrReader attrs;
  std::vector<DType> result_dtypes;
  std::vector<std::optional<std::vector<int64_t>>> result_shapes;
  const Module* module;
  const Tensor& input(size_t i) const { return *inputs[i]; }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i]; }
};

using ShapeFn = Expected<std::vector<TensorType>> (*)(const ShapeContext&);
using EvalFn = Expected<std::vector<Tensor>> (*)(const EvalContext&);

struct AttrSpec {
  std::string name;
  AttrKind kind;
  bool required = true;
  std::optional<Attr> default_value;  ///< set when the op table gives a default
};

struct OpInfo {
  OpKind kind;
  std::string_view name;
  OpFamily family;
  int min_operands, max_operands;  ///< max -1: variadic
  int min_results, max_results;    ///< max -1: variadic
  std::vector<AttrSpec> attrs;
  ShapeFn infer;
  EvalFn eval;

  const AttrSpec* find_attr(std::string_view attr_name) const;
};

const OpInfo& op_info(OpKind kind);
/// Whether op `kind` takes tensors of storage dtype `dtype` (strings, low-precision floats and ints): the
/// moves and casts that carry them, the string ops; every other op sees them only after a cast.
bool admits_storage_dtype(OpKind kind, DType dtype);
/// Looks an op up by its text name ("conv"); null if unknown.
const OpInfo* find_op(std::string_view name);
std::span<const OpInfo> all_ops();

}  // namespace tessel
