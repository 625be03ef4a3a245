#include "ir/interp/Interpreter.h"

#include <unordered_map>

#include "ir/ValueNames.h"

namespace tessel {

Status bind_shape(const TensorType& type, const std::vector<int64_t>& shape, SymbolEnv& env) {
  if (static_cast<int64_t>(shape.size()) != type.rank())
    return make_error("expected rank {} ({}), got shape [{}]", type.rank(), type.str(), fmt::join(shape, ", "));
  // Bind plain symbols first, then check every dim (expressions may use symbols bound later).
  for (size_t i = 0; i < shape.size(); ++i) {
    auto symbol = type.shape[i].as_symbol();
    if (symbol && !env.count(*symbol)) env[*symbol] = shape[i];
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    auto expected = type.shape[i].evaluate(env);
    if (!expected)
      return make_error("dim {} of {} ({}) cannot be evaluated from the known symbols", i, type.str(),
                        type.shape[i].str());
    if (*expected != shape[i])
      return make_error("dim {} of {} is {} but the actual shape is [{}]", i, type.str(), *expected,
                        fmt::join(shape, ", "));
  }
  return Status::success();
}

namespace {

class Run {
 public:
  Run(const Function& function, const InterpOptions& options)
      : function_(function), options_(options), names_(function) {}

  Expected<std::vector<Tensor>> operator()(const std::vector<Tensor>& inputs) {
    TESSEL_TRY(bind_inputs(inputs));
    for (const Op* op : function_.ops()) TESSEL_TRY(run_op(*op));
    std::vector<Tensor> outputs;
    for (const Value* output : function_.outputs()) outputs.push_back(values_.at(output));
    return outputs;
  }

 private:
  Status bind_inputs(const std::vector<Tensor>& inputs) {
    const auto& params = function_.inputs();
    if (inputs.size() != params.size())
      return make_error("@{} takes {} inputs, got {}", function_.name(), params.size(), inputs.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const TensorType& type = params[i]->type();
      if (inputs[i].dtype() != type.dtype)
        return make_error("input {} must be {}, got {}", names_(params[i]), type.str(), inputs[i].type_str());
      if (auto status = bind_shape(type, inputs[i].shape(), env_); !status)
        return status.error().at("input " + names_(params[i]));
      values_[params[i]] = inputs[i];
    }
    return Status::success();
  }

  Status run_op(const Op& op) {
    auto fail = [&](const Error& error) { return error.at("@" + function_.name() + ": " + describe_op(op, names_)); };
    EvalContext ctx{op.kind(), {}, op.attr(), {}, {}, function_.module()};
    for (const Value* operand : op.operands()) ctx.inputs.push_back(operand ? &values_.at(operand) : nullptr);
    for (const Value* result : op.results()) {
      ctx.result_dtypes.push_back(result->type().dtype);
      std::vector<int64_t> dims;
      bool known = true;
      for (const Dim& dim : result->type().shape) {
        auto value = dim.evaluate(env_);
        if (!value) {
          known = false;
          break;
        }
        dims.push_back(*value);
      }
      if (known) {
        for (int64_t d : dims)
          if (d < 0)
            return fail(
                make_error("result type {} has a negative dim under the current symbols", result->type().str()));
        ctx.result_shapes.emplace_back(std::move(dims));
      } else {
        ctx.result_shapes.emplace_back(std::nullopt);
      }
    }
    auto results = op.info().eval(ctx);
    if (!results) return fail(results.error());
    if (results->size() != op.num_results())
      return fail(make_error("kernel produced {} results, op has {}", results->size(), op.num_results()));
    for (size_t i = 0; i < results->size(); ++i) {
      const Tensor& tensor = (*results)[i];
      const Value* result = op.result(i);
      if (tensor.dtype() != result->type().dtype)
        return fail(make_error("kernel produced {} for result {} of type {}", tensor.type_str(), names_(result),
                               result->type().str()));
      if (auto status = bind_shape(result->type(), tensor.shape(), env_); !status)
        return fail(status.error().at("result " + names_(result)));
      if (static_cast<int64_t>(tensor.nbytes()) > options_.max_tensor_bytes)
        return fail(make_error("result {} needs {} bytes, over the limit of {}", names_(result), tensor.nbytes(),
                               options_.max_tensor_bytes));
      values_[result] = tensor;
    }
    return Status::success();
  }

  const Function& function_;
  const InterpOptions& options_;
  ValueNames names_;
  SymbolEnv env_;
  std::unordered_map<const Value*, Tensor> values_;
};

}  // namespace

Expected<std::vector<Tensor>> interpret(const Function& function, const std::vector<Tensor>& inputs,
                                        const InterpOptions& options) {
  return Run(function, options)(inputs);
}

}  // namespace tessel
