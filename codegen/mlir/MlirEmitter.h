// Private to the MLIR exporter: the text-building machinery that the per-family
// op emitters share. A FunctionEmitter writes one func.func: it names SSA
// values, turns symbolic dims into `index` values (tensor.dim of an input, then
// arith on index), creates tensors (tensor.empty, linalg.fill) and writes
// linalg.generic ops whose scalar bodies are built with the Scalar helpers. The
// Scalar helpers encode the IR's element semantics (docs/ir.md) in arith/math:
// f16/bf16 compute in f32, integer division by zero gives 0, casts saturate.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codegen/mlir/MlirExport.h"
#include "ir/Module.h"
#include "ir/ValueNames.h"

namespace tessel::mlir {

// ---- Types and literals ---------------------------------------------------------------------------

/// MLIR element type: f32 f16 bf16 f64, i1 for bool, signless iN for signed and unsigned integers alike.
std::string elem_type(DType dtype);
/// tensor<?x3xf32>; symbolic dims are `?`, a scalar is tensor<f32>.
std::string tensor_type(const TensorType& type);
bool is_unsigned(DType dtype);
int bit_width(DType dtype);
/// The type scalar arithmetic runs in: f32 for f16/bf16 (rounded back per op), the dtype otherwise.
DType compute_dtype(DType dtype);
/// An exact literal of `value` rounded to float dtype `dtype`; inf and NaN as hex bit patterns.
std::string float_literal(double value, DType dtype);
/// The literal of element `flat` of a tensor: exact floats, signed integers in the width, true/false.
std::string element_literal(const Tensor& tensor, int64_t flat);
/// `dense<...>` for a tensor: a splat, nested decimal lists up to 64 elements, else hex bytes.
std::string dense_literal(const Tensor& tensor);
/// "text" with MLIR string escapes.
std::string string_literal(const std::string& text);
/// `@name` or `@"quoted name"`.
std::string symbol_name(const std::string& name);

// ---- Text building --------------------------------------------------------------------------------

/// Unique SSA names within one function (MLIR rejects a name redefined in a nested region).
class Namer {
 public:
  /// "%hint" made unique (sanitized to MLIR's identifier characters), or "%tN" without a hint.
  std::string fresh(std::string_view hint = {});

 private:
  std::set<std::string> used_;
  int64_t counter_ = 0;
};

/// A scalar SSA value and its element type (inside a region body, or a top-level constant).
struct Scalar {
  std::string v;
  DType t = DType::F32;
};

/// A tensor SSA value and its type (the Tessel type of an IR value, or an intermediate such as an f64
/// accumulator).
struct TValue {
  std::string v;
  TensorType type;
};

/// A sequence of ops being written: a function body or a region.
class Block {
 public:
  Block(Namer& namer, int indent) : namer_(&namer), indent_(indent) {}
  /// Writes `%r = text` and returns %r.
  std::string def(std::string_view text, std::string_view hint = {});
  /// Like def for a constant (`arith.constant ...`), but each distinct constant is written once per block.
  std::string def_constant(const std::string& text);
  /// Writes a line that defines nothing (or whose results are named by the caller).
  void put(std::string_view text);
  /// Appends the text of a nested block (a region body, already indented).
  void append(const Block& inner);
  const std::string& text() const { return text_; }
  Namer& namer() { return *namer_; }
  int indent() const { return indent_; }

 private:
  Namer* namer_;
  int indent_;
  std::string text_;
  std::map<std::string, std::string> constants_;
};

// ---- Scalar semantics (MlirScalar.cpp) -------------------------------------------------------------

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

Scalar constant(Block& block, DType dtype, double value);  ///< value converted as Tensor::from_doubles does
Scalar int_constant(Block& block, DType dtype, int64_t value);
Scalar bool_constant(Block& block, bool value);
/// Storage -> compute type (extf for f16/bf16), and back (truncf, round to nearest even).
Scalar widen(Block& block, Scalar x);
Scalar narrow(Block& block, Scalar x, DType dtype);
/// An f64 accumulator rounded to `dtype` as the interpreter does: f16/bf16 via f32 (two roundings).
Scalar narrow_acc(Block& block, Scalar x, DType dtype);
/// The IR's `cast`: float->int truncates and saturates (NaN->0), int->int wraps, x->bool is x != 0.
Scalar convert(Block& block, Scalar x, DType to);
/// Float compares are ordered (false with NaN) except Ne; integer compares honour signedness.
Scalar compare(Block& block, Cmp cmp, Scalar a, Scalar b);
Scalar select(Block& block, Scalar cond, Scalar a, Scalar b);
Scalar add(Block& block, Scalar a, Scalar b);
Scalar sub(Block& block, Scalar a, Scalar b);
Scalar mul(Block& block, Scalar a, Scalar b);
Scalar fdiv(Block& block, Scalar a, Scalar b);
/// NaN-propagating for floats (arith.maximumf / minimumf), signed or unsigned for integers.
Scalar max(Block& block, Scalar a, Scalar b);
Scalar min(Block& block, Scalar a, Scalar b);
/// `math.<name>` or any one-operand op named in full ("math.absf").
Scalar unary_op(Block& block, std::string_view op, Scalar x);
/// Any two-operand op named in full ("arith.remf"), result of a's type.
Scalar binary_op(Block& block, std::string_view op, Scalar a, Scalar b);
Scalar logical_not(Block& block, Scalar x);
/// |x| < inf, as i1.
Scalar is_finite(Block& block, Scalar x);

// ---- The function emitter --------------------------------------------------------------------------

/// An operand of a linalg.generic: the tensor and the results of its indexing map ("d0", "0", "d1*2+d3").
struct Operand {
  TValue value;
  std::vector<std::string> map;
};

/// Builds the yielded values (one per output) from the block arguments (inputs, then outputs).
using BodyFn = std::function<Expected<std::vector<Scalar>>(Block& body, const std::vector<Scalar>& args)>;

struct GenericSpec {
  int loops = 0;
  std::vector<int> reductions;  ///< loops that are reductions; the others are parallel
  std::vector<Operand> inputs, outputs;
  BodyFn body;
};

/// Map results d0..d{n-1}.
std::vector<std::string> identity_map(int64_t rank);
/// Map results reading an operand of shape `operand` numpy-broadcast to `result` (loops = result dims).
std::vector<std::string> broadcast_map(const Shape& operand, const Shape& result);

class FunctionEmitter {
 public:
  FunctionEmitter(const Module& module, const Function& function, const MlirExportOptions& options);

  /// The whole func.func text, or the first op that cannot be exported.
  Expected<std::string> run();

  // ---- For the op emitters ----
  const MlirExportOptions& options() const { return options_; }
  const Module& module() const { return module_; }
  Block& block() { return body_; }
  const TValue& value(const Value* value) const { return values_.at(value); }
  void bind(const Value* value, TValue tensor) { values_[value] = std::move(tensor); }
  /// "op 'conv' (%3, node 'conv1')".
  std::string describe(const Op& op) const { return describe_op(op, names_); }
  /// "MLIR export of op 'x' (%3, node 'n'): <message>".
  Error op_error(const Op& op, const std::string& message) const;

  /// An `index` value holding `dim`, computed once per function.
  Expected<std::string> dim(const Dim& dim);
  std::string index(int64_t value);
  /// The dynamic sizes tensor.empty / tensor.pad need for the `?` dims of `shape`.
  Expected<std::vector<std::string>> dynamic_sizes(const Shape& shape);
  /// "[0, %d, 4]": static entries inline, dynamic ones as values (for extract_slice / expand_shape).
  Expected<std::string> mixed_list(const Shape& values);

  Expected<TValue> empty(const TensorType& type);
  /// A tensor of `type` filled with `value` (a scalar of the tensor's dtype).
  Expected<TValue> filled(const TensorType& type, Scalar value);
  Expected<std::vector<TValue>> generic(const GenericSpec& spec);
  /// Elementwise map over same-shaped operands (numpy-broadcast to `result`) into a tensor of `result`.
  Expected<TValue> elementwise(const std::vector<TValue>& operands, const TensorType& result,
                               const std::function<Scalar(Block&, const std::vector<Scalar>&)>& fn);
  /// x with every element converted by `convert` semantics, or narrow_acc when `from_acc`.
  Expected<TValue> cast(const TValue& x, DType to, bool from_acc = false);
  /// x viewed with shape `to` (same element count): collapse/expand_shape where the dims group, else
  /// tensor.reshape.
  Expected<TValue> reshape(const TValue& x, const Shape& to);
  /// tensor.pad of x by `low` / `high` (non-negative) with `value`.
  Expected<TValue> pad(const TValue& x, const Shape& low, const Shape& high, Scalar value);

 private:
  Expected<std::string> symbol(const std::string& name);
  Expected<std::string> dim_expression(const std::string& text);
  Status emit_op(const Op& op);
  std::string signature();

  const Module& module_;
  const Function& function_;
  const MlirExportOptions& options_;
  ValueNames names_;
  Namer namer_;
  Block body_;
  std::unordered_map<const Value*, TValue> values_;
  std::map<std::string, std::string> dims_;                        ///< canonical dim text -> index value
  std::map<std::string, std::pair<TValue, int64_t>> dim_sources_;  ///< dim text -> an input and axis holding it
  std::vector<std::string> arg_names_;
};

// ---- Op emitters, one per family (each in its own file) ------------------------------------------

Status emit_const(FunctionEmitter& e, const Op& op);
Status emit_unary(FunctionEmitter& e, const Op& op);
Status emit_binary(FunctionEmitter& e, const Op& op);
Status emit_select(FunctionEmitter& e, const Op& op);
Status emit_cast(FunctionEmitter& e, const Op& op);
Status emit_matmul(FunctionEmitter& e, const Op& op);
Status emit_conv(FunctionEmitter& e, const Op& op);
Status emit_pool(FunctionEmitter& e, const Op& op);
Status emit_reduce(FunctionEmitter& e, const Op& op);
Status emit_norm(FunctionEmitter& e, const Op& op);
Status emit_shape(FunctionEmitter& e, const Op& op);
Status emit_indexing(FunctionEmitter& e, const Op& op);

/// The accumulator dtype of a float reduction or contraction over `dtype` under `options`.
DType float_acc_dtype(DType dtype, const MlirExportOptions& options);

}  // namespace tessel::mlir
