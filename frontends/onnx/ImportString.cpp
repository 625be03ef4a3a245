// Importers for the ONNX string ops: StringConcat, RegexFullMatch, StringSplit and StringNormalizer, one
// IR op each (ir/ops/String.cpp). StringSplit's substring axis and StringNormalizer's kept count depend
// on the data; they get a fresh symbol, which the interpreter binds when the op runs.
#include <set>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

/// A symbol that no type of the function uses yet, for a dim only the data determines.
Dim fresh_dim(NodeContext& ctx, std::string_view stem) {
  std::set<std::string> used;
  const Function& function = *ctx.b().function();
  auto collect = [&](const Value* value) {
    for (const Dim& dim : value->type().shape) dim.collect_symbols(used);
  };
  for (const Value* input : function.inputs()) collect(input);
  for (const Op* op : function.ops())
    for (const Value* result : op->results()) collect(result);
  for (int k = 0;; ++k) {
    std::string name = fmt::format("{}{}", stem, k);
    if (!used.count(name)) return Dim::symbol(name);
  }
}

}  // namespace

void import_string_concat(NodeContext& ctx) {
  ctx.set_output(0, ctx.op(OpKind::StringConcat, {ctx.input(0), ctx.input(1)}));
}

void import_regex_full_match(NodeContext& ctx) {
  if (!ctx.has_attr("pattern")) return (void)ctx.fail(make_error("RegexFullMatch needs the attribute 'pattern'"));
  ctx.set_output(0, ctx.op(OpKind::RegexFullMatch, {ctx.input(0)}, {{"pattern", ctx.attr_s("pattern")}}));
}

void import_string_split(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  int64_t maxsplit = ctx.attr_i("maxsplit", -1);
  if (ctx.has_attr("maxsplit") && maxsplit < 0)
    return (void)ctx.fail(make_error("StringSplit maxsplit must not be negative, got {}", maxsplit));
  // An input with no elements splits into nothing: the width is 0 without looking at the data.
  Dim parts = shape_numel(x->type().shape) == Dim(0) ? Dim(0) : fresh_dim(ctx, "split_parts");
  AttrMap attrs{{"delimiter", ctx.attr_s("delimiter")}, {"maxsplit", maxsplit}, {"parts", Shape{parts}}};
  auto results = ctx.create(OpKind::StringSplit, {x}, attrs, 2);
  ctx.set_output(0, results[0]);
  ctx.set_output(1, results[1]);
}

void import_string_normalizer(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  std::string action = ctx.attr_s("case_change_action", "NONE");
  std::vector<std::string> stopwords = ctx.attr_strings("stopwords");
  // The `locale` attribute only affects case mapping, which Tessel does per Unicode code point for every
  // locale (docs/ir.md); an input without stopwords keeps its length unless it is empty.
  const TensorType& type = x->type();
  Dim count = type.rank() == 0 ? Dim(0) : type.shape.back();
  Dim size = stopwords.empty() && count.is_const() && count != Dim(0) ? count : fresh_dim(ctx, "kept");
  AttrMap attrs{{"case_change_action", action},
                {"is_case_sensitive", ctx.attr_i("is_case_sensitive", 0)},
                {"stopwords", stopwords},
                {"size", Shape{size}}};
  ctx.set_output(0, ctx.op(OpKind::StringNormalizer, {x}, attrs));
}

}  // namespace tessel::onnx
