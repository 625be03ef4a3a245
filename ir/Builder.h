// Builds tensor IR in C++ with result types inferred from the op table:
//
//   Module module;
//   Builder b(module.add_function("main"));
//   Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 784}});
//   Value* h = b.relu(b.add(b.matmul(x, b.constant(w)), b.constant(bias)));
//   b.output(h, "h");
//   TESSEL_TRY(b.status());
//
// A shape error does not abort: the builder keeps the first error, returns null
// for that op and every op that depends on it, and reports it from status().
#pragma once

#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel {

class Builder {
 public:
  explicit Builder(Function* function) : function_(function) {}

  Function* function() const { return function_; }
  Module* module() const { return function_->module(); }
  /// The first error met, or success.
  Status status() const { return failed_ ? Status(error_) : Status(); }
  /// Source location attached to the ops created from now on (e.g. an ONNX node name).
  void set_location(std::string location) { location_ = std::move(location); }
  /// Records `error` (unless an earlier one is kept) and returns null; for helpers built on the builder.
  Value* report(Error error) {
    fail(std::move(error));
    return nullptr;
  }

  Value* input(std::string name, TensorType type);
  /// Adds `value` to the module's constant pool and returns a const op's result.
  Value* constant(Tensor value, const std::string& name_hint = "const");
  /// A scalar constant of the given dtype.
  Value* scalar(double value, DType dtype = DType::F32);
  void output(Value* value, std::string name = {});

  /// Creates any op; result types come from the op's shape rule.
  std::vector<Value*> create(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {}, int num_results = 1);
  /// The same, for single-result ops.
  Value* op(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {});

  // Elementwise.
  Value* add(Value* a, Value* b) { return op(OpKind::Add, {a, b}); }
  Value* sub(Value* a, Value* b) { return op(OpKind::Sub, {a, b}); }
  Value* mul(Value* a, Value* b) { return op(OpKind::Mul, {a, b}); }
  Value* div(Value* a, Value* b) { return op(OpKind::Div, {a, b}); }
  Value* relu(Value* x) { return op(OpKind::Relu, {x}); }
  Value* sigmoid(Value* x) { return op(OpKind::Sigmoid, {x}); }
  Value* tanh(Value* x) { return op(OpKind::Tanh, {x}); }
  Value* exp(Value* x) { return op(OpKind::Exp, {x}); }
  Value* cast(Value* x, DType to) { return op(OpKind::Cast, {x}, {{"to", to}}); }
  Value* where(Value* cond, Value* a, Value* b) { return op(OpKind::Where, {cond, a, b}); }

  // Linear algebra and convolution.
  Value* matmul(Value* a, Value* b) { return op(OpKind::MatMul, {a, b}); }
  Value* gemm(Value* a, Value* b, Value* c, bool trans_b = false);
  Value* conv(Value* x, Value* weight, Value* bias, std::vector<int64_t> strides = {}, std::vector<int64_t> pads = {},
              int64_t group = 1);
  Value* max_pool(Value* x, std::vector<int64_t> kernel, std::vector<int64_t> strides = {},
                  std::vector<int64_t> pads = {});
  Value* avg_pool(Value* x, std::vector<int64_t> kernel, std::vector<int64_t> strides = {},
                  std::vector<int64_t> pads = {});

  // Reductions and normalization.
  Value* reduce(OpKind kind, Value* x, std::vector<int64_t> axes, bool keepdims = true);
  Value* softmax(Value* x, int64_t axis = -1) { return op(OpKind::Softmax, {x}, {{"axis", axis}}); }
  Value* layer_norm(Value* x, Value* scale, Value* bias, int64_t axis = -1, double epsilon = 1e-5);

  // Shapes.
  Value* reshape(Value* x, Shape shape) { return op(OpKind::Reshape, {x}, {{"shape", std::move(shape)}}); }
  /// Keeps the first `axis` dims and flattens the rest into one (ONNX Flatten).
  Value* flatten(Value* x, int64_t axis = 1);
  Value* transpose(Value* x, std::vector<int64_t> perm) { return op(OpKind::Transpose, {x}, {{"perm", perm}}); }
  Value* concat(std::vector<Value*> xs, int64_t axis) { return op(OpKind::Concat, std::move(xs), {{"axis", axis}}); }

 private:
  bool fail(Error error);
  Function* function_;
  std::string location_;
  Error error_;
  bool failed_ = false;
};

}  // namespace tessel
