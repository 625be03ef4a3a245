// Importers for ONNX reductions. The axes are an attribute before opset 18 (13 for ReduceSum) and an
// optional input after; an empty axes list reduces everything unless noop_with_empty_axes says the op
// is the identity. ReduceLogSum and ReduceSumSquare are compositions.
#include <unordered_map>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

const std::unordered_map<std::string_view, OpKind> kReductions = {
    {"ReduceSum", OpKind::ReduceSum},    {"ReduceMean", OpKind::ReduceMean},
    {"ReduceMax", OpKind::ReduceMax},    {"ReduceMin", OpKind::ReduceMin},
    {"ReduceProd", OpKind::ReduceProd},  {"ReduceL1", OpKind::ReduceL1},
    {"ReduceL2", OpKind::ReduceL2},      {"ReduceLogSumExp", OpKind::ReduceLogSumExp},
    {"ReduceLogSum", OpKind::ReduceSum}, {"ReduceSumSquare", OpKind::ReduceSum},
};

}  // namespace

void import_reduce(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  const std::string& type = ctx.op_type();
  int64_t axes_as_input_since = type == "ReduceSum" ? 13 : 18;
  std::vector<int64_t> axes;
  if (ctx.opset() >= axes_as_input_since) {
    if (ctx.has_input(1)) {
      auto ints = ctx.require_ints(1, "axes");
      if (!ints) return;
      axes = *ints;
    }
    if (axes.empty() && ctx.attr_i("noop_with_empty_axes", 0) != 0) return ctx.set_output(0, x);
  } else {
    axes = ctx.attr_ints("axes");
  }
  AttrMap attrs{{"axes", axes}, {"keepdims", ctx.attr_i("keepdims", 1)}};
  Value* input = type == "ReduceSumSquare" ? ctx.op(OpKind::Mul, {x, x}) : x;
  // ReduceMax/ReduceMin of bool (opset 20) are any/all: reduce the 0/1 values as u8.
  bool boolean = x->type().dtype == DType::Bool && (type == "ReduceMax" || type == "ReduceMin");
  if (boolean) input = ctx.cast(input, DType::U8);
  Value* result = ctx.op(kReductions.at(type), {input}, attrs);
  if (boolean) result = ctx.cast(result, DType::Bool);
  if (type == "ReduceLogSum") result = ctx.op(OpKind::Log, {result});
  ctx.set_output(0, result);
}

void import_arg_reduce(NodeContext& ctx) {
  AttrMap attrs{{"axis", ctx.attr_i("axis", 0)},
                {"keepdims", ctx.attr_i("keepdims", 1)},
                {"select_last_index", ctx.attr_i("select_last_index", 0)}};
  ctx.set_output(0, ctx.op(ctx.op_type() == "ArgMax" ? OpKind::ArgMax : OpKind::ArgMin, {ctx.input(0)}, attrs));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// CumSum and CumProd: a running sum / product along `axis`, written as a chain over the axis's
// elements (exact for every dtype, unlike a triangular matmul); `exclusive` shifts by one, `reverse`
// runs from the end. Needs a constant length along the axis.
void import_cumulative(NodeContext& ctx) {
  Value* x = ctx.input(0);
  auto axis_value = ctx.require_ints(1, "axis");
  if (!x || !axis_value) return;
  if (axis_value->size() != 1) return (void)ctx.fail(make_error("axis must hold one integer"));
  int64_t rank = x->type().rank(), axis = (*axis_value)[0];
  if (axis < -rank || axis >= rank)
    return (void)ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  auto length = x->type().shape[axis].as_const();
  constexpr int64_t kMaxChain = 4096;
  if (!length || *length > kMaxChain)
    return (void)ctx.fail_unsupported(make_error("{} needs a constant length of at most {} along axis {}, got {}",
                                                 ctx.op_type(), kMaxChain, axis, x->type().str()));
  if (*length == 0) return ctx.set_output(0, x);
  bool product = ctx.op_type() == "CumProd";
  bool exclusive = ctx.attr_i("exclusive", 0) != 0, reverse = ctx.attr_i("reverse", 0) != 0;
  OpKind combine = product ? OpKind::Mul : OpKind::Add;
  auto element = [&](int64_t i) {
    return ctx.op(OpKind::Slice, {x},
                  {{"starts", std::vector<int64_t>{i}},
                   {"ends", std::vector<int64_t>{i + 1}},
                   {"axes", std::vector<int64_t>{axis}}});
  };
  std::vector<Value*> parts(static_cast<size_t>(*length));
  Value* running = nullptr;
  for (int64_t k = 0; k < *length; ++k) {
    int64_t i = reverse ? *length - 1 - k : k;
    Value* item = element(i);
    if (exclusive) {
      Shape one = x->type().shape;
      one[axis] = 1;
      parts[i] =
          running ? running : ctx.op(OpKind::Expand, {ctx.scalar(product ? 1 : 0, x->type().dtype)}, {{"shape", one}});
      running = running ? ctx.op(combine, {running, item}) : item;
    } else {
      running = running ? ctx.op(combine, {running, item}) : item;
      parts[i] = running;
    }
  }
  ctx.set_output(0, parts.size() == 1 ? parts[0] : ctx.op(OpKind::Concat, parts, {{"axis", axis}}));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// TopK by ranking: each element's rank along the axis is the number of elements that come before it
// (greater -- or smaller, for largest=0 -- or equal with a lower index, the reference's tie order); values
// and indices are scattered to their rank and the first k kept. Quadratic in the axis length, which must
// be a constant of at most 4096.
void import_top_k(NodeContext& ctx) {
  Value* x = ctx.input(0);
  if (!x) return;
  std::optional<int64_t> k;
  if (ctx.opset() < 10) {
    k = ctx.attr_i("k", 0);
  } else {
    auto ints = ctx.require_ints(1, "k");
    if (!ints) return;
    if (ints->size() != 1) return (void)ctx.fail(make_error("k must hold one integer"));
    k = (*ints)[0];
  }
  int64_t rank = x->type().rank(), axis = ctx.attr_i("axis", -1);
  if (axis < -rank || axis >= rank)
    return (void)ctx.fail(make_error("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  auto n = x->type().shape[axis].as_const();
  if (!n || *n > 4096)
    return (void)ctx.fail_unsupported(
        make_error("TopK needs a constant axis length of at most 4096, got {}", x->type().str()));
  if (*k < 0 || *k > *n) return (void)ctx.fail(make_error("k = {} is out of range for axis length {}", *k, *n));
  bool largest = ctx.attr_i("largest", 1) != 0;
  // Work with the axis last: xt [..., n].
  auto [perm, inverse] = axis_last_permutation(rank, axis);
  Value* xt = ctx.op(OpKind::Transpose, {x}, {{"perm", perm}});
  Value* mine = ctx.op(OpKind::Unsqueeze, {xt}, {{"axes", std::vector<int64_t>{-1}}});    // x_i: [..., n, 1]
  Value* theirs = ctx.op(OpKind::Unsqueeze, {xt}, {{"axes", std::vector<int64_t>{-2}}});  // x_j: [..., 1, n]
  Tensor lower(DType::Bool, {*n, *n});                                                    // j < i
  for (int64_t i = 0; i < *n; ++i)
    for (int64_t j = 0; j < i; ++j) lower.data<uint8_t>()[i * *n + j] = 1;
  Value* ahead = ctx.op(largest ? OpKind::Greater : OpKind::Less, {theirs, mine});
  Value* tie = ctx.op(OpKind::And, {ctx.op(OpKind::Equal, {theirs, mine}), ctx.constant(lower, "lower")});
  Value* before = ctx.cast(ctx.op(OpKind::Or, {ahead, tie}), DType::I64);
  Value* ranks = ctx.op(OpKind::ReduceSum, {before}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{0}}});
  std::vector<int64_t> iota(static_cast<size_t>(*n));
  for (int64_t i = 0; i < *n; ++i) iota[i] = i;
  Shape shape = xt ? xt->type().shape : Shape{};
  Value* positions =
      ctx.op(OpKind::Expand, {ctx.constant(Tensor::of<int64_t>({*n}, iota), "iota")}, {{"shape", shape}});
  AttrMap last{{"axis", int64_t{-1}}};
  Value* values = ctx.op(OpKind::ScatterElements, {xt, ranks, xt}, last);
  Value* indices = ctx.op(OpKind::ScatterElements, {positions, ranks, positions}, last);
  AttrMap first_k{
      {"starts", std::vector<int64_t>{0}}, {"ends", std::vector<int64_t>{*k}}, {"axes", std::vector<int64_t>{-1}}};
  ctx.set_output(0, ctx.op(OpKind::Transpose, {ctx.op(OpKind::Slice, {values}, first_k)}, {{"perm", inverse}}));
  ctx.set_output(1, ctx.op(OpKind::Transpose, {ctx.op(OpKind::Slice, {indices}, first_k)}, {{"perm", inverse}}));
}

}  // namespace tessel::onnx
