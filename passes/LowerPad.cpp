// A kernel output that is a constant pad, lowered as two dense nests: the fill value over the whole output,
// then the pad's input over the interior. The generic form computes every output element as
// select(inside, x[clamp(i - before)], fill), whose vector loop reads x through a gather of clamped indices;
// here both nests are contiguous loads and stores (the interior is written twice, which costs far less).
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

  Anchor whole = elementwise_anchor(out, inliner);
  whole.finalize = [fill](const std::vector<Expr>&, const std::vector<Expr>&) -> Expected<Expr> { return fill; };
  auto store_at = [&](const std::vector<Expr>& index, const Expr& v) -> Expected<Stmt> {
    return loop::store(buffer, flat_index(index, out_shape), v);
  };
  TESSEL_ASSIGN(Stmt fill_nest, build_nest(whole, schedule, store_at));

  Anchor interior = elementwise_anchor(x, inliner);
  auto store_inside = [&](const std::vector<Expr>& index, const Expr& v) -> Expected<Stmt> {
    std::vector<Expr> shifted;
    for (size_t d = 0; d < index.size(); ++d) shifted.push_back(loop::simplify(index[d] + loop::int_imm(pads[d])));
    return store_at(shifted, v);
  };
  TESSEL_ASSIGN(Stmt copy_nest, build_nest(interior, cpu_schedule(interior.axes, dtype, target), store_inside));
  return std::optional<Stmt>(loop::block({fill_nest, copy_nest}));
}

}  // namespace tessel::lower
