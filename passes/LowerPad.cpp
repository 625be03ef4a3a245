// A kernel output that is a constant pad, lowered as dense nests: the fill value over the border (a few
// boxes), then the pad's input over the interior. The generic form computes every output element as
// select(inside, x[clamp(i - before)], fill), whose vector loop reads x through a gather of clamped indices;
// here every nest is contiguous loads and stores, and each element is written once.
// Applies to pads with no negative (cropping) amounts, in dtypes that compute as themselves, on CPUs.
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"
#include "passes/ScheduleKernels.h"

namespace tessel::lower {

Expected<std::optional<Stmt>> pad_as_fill_and_copy(const Value* out, const std::string& buffer,
                                                   const Schedule& schedule, const Target& target, Inliner& inliner) {
  const Op* pad = out->producer();
  if (target.arch == TargetArch::Cuda) return std::optional<Stmt>();
  if (!pad || pad->kind() != OpKind::Pad || pad->attr().s("mode") != "constant") return std::optional<Stmt>();
  DType dtype = out->type().dtype;
  if (compute_dtype(dtype) != dtype || dtype == DType::Bool) return std::optional<Stmt>();
  const std::vector<int64_t>& pads = pad->attr().ints("pads");
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; })) return std::optional<Stmt>();
  const Value* x = pad->operand(0);
  const Shape& out_shape = out->type().shape;
  double value = pad->attr().f("value");
  Expr fill = is_float(dtype) ? loop::float_imm(value, dtype) : loop::int_imm(static_cast<int64_t>(value), dtype);

  // Stores a nest's value at its index moved by `offset` in the output.
  auto store_shifted = [&](std::vector<Expr> offset) -> StoreFn {
    return [&, offset](const std::vector<Expr>& index, const Expr& v) -> Expected<Stmt> {
      std::vector<Expr> shifted;
      for (size_t d = 0; d < index.size(); ++d) shifted.push_back(loop::simplify(index[d] + offset[d]));
      return loop::store(buffer, flat_index(shifted, out_shape), v);
    };
  };
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
      Schedule serial = cpu_schedule(box.axes, dtype, target);
      serial.parallel.clear();
      TESSEL_ASSIGN(Stmt nest, build_nest(box, serial, store_shifted(offset)));
      nests.push_back(nest);
    }
  }

  Anchor interior = elementwise_anchor(x, inliner);
  std::vector<Expr> before;
  for (size_t d = 0; d < rank; ++d) before.push_back(loop::int_imm(pads[d]));
  TESSEL_ASSIGN(Stmt copy_nest, build_nest(interior, schedule, store_shifted(before)));
  nests.push_back(copy_nest);
  return std::optional<Stmt>(loop::block(nests));
}

}  // namespace tessel::lower
