// Importers for LSTM, GRU and RNN: the IR ops take ONNX's operands (absent optional ones are null),
// attributes and results as they are (docs/ir.md: "ONNX semantics").
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

void import_recurrent(NodeContext& ctx, OpKind kind, int max_inputs, int max_outputs) {
  std::vector<Value*> operands;
  for (int i = 0; i < max_inputs && i < ctx.num_inputs(); ++i) operands.push_back(ctx.optional_input(i));
  while (!operands.empty() && !operands.back()) operands.pop_back();
  if (ctx.failed()) return;
  AttrMap attrs{{"hidden_size", ctx.attr_i("hidden_size", 0)}, {"direction", ctx.attr_s("direction", "forward")}};
  if (ctx.has_attr("activations")) attrs.emplace("activations", ctx.attr_strings("activations"));
  if (ctx.has_attr("activation_alpha")) attrs.emplace("activation_alpha", ctx.attr_floats("activation_alpha"));
  if (ctx.has_attr("activation_beta")) attrs.emplace("activation_beta", ctx.attr_floats("activation_beta"));
  if (ctx.has_attr("clip")) attrs.emplace("clip", ctx.attr_f("clip", 0.0));
  if (ctx.opset() >= 14) attrs.emplace("layout", ctx.attr_i("layout", 0));
  if (kind == OpKind::Lstm) attrs.emplace("input_forget", ctx.attr_i("input_forget", 0));
  if (kind == OpKind::Gru) attrs.emplace("linear_before_reset", ctx.attr_i("linear_before_reset", 0));
  if (!ctx.has_attr("hidden_size")) return (void)ctx.fail(make_error("{} needs hidden_size", ctx.op_type()));
  int results = 1;
  for (int i = 1; i < max_outputs; ++i)
    if (ctx.has_output(i)) results = i + 1;
  auto values = ctx.create(kind, operands, attrs, results);
  for (int i = 0; i < results; ++i) ctx.set_output(i, values[i]);
}

}  // namespace

void import_lstm(NodeContext& ctx) { import_recurrent(ctx, OpKind::Lstm, 8, 3); }
void import_gru(NodeContext& ctx) { import_recurrent(ctx, OpKind::Gru, 6, 2); }
void import_rnn(NodeContext& ctx) { import_recurrent(ctx, OpKind::Rnn, 6, 2); }

}  // namespace tessel::onnx
