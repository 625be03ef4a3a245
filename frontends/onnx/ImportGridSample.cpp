// GridSample (opsets 16+) as a composition, following the ONNX reference: grid coordinates (x, y[, z]) are
// denormalized per spatial dim (f32, as the reference), rounded for nearest, pulled back inside by the
// padding mode (border: clamp; reflection: fold at the borders), then every interpolation corner
// (1 for nearest, 2^k for linear, 4^k for cubic) is fetched with gather_elements from the flattened
// input -- zero padding masks corners outside the input -- and summed with its weight.
#include <cmath>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

struct Sampler {
  NodeContext& ctx;
  std::string padding;
  bool align_corners = false;

  Value* f(double v) { return ctx.scalar(v, DType::F32); }
  Value* add(Value* a, Value* b) { return ctx.op(OpKind::Add, {a, b}); }
  Value* sub(Value* a, Value* b) { return ctx.op(OpKind::Sub, {a, b}); }
  Value* mul(Value* a, Value* b) { return ctx.op(OpKind::Mul, {a, b}); }
  Value* where(Value* c, Value* a, Value* b) { return ctx.op(OpKind::Where, {c, a, b}); }

  double lo(int64_t length) const { return align_corners ? 0.0 : -0.5; }
  double hi(int64_t length) const { return align_corners ? double(length - 1) : double(length) - 0.5; }

  // Folds v into [lo, hi] by reflecting at the borders as often as needed (the reference's _gs_reflect).
  Value* reflect(Value* v, double low, double high) {
    double range = high - low;
    auto fold = [&](Value* dx, double near, double far) {
      Value* n = ctx.op(OpKind::Floor, {ctx.op(OpKind::Div, {dx, f(range)})});
      Value* r = sub(dx, mul(n, f(range)));
      Value* half = ctx.op(OpKind::Floor, {ctx.op(OpKind::Div, {n, f(2)})});
      Value* even = ctx.op(OpKind::Equal, {n, mul(half, f(2))});
      return where(even, add(f(near), near < far ? r : ctx.op(OpKind::Neg, {r})),
                   add(f(far), near < far ? ctx.op(OpKind::Neg, {r}) : r));
    };
    Value* below = ctx.op(OpKind::Less, {v, f(low)});
    Value* above = ctx.op(OpKind::Greater, {v, f(high)});
    Value* from_low = fold(sub(f(low), v), low, high);
    Value* from_high = fold(sub(v, f(high)), high, low);
    return where(below, from_low, where(above, from_high, v));
  }

  // The coordinate of one spatial dim after denormalizing and applying the padding mode.
  Value* coordinate(Value* g, int64_t length, bool nearest) {
    double l = double(length);
    Value* v = align_corners ? mul(add(g, f(1)), f((l - 1) / 2))
                             : ctx.op(OpKind::Div, {sub(mul(add(g, f(1)), f(l)), f(1)), f(2)});
    if (nearest) v = ctx.op(OpKind::Round, {v});
    if (padding == "zeros") return v;
    Value* outside =
        ctx.op(OpKind::Or, {ctx.op(OpKind::Less, {v, f(lo(length))}), ctx.op(OpKind::Greater, {v, f(hi(length))})});
    Value* inside = padding == "border" ? ctx.op(OpKind::Clip, {v}, {{"min", 0.0}, {"max", l - 1}})
                                        : reflect(v, lo(length), hi(length));
    return where(outside, inside, v);
  }

  // A pixel index (integral f32) -> a valid index (i64) and, for zero padding, whether it was inside.
  std::pair<Value*, Value*> pixel(Value* i, int64_t length) {
    Value* valid = nullptr;
    if (padding == "zeros")
      valid =
          ctx.op(OpKind::And, {ctx.op(OpKind::GreaterEqual, {i, f(0)}), ctx.op(OpKind::Less, {i, f(double(length))})});
    if (padding == "reflection") i = reflect(i, lo(length), hi(length));
    Value* index = ctx.cast(ctx.op(OpKind::Clip, {i}, {{"min", 0.0}, {"max", double(length - 1)}}), DType::I64);
    return {index, valid};
  }
};

struct Corner {
  Value* index;   ///< integral f32 position
  Value* weight;  ///< f32
};

}  // namespace

void import_grid_sample(NodeContext& ctx) {
  Value *x = ctx.input(0), *grid = ctx.input(1);
  if (!x || !grid) return;
  int64_t rank = x->type().rank(), k = rank - 2;
  std::string mode = ctx.attr_s("mode", ctx.opset() >= 20 ? "linear" : "bilinear");
  if (mode == "bilinear") mode = "linear";
  if (mode == "bicubic") mode = "cubic";
  Sampler s{ctx, ctx.attr_s("padding_mode", "zeros"), ctx.attr_i("align_corners", 0) != 0};
  if (k < 1 || grid->type().rank() != rank || grid->type().shape[rank - 1] != Dim(k))
    return (void)ctx.fail(make_error("GridSample needs X [N, C, spatial...] and grid [N, out..., {}], got {} and {}", k,
                                     x->type().str(), grid->type().str()));
  if ((mode != "nearest" && mode != "linear" && mode != "cubic") ||
      (s.padding != "zeros" && s.padding != "border" && s.padding != "reflection"))
    return (void)ctx.fail(make_error("unknown GridSample mode '{}' or padding_mode '{}'", mode, s.padding));
  std::vector<int64_t> dims;
  for (int64_t i = 2; i < rank; ++i) {
    auto d = x->type().shape[i].as_const();
    if (!d)
      return (void)ctx.fail_unsupported(make_error("GridSample needs constant spatial dims, got {}", x->type().str()));
    dims.push_back(*d);
  }
  const Shape& xs = x->type().shape;
  const Shape& gs = grid->type().shape;
  Dim points = 1, pixels = 1;
  for (int64_t i = 1; i < rank - 1; ++i) points = points * gs[i];
  for (int64_t d : dims) pixels = pixels * Dim(d);
  Value* flat_grid = ctx.op(OpKind::Reshape, {ctx.cast(grid, DType::F32)}, {{"shape", Shape{gs[0], points, k}}});
  Value* table = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{xs[0], xs[1], pixels}}});

  // Per spatial dim (outermost first): its corners. The grid's last axis lists dims innermost first.
  std::vector<std::vector<Corner>> corners(static_cast<size_t>(k));
  for (int64_t d = 0; d < k; ++d) {
    Value* g = ctx.op(OpKind::Slice, {flat_grid},
                      {{"starts", std::vector<int64_t>{k - 1 - d}},
                       {"ends", std::vector<int64_t>{k - d}},
                       {"axes", std::vector<int64_t>{2}}});
    g = ctx.op(OpKind::Squeeze, {g}, {{"axes", std::vector<int64_t>{2}}});
    Value* v = s.coordinate(g, dims[d], mode == "nearest");
    if (mode == "nearest") {
      corners[d].push_back({v, nullptr});
      continue;
    }
    Value* base = ctx.op(OpKind::Floor, {v});
    Value* t = s.sub(v, base);
    if (mode == "linear") {
      corners[d].push_back({base, s.sub(s.f(1), t)});
      corners[d].push_back({s.add(base, s.f(1)), t});
      continue;
    }
    // Keys' cubic kernel (alpha = -0.75) at distances t + 1, t, 1 - t, 2 - t from the four neighbours.
    constexpr double a = -0.75;
    auto near = [&](Value* u) {  // |u| <= 1: ((a + 2) u - (a + 3)) u^2 + 1
      return s.add(s.mul(s.sub(s.mul(s.f(a + 2), u), s.f(a + 3)), s.mul(u, u)), s.f(1));
    };
    auto far = [&](Value* u) {  // 1 < |u| < 2: ((a u - 5a) u + 8a) u - 4a
      return s.sub(s.mul(s.add(s.mul(s.sub(s.mul(s.f(a), u), s.f(5 * a)), u), s.f(8 * a)), u), s.f(4 * a));
    };
    Value* weights[] = {far(s.add(t, s.f(1))), near(t), near(s.sub(s.f(1), t)), far(s.sub(s.f(2), t))};
    for (int64_t j = 0; j < 4; ++j) corners[d].push_back({s.add(base, s.f(double(j - 1))), weights[j]});
  }

  Value* sum = nullptr;
  std::vector<size_t> pick(static_cast<size_t>(k), 0);
  while (true) {
    Value* linear = nullptr;
    Value* weight = nullptr;
    Value* valid = nullptr;
    int64_t stride = 1;
    for (int64_t d = k - 1; d >= 0; --d) {
      const Corner& c = corners[d][pick[d]];
      auto [index, inside] = s.pixel(c.index, dims[d]);
      Value* term = ctx.op(OpKind::Mul, {index, ctx.scalar(double(stride), DType::I64)});
      linear = linear ? ctx.op(OpKind::Add, {linear, term}) : term;
      if (c.weight) weight = weight ? s.mul(weight, c.weight) : c.weight;
      if (inside) valid = valid ? ctx.op(OpKind::And, {valid, inside}) : inside;
      stride *= dims[d];
    }
    Value* at = ctx.op(OpKind::Expand, {ctx.op(OpKind::Unsqueeze, {linear}, {{"axes", std::vector<int64_t>{1}}})},
                       {{"shape", Shape{xs[0], xs[1], points}}});
    Value* value = ctx.cast(ctx.op(OpKind::GatherElements, {table, at}, {{"axis", int64_t{2}}}), DType::F32);
    if (valid) weight = s.where(valid, weight ? weight : s.f(1), s.f(0));
    if (weight) value = s.mul(value, ctx.op(OpKind::Unsqueeze, {weight}, {{"axes", std::vector<int64_t>{1}}}));
    sum = sum ? s.add(sum, value) : value;
    // Next combination of corners (odometer over dims).
    int64_t d = k - 1;
    for (; d >= 0; --d) {
      if (++pick[d] < corners[d].size()) break;
      pick[d] = 0;
    }
    if (d < 0 || ctx.failed()) break;
  }
  Shape out{xs[0], xs[1]};
  for (int64_t i = 1; i < rank - 1; ++i) out.push_back(gs[i]);
  ctx.set_output(0, ctx.cast(ctx.op(OpKind::Reshape, {sum}, {{"shape", out}}), x->type().dtype));
}

}  // namespace tessel::onnx
