// The MLIR exporter's driver: one func.func per Tessel function, ops emitted
// in order by the family emitters (MlirElementwise, MlirLinalg, MlirConv,
// MlirReduce, MlirShape, MlirIndexing), and a clear error for ops that have no
// reasonable linalg form. Constants become arith.constant dense<...> at their
// `const` op.
#include "codegen/mlir/MlirExport.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "codegen/mlir/MlirEmitter.h"

namespace tessel::mlir {

FunctionEmitter::FunctionEmitter(const Module& module, const Function& function, const MlirExportOptions& options)
    : module_(module), function_(function), options_(options), names_(function), body_(namer_, 4) {}

std::string FunctionEmitter::signature() {
  std::vector<std::string> args;
  for (const Value* input : function_.inputs()) {
    TValue tensor{namer_.fresh(names_.bare(input)), input->type()};
    args.push_back(fmt::format("{}: {}", tensor.v, tensor_type(tensor.type)));
    for (int64_t axis = 0; axis < tensor.type.rank(); ++axis) {
      const Dim& d = tensor.type.shape[axis];
      if (!d.is_const()) dim_sources_.emplace(d.str(), std::make_pair(tensor, axis));
    }
    bind(input, std::move(tensor));
  }
  std::vector<std::string> results;
  const auto& output_names = function_.output_names();
  for (size_t i = 0; i < function_.outputs().size(); ++i) {
    std::string type = tensor_type(function_.outputs()[i]->type());
    // Output names travel as a discardable attribute, so tools downstream can still match them.
    std::string name = i < output_names.size() ? output_names[i] : std::string();
    results.push_back(name.empty() ? type : fmt::format("{} {{tessel.name = {}}}", type, string_literal(name)));
  }
  return fmt::format("  func.func {}({}) -> ({}) {{\n", symbol_name(function_.name()), fmt::join(args, ", "),
                     fmt::join(results, ", "));
}

Status FunctionEmitter::emit_op(const Op& op) {
  auto unsupported = [&]() -> Status {
    return make_error("MLIR export does not support {}; decompose it first", describe(op));
  };
  // Strings have no MLIR element type; bitcast has no emitter yet.
  if (op.kind() == OpKind::Bitcast) return unsupported();
  for (const Value* result : op.results())
    if (result->type().dtype == DType::String) return unsupported();
  for (const Value* operand : op.operands())
    if (operand && operand->type().dtype == DType::String) return unsupported();
  switch (op.info().family) {
    case OpFamily::Const: return emit_const(*this, op);
    case OpFamily::Unary: return emit_unary(*this, op);
    case OpFamily::Binary: return emit_binary(*this, op);
    case OpFamily::Select: return emit_select(*this, op);
    case OpFamily::Cast: return emit_cast(*this, op);
    case OpFamily::MatMul: return emit_matmul(*this, op);
    case OpFamily::Conv: return emit_conv(*this, op);
    case OpFamily::Pool: return emit_pool(*this, op);
    case OpFamily::Reduce: return emit_reduce(*this, op);
    case OpFamily::Norm: return emit_norm(*this, op);
    case OpFamily::Shape:
      switch (op.kind()) {
        case OpKind::ScatterElements: return unsupported();
        case OpKind::Gather:
        case OpKind::GatherElements:
        case OpKind::Pad:
        case OpKind::Range:
        case OpKind::ShapeOf: return emit_indexing(*this, op);
        default: return emit_shape(*this, op);
      }
    case OpFamily::Recurrent:
    case OpFamily::Ml:
    case OpFamily::Kernel:
    case OpFamily::String: return unsupported();
  }
  return unsupported();
}

Expected<std::string> FunctionEmitter::run() {
  std::string header = signature();
  for (const Op* op : function_.ops()) TESSEL_TRY(emit_op(*op));
  std::vector<std::string> values, types;
  for (const Value* output : function_.outputs()) {
    values.push_back(value(output).v);
    types.push_back(tensor_type(output->type()));
  }
  if (values.empty()) {
    body_.put("return");
  } else {
    body_.put(fmt::format("return {} : {}", fmt::join(values, ", "), fmt::join(types, ", ")));
  }
  return header + body_.text() + "  }\n";
}

Status emit_const(FunctionEmitter& e, const Op& op) {
  const std::string& name = op.attr().s("name");
  const Tensor* tensor = e.module().constant(name);
  if (!tensor) return e.op_error(op, fmt::format("the module has no constant @{}", name));
  TensorType type = op.result()->type();
  std::string text = fmt::format("arith.constant {} : {}", dense_literal(*tensor), tensor_type(type));
  e.bind(op.result(), {e.block().def(text, op.result()->name()), type});
  return Status::success();
}

Expected<std::string> export_mlir(const Module& module, const MlirExportOptions& options) {
  std::string text =
      "// Exported by Tessel (tessel dump --format=mlir): func, linalg, tensor, arith and math dialects.\n"
      "module {\n";
  bool first = true;
  for (const auto& function : module.functions()) {
    FunctionEmitter emitter(module, *function, options);
    auto body = emitter.run();
    if (!body) return body.error().at("@" + function->name());
    if (!first) text += "\n";
    text += *body;
    first = false;
  }
  return text + "}\n";
}

}  // namespace tessel::mlir
