// Window anchors in the lowering: conv, conv_transpose and pooling.
//   conv / conv_transpose [n, oc, oh, ow] + [ic, kh, kw] (od/kd for 3-D; ow/kw alone for 1-D)
//   pool                  [n, c, oh, ow] + [kh, kw]
// Conv gathers y[o] += w[k] * x[o*s - pb + k*d]; conv_transpose is the same sum read from the output
// side: y[o] += w[k] * x[i] for every i with i*s - pb + k*d = o, i.e. the tap is used when o + pb - k*d
// is a non-negative multiple of s below s*in. Window taps outside the input are masked with a select
// over a clamped, always-in-bounds load, and only on sides that can overshoot. max_pool's indices
// result keeps the maximum and its row-major input offset; ties and NaNs go to the smallest offset,
// which is what the interpreter's first-in-window-order rule picks, whatever order the schedule gives
// the taps.
#include <functional>

#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

/// Per-axis window attributes filled to `spatial` entries.
struct Window {
  std::vector<int64_t> strides, pads, dilations, kernel;
  int64_t pad_begin(size_t a) const { return pads[a]; }
  int64_t pad_end(size_t a) const { return pads[a + strides.size()]; }
};

Expected<Window> read_window(const Op& op, size_t spatial) {
  Window w;
  AttrReader attrs = op.attr();
  w.strides = attrs.ints("strides");
  w.pads = attrs.ints("pads");
  w.dilations = attrs.ints("dilations");
  if (w.strides.empty()) w.strides.assign(spatial, 1);
  if (w.pads.empty()) w.pads.assign(2 * spatial, 0);
  if (w.dilations.empty()) w.dilations.assign(spatial, 1);
  if (w.strides.size() != spatial || w.pads.size() != 2 * spatial || w.dilations.size() != spatial)
    return op_error(op, "has window attributes that do not match its spatial rank");
  return w;
}

std::vector<std::string> spatial_names(size_t spatial, char prefix) {
  static const char* kNames[] = {"d", "h", "w"};
  std::vector<std::string> names;
  for (size_t a = 0; a < spatial; ++a) {
    if (spatial <= 3)
      names.push_back(std::string(1, prefix) + kNames[3 - spatial + a]);
    else
      names.push_back(std::string(1, prefix) + std::to_string(a));
  }
  return names;
}

/// Input position of window tap `k` at output position `o` on axis `a`, and whether it lies inside
/// [0, dim); the position is clamped into range when it might not.
struct Tap {
  Expr pos;
  Expr inside;
};

Tap window_tap(const Window& w, size_t a, const Expr& o, const Expr& k, const Dim& dim, bool ceil_mode) {
  Expr pos = o * int_imm(w.strides[a]) - int_imm(w.pad_begin(a)) + k * int_imm(w.dilations[a]);
  Expr inside = bool_imm(true);
  Expr d = dim_expr(dim);
  bool check_low = w.pad_begin(a) > 0, check_high = w.pad_end(a) > 0 || ceil_mode;
  if (check_low) inside = inside && pos >= int_imm(0);
  if (check_high) inside = inside && pos < d;
  if (check_low || check_high) pos = max(min(pos, d - int_imm(1)), int_imm(0));
  return {simplify(pos), simplify(inside)};
}

/// The input position of conv_transpose tap `k` at output position `o` on axis `a`: the i with
/// i*s - pb + k*d = o, if there is one inside the input.
Tap transposed_tap(const Window& w, size_t a, const Expr& o, const Expr& k, const Dim& dim) {
  Expr num = simplify(o + int_imm(w.pad_begin(a)) - k * int_imm(w.dilations[a]));
  Expr s = int_imm(w.strides[a]), d = dim_expr(dim);
  // num may be negative; its (C) quotient is clamped into range and only used when num >= 0.
  Expr pos = w.strides[a] == 1 ? num : num / s;
  Expr inside = num >= int_imm(0) && pos < d;
  if (w.strides[a] != 1) inside = inside && eq(num % s, int_imm(0));
  return {simplify(max(min(pos, d - int_imm(1)), int_imm(0))), simplify(inside)};
}

/// The anchor's axes for a conv-like op: n, channels, output positions, then `reduction` axes.
Anchor window_domain(const Shape& out, const std::string& channel, size_t spatial) {
  Anchor anchor;
  anchor.axes = {{"n", out[0], false}, {channel, out[1], false}};
  auto onames = spatial_names(spatial, 'o');
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({onames[a], out[2 + a], false});
  anchor.num_spatial = anchor.axes.size();
  return anchor;
}

bool is_transpose(const Value* v, const std::vector<int64_t>& perm) {
  const Op* producer = v->producer();
  return producer && producer->kind() == OpKind::Transpose && producer->attr().ints("perm") == perm;
}

/// Whether conv weights `w` [oc, ic, k...] are read from a tensor stored channel-last [ic, k..., oc] or
/// blocked [oc / B, ic, k..., B], as the `layout` pass leaves constant weights: loads along the output
/// channels are then contiguous (the blocked form once the loop ranges split the division by B).
bool weights_follow_output_channels(const Value* w) {
  int64_t rank = w->type().rank();
  std::vector<int64_t> channel_last = {rank - 1}, blocked = {0, rank};
  for (int64_t d = 0; d < rank - 1; ++d) channel_last.push_back(d);
  for (int64_t d = 1; d < rank; ++d) blocked.push_back(d);
  if (is_transpose(w, channel_last)) return true;
  const Op* producer = w->producer();
  return producer && producer->kind() == OpKind::Reshape && is_transpose(producer->operand(0), blocked);
}

Expected<Expr> add_bias(const Value* bias, Inliner& inl, const std::vector<Expr>& sp, const Expr& acc) {
  if (!bias) return acc;
  TESSEL_ASSIGN(Expr bv, inl.value_at(bias, {sp[1]}));
  return acc + bv;
}

/// The channels one step of a conv-like op reads: the input channel and the weight's first two indices.
struct ConvChannels {
  Expr input, weight0, weight1;
};

/// What sets conv and conv_transpose apart: which channels a step (oc, ic) reads and where a tap lands.
struct ConvReads {
  std::function<ConvChannels(const Expr& oc, const Expr& ic)> channels;
  std::function<Tap(size_t axis, const Expr& out, const Expr& tap)> tap;
};

/// The anchor of a conv-like op over x [N, C, D...] and w [., ., K...] with an optional bias: the domain
/// n, oc, output positions, then ic (extent `ic_extent`) and the window taps; a step adds
/// x[n, channel, tap position] * w[weight0, weight1, k...], with zero where the tap falls outside x.
Expected<Anchor> conv_like_anchor(const Op& op, Inliner& inl, const Dim& ic_extent, ConvReads reads) {
  const Value *x = op.operand(0), *w = op.operand(1), *bias = op.operand(2);
  const Shape &xs = x->type().shape, &ws = w->type().shape, &out = op.result()->type().shape;
  size_t spatial = xs.size() - 2;
  DType c = compute_dtype(x->type().dtype);
  Anchor anchor = window_domain(out, "oc", spatial);
  auto knames = spatial_names(spatial, 'k');
  anchor.axes.push_back({"ic", ic_extent, true});
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({knames[a], ws[2 + a], true});
  anchor.accs = {{c, zero_of(c)}};
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    size_t ns = 2 + spatial;
    ConvChannels ch = reads.channels(ax[1], ax[ns]);
    std::vector<Expr> xi = {ax[0], ch.input}, wi = {ch.weight0, ch.weight1};
    Expr inside = bool_imm(true);
    for (size_t a = 0; a < spatial; ++a) {
      Tap tap = reads.tap(a, ax[2 + a], ax[ns + 1 + a]);
      xi.push_back(tap.pos);
      inside = inside && tap.inside;
      wi.push_back(ax[ns + 1 + a]);
    }
    TESSEL_ASSIGN(Expr xv, inl.value_at(x, xi));
    TESSEL_ASSIGN(Expr wv, inl.value_at(w, wi));
    Expr term = simplify(select(simplify(inside), xv, zero_of(c)));
    return std::vector<Expr>{acc[0] + term * wv};
  };
  anchor.finalize = [=, &inl](const std::vector<Expr>& sp, const std::vector<Expr>& acc) -> Expected<Expr> {
    return add_bias(bias, inl, sp, acc[0]);
  };
  return anchor;
}

}  // namespace

Expected<Anchor> conv_anchor(const Op& op, Inliner& inl) {
  const Value *x = op.operand(0), *w = op.operand(1);
  const Shape &xs = x->type().shape, &ws = w->type().shape, &out = op.result()->type().shape;
  if (!is_float(x->type().dtype)) return op_error(op, "on " + x->type().str() + " has no loop lowering");
  TESSEL_ASSIGN(Window win, read_window(op, xs.size() - 2));
  int64_t group = op.attr().i("group");
  auto m_per_group = out[1].divide_exact(Dim(group));
  if (!m_per_group) return op_error(op, "output channels " + out[1].str() + " are not divisible by the group");
  Dim per_group = *m_per_group;
  // w: [M, C/group, K...]; output channel oc reads input channels (oc / (M/group)) * (C/group) + ic.
  ConvReads reads;
  reads.channels = [=](const Expr& oc, const Expr& ic) {
    Expr channel = group == 1 ? ic : (oc / dim_expr(per_group)) * dim_expr(ws[1]) + ic;
    return ConvChannels{channel, oc, ic};
  };
  reads.tap = [=](size_t a, const Expr& o, const Expr& k) { return window_tap(win, a, o, k, xs[2 + a], false); };
  TESSEL_ASSIGN(Anchor anchor, conv_like_anchor(op, inl, ws[1], std::move(reads)));
  anchor.axes[1].prefer_vector = group == 1 && weights_follow_output_channels(w);
  return anchor;
}

Expected<Anchor> conv_transpose_anchor(const Op& op, Inliner& inl) {
  const Value *x = op.operand(0), *w = op.operand(1);
  const Shape &xs = x->type().shape, &ws = w->type().shape;
  if (!is_float(x->type().dtype)) return op_error(op, "on " + x->type().str() + " has no loop lowering");
  TESSEL_ASSIGN(Window win, read_window(op, xs.size() - 2));
  int64_t group = op.attr().i("group");
  auto c_per_group = xs[1].divide_exact(Dim(group));
  if (!c_per_group) return op_error(op, "input channels " + xs[1].str() + " are not divisible by the group");
  Dim in_per_group = *c_per_group;
  // w: [C, M/group, K...]; output channel oc of group g = oc / (M/group) reads input channels
  // g*(C/group) + ic and weight [g*(C/group) + ic, oc % (M/group)].
  ConvReads reads;
  reads.channels = [=](const Expr& oc, const Expr& ic) {
    if (group == 1) return ConvChannels{ic, ic, oc};
    Expr m_per_group = dim_expr(ws[1]);
    Expr channel = (oc / m_per_group) * dim_expr(in_per_group) + ic;
    return ConvChannels{channel, channel, oc % m_per_group};
  };
  reads.tap = [=](size_t a, const Expr& o, const Expr& k) { return transposed_tap(win, a, o, k, xs[2 + a]); };
  return conv_like_anchor(op, inl, in_per_group, std::move(reads));
}

Expected<Anchor> pool_anchor(const Value* v, Inliner& inl) {
  const Op& op = *v->producer();
  const Value* x = op.operand(0);
  const Shape &xs = x->type().shape, &out = v->type().shape;
  size_t spatial = xs.size() - 2;
  TESSEL_ASSIGN(Window win, read_window(op, spatial));
  win.kernel = op.attr().ints("kernel");
  bool is_max = op.kind() == OpKind::MaxPool;
  bool indices = is_max && v->index() == 1;
  bool column_major = indices && op.attr().i("storage_order") != 0;
  bool ceil_mode = op.attr().i("ceil_mode") != 0;
  bool include_pad = !is_max && op.attr().i("count_include_pad") != 0;
  DType c = compute_dtype(x->type().dtype);
  Anchor anchor = window_domain(out, "c", spatial);
  auto knames = spatial_names(spatial, 'k');
  for (size_t a = 0; a < spatial; ++a) anchor.axes.push_back({knames[a], Dim(win.kernel[a]), true});
  if (indices)
    anchor.accs = {{c, lowest_of(c)}, {DType::I64, int_imm(-1)}};  // maximum, its row-major offset in x
  else if (is_max)
    anchor.accs = {{c, lowest_of(c)}};
  else
    anchor.accs = {{c, zero_of(c)}, {c, zero_of(c)}};  // sum, tap count
  anchor.update = [=, &inl](const std::vector<Expr>& ax, const std::vector<Expr>& acc) -> Expected<std::vector<Expr>> {
    std::vector<Expr> xi = {ax[0], ax[1]};
    Expr inside = bool_imm(true), counted = bool_imm(true);
    for (size_t a = 0; a < spatial; ++a) {
      Tap tap = window_tap(win, a, ax[2 + a], ax[2 + spatial + a], xs[2 + a], ceil_mode);
      xi.push_back(tap.pos);
      inside = inside && tap.inside;
      if (include_pad) {
        // Taps inside the padded input count; those of a ceil-mode window past the end padding do not.
        Expr padded = ax[2 + a] * int_imm(win.strides[a]) + ax[2 + spatial + a] * int_imm(win.dilations[a]);
        counted = counted && padded < dim_expr(xs[2 + a]) + int_imm(win.pad_begin(a) + win.pad_end(a));
      }
    }
    inside = simplify(inside);
    if (!include_pad) counted = inside;
    TESSEL_ASSIGN(Expr xv, inl.value_at(x, xi));
    if (indices) {
      Expr offset = flat_index(xi, xs), best = acc[0], at = acc[1];
      Expr better = at < int_imm(0) || xv > best || (eq(xv, best) && offset < at);
      if (is_float(c)) {
        Expr x_nan = call(Intrinsic::IsNan, {xv}), best_nan = call(Intrinsic::IsNan, {best});
        better = select(best_nan, x_nan && offset < at, x_nan || better);
      }
      better = simplify(inside && better);
      return std::vector<Expr>{select(better, xv, best), select(better, offset, at)};
    }
    if (is_max) return std::vector<Expr>{max(acc[0], simplify(select(inside, xv, lowest_of(c))))};
    return std::vector<Expr>{acc[0] + simplify(select(inside, xv, zero_of(c))),
                             acc[1] + simplify(select(simplify(counted), float_imm(1, c), zero_of(c)))};
  };
  anchor.finalize = [=](const std::vector<Expr>&, const std::vector<Expr>& acc) -> Expected<Expr> {
    if (!indices) return is_max ? acc[0] : acc[0] / acc[1];
    if (!column_major) return acc[1];
    // ONNX storage_order 1: the spatial offset counted column-major within the (n, c) plane.
    Shape plane(xs.begin() + 2, xs.end());
    Expr size = dim_expr(shape_numel(plane));
    std::vector<Expr> pos = unflatten(acc[1] % size, plane);
    Expr column = int_imm(0);
    for (size_t a = plane.size(); a-- > 0;) column = column * dim_expr(plane[a]) + pos[a];
    return select(acc[1] < int_imm(0), acc[1], (acc[1] / size) * size + column);
  };
  return anchor;
}

}  // namespace tessel::lower
