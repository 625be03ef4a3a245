// Creates ops in the middle of a function, before a given op, with result types
// from the op table's shape rules -- the Builder's job (ir/Builder.h), but for
// passes that rewrite in place. Like the Builder it keeps the first error and
// returns null for the failed op and every op that uses a null operand, so a
// rewrite reads as straight-line math and checks status() once.
#pragma once

#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel {

class Rewriter {
 public:
  /// New ops go before `position` (in creation order); `location` is attached to each (for errors).
  Rewriter(Function& function, const Op* position, std::string location = {})
      : function_(function), position_(position), location_(std::move(location)) {}

  Function& function() const { return function_; }
  Module& module() const { return *function_.module(); }
  Status status() const { return failed_ ? Status(error_) : Status(); }

  /// Any op; result types come from its shape rule. Null on error or when a required operand is null.
  std::vector<Value*> create(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {}, int num_results = 1);
  Value* op(OpKind kind, std::vector<Value*> operands, AttrMap attrs = {});
  /// Adds `value` to the module's constant pool and returns a const op's result.
  Value* constant(Tensor value, const std::string& name_hint);
  /// A rank-0 constant of `dtype`.
  Value* scalar(double value, DType dtype);
  /// The ops created so far, in order.
  const std::vector<Op*>& created() const { return created_; }

 private:
  Function& function_;
  const Op* position_;
  std::string location_;
  Error error_;
  bool failed_ = false;
  std::vector<Op*> created_;
};

/// The number of ops (and function outputs) that use `value`.
int count_uses(const Function& function, const Value* value);

/// Gives `to` the name of `from` when `to` has none and the name is a source name (numbers such as "7"
/// only say where a value was in the text, so they are not carried over).
void carry_name(const Value* from, Value* to);

/// The constant tensor behind `value` when a `const` op defines it, else null.
const Tensor* constant_of(const Value* value);

}  // namespace tessel
