// A kernel output that is a constant pad, lowered as dense nests: the fill value over the border (a few
// boxes), then the pad's input over the interior. The generic form computes every output element as
// select(inside, x[clamp(i - before)], fill), whose vector loop reads x through a gather of clamped indices;
// here every nest is contiguous loads and stores, and each element is written once.
// Applies to pads with no negative (cropping) amounts, in dtypes that compute as themselves: on CPUs for
// any input, and (border only) wherever an anchor's nest stores the interior (LowerKernel).
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"
#include "passes/ScheduleKernels.h"

namespace tessel::lower {
namespace {

/// Stores a nest's value at its index moved by `offset` in buffer `buffer` of shape `shape`.
StoreFn store_shifted(const std::string& buffer, const Shape& shape, std::vector<Expr> offset) {
  return [buffer, shape, offset](const std::vector<Expr>& index, const Expr& v) -> Expected<Stmt> {
    std::vector<Expr> shifted;
    for (size_t d = 0; d < index.size(); ++d) shifted.push_back(loop::simplify(index[d] + offset[d]));
    return loop::store(buffer, flat_index(shifted, shape), v);
  };
}

}  // namespace

bool is_border_filled_pad(const Op& op) {
  if (op.kind() != OpKind::Pad || op.attr().s("mode") != "constant" || op.num_operands() != 1) return false;
  DType dtype = op.result()->type().dtype;
  if (compute_dtype(dtype) != dtype || dtype == DType::Bool) return false;
  const std::vector<int64_t>& pads = op.attr().ints("pads");
  return std::none_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; });
}

Expected<Stmt> pad_border(const Value* out, const std::string& buffer, const Target& target) {
  const Op* pad = out->producer();
  DType dtype = out->type().dtype;
  const std::vector<int64_t>& pads = pad->attr().ints("pads");
  const Value* x = pad->operand(0);
  const Shape& out_shape = out->type().shape;
  double value = pad->attr().f("value");
  Expr fill = is_float(dtype) ? loop::float_imm(value, dtype) : loop::int_imm(static_cast<int64_t>(value), dtype);

  // The border as boxes, two per padded axis a: axes before a span the interior, a spans its pad before
  // (or after) the input, axes after a span the whole output. Together they cover each border element once.
  const Shape& in_shape = x->type().shape;
  size_t rank = in_shape.size();
  std::vector<Stmt> nests;
  for (size_t a = 0; a < rank; ++a) {
    for (bool after : {false, true}) {
      int64_t amount = pads[a + (after ? rank : 0)];
      if (amount == 0) continue;
      Anchor box;
      std::vector<Expr> offset;
      for (size_t d = 0; d < rank; ++d) {
        Dim extent = d < a ? in_shape[d] : d == a ? Dim(amount) : out_shape[d];
        box.axes.push_back({"d" + std::to_string(d), extent, false});
        Expr start = d < a ? loop::int_imm(pads[d]) : loop::int_imm(0);
        if (d == a && after) start = loop::simplify(loop::int_imm(pads[d]) + loop::dim_expr(in_shape[d]));
        offset.push_back(start);
      }
      box.num_spatial = rank;
      box.finalize = [fill](const std::vector<Expr>&, const std::vector<Expr>&) -> Expected<Expr> { return fill; };
      // Serial: a border is a few rows and columns, less work than a fork and join of the thread pool.
      Schedule serial = target.arch == TargetArch::Cuda ? Schedule{} : cpu_schedule(box.axes, dtype, target);
      serial.parallel.clear();
      TESSEL_ASSIGN(Stmt nest, build_nest(box, serial, store_shifted(buffer, out_shape, offset)));
      nests.push_back(nest);
    }
  }
  return loop::block(nests);
}

Expected<std::optional<Stmt>> pad_as_fill_and_copy(const Value* out, const std::string& buffer,
                                                   const Schedule& schedule, const Target& target, Inliner& inliner) {
  const Op* pad = out->producer();
  if (target.arch == TargetArch::Cuda || !pad || !is_border_filled_pad(*pad)) return std::optional<Stmt>();
  TESSEL_ASSIGN(Stmt border, pad_border(out, buffer, target));
  const Value* x = pad->operand(0);
  Anchor interior = elementwise_anchor(x, inliner);
  std::vector<Expr> before;
  const std::vector<int64_t>& pads = pad->attr().ints("pads");
  for (size_t d = 0; d < x->type().shape.size(); ++d) before.push_back(loop::int_imm(pads[d]));
  TESSEL_ASSIGN(Stmt copy_nest, build_nest(interior, schedule, store_shifted(buffer, out->type().shape, before)));
  return std::optional<Stmt>(loop::block({border, copy_nest}));
}

}  // namespace tessel::lower
