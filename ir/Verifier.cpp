#include "ir/Verifier.h"

#include <unordered_set>

#include "ir/ValueNames.h"

namespace tessel {
namespace {

std::string arity_str(int min, int max) {
  if (max < 0) return "at least " + std::to_string(min);
  if (min == max) return std::to_string(min);
  return std::to_string(min) + " to " + std::to_string(max);
}

Status check_arity(const Op& op) {
  const OpInfo& info = op.info();
  int operands = static_cast<int>(op.num_operands());
  if (operands < info.min_operands || (info.max_operands >= 0 && operands > info.max_operands))
    return make_error("takes {} operands, got {}", arity_str(info.min_operands, info.max_operands), operands);
  for (int i = 0; i < info.min_operands; ++i)
    if (!op.operand(i)) return make_error("operand {} is required but absent", i);
  int results = static_cast<int>(op.num_results());
  if (results < info.min_results || (info.max_results >= 0 && results > info.max_results))
    return make_error("defines {} results, got {}", arity_str(info.min_results, info.max_results), results);
  return Status::success();
}

Status check_attrs(const Op& op) {
  const OpInfo& info = op.info();
  for (const auto& [name, attr] : op.attrs()) {
    const AttrSpec* spec = info.find_attr(name);
    if (!spec) return make_error("has no attribute '{}'", name);
    if (attr.kind() != spec->kind)
      return make_error("attribute '{}' must be {}, got {}", name, attr_kind_name(spec->kind),
                        attr_kind_name(attr.kind()));
  }
  for (const auto& spec : info.attrs)
    if (spec.required && !op.attrs().count(spec.name))
      return make_error("requires attribute '{}' ({})", spec.name, attr_kind_name(spec.kind));
  return Status::success();
}

Status check_types(const Op& op, const Module* module, const ValueNames& names) {
  ShapeContext ctx{op.kind(), {}, op.attr(), static_cast<int>(op.num_results()), module};
  for (const Value* operand : op.operands()) ctx.operands.push_back(operand ? &operand->type() : nullptr);
  auto inferred = op.info().infer(ctx);
  if (!inferred) return inferred.error();
  if (inferred->size() != op.num_results())
    return make_error("shape rule gives {} results, op defines {}", inferred->size(), op.num_results());
  for (size_t i = 0; i < op.num_results(); ++i) {
    const TensorType& declared = op.result(i)->type();
    if (declared != (*inferred)[i])
      return make_error("result {} has type {}, but the operands imply {}", names(op.result(i)), declared.str(),
                        (*inferred)[i].str());
  }
  return Status::success();
}

}  // namespace

Status verify_function(const Function& function) {
  ValueNames names(function);
  std::unordered_set<const Value*> defined(function.inputs().begin(), function.inputs().end());
  const std::string where = "@" + function.name();
  for (const Op* op : function.ops()) {
    auto fail = [&](const Error& error) { return error.at(where + ": " + describe_op(*op, names)); };
    if (auto status = check_arity(*op); !status) return fail(status.error());
    for (size_t i = 0; i < op->num_operands(); ++i) {
      const Value* operand = op->operand(i);
      if (operand && !defined.count(operand))
        return fail(make_error("operand {} ({}) is used before it is defined", i, names(operand)));
    }
    if (auto status = check_attrs(*op); !status) return fail(status.error());
    if (auto status = check_types(*op, function.module(), names); !status) return fail(status.error());
    for (const Value* result : op->results()) defined.insert(result);
  }
  for (size_t i = 0; i < function.outputs().size(); ++i) {
    const Value* output = function.outputs()[i];
    if (!output || !defined.count(output))
      return make_error("output {} ('{}') is not defined in the function", i, function.output_names()[i]).at(where);
  }
  return Status::success();
}

Status verify(const Module& module) {
  std::unordered_set<std::string> seen;
  for (const auto& function : module.functions()) {
    if (!seen.insert(function->name()).second) return make_error("function @{} is defined twice", function->name());
    TESSEL_TRY(verify_function(*function));
  }
  return Status::success();
}

}  // namespace tessel
