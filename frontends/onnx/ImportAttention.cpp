// The ONNX Attention op (opsets 23-24) as a composition of IR primitives, following the ONNX reference:
// 3-D inputs split into heads; Q and K each scaled by sqrt(scale); past key/value concatenated; an
// additive bias built from the mask (bool masks: 0 / -inf, padded to the key length), the causal
// frontier (offset by the past length, or per batch by nonpad_kv_seqlen) and the key padding; grouped
// heads repeated; softcap; softmax (in softmax_precision) with fully masked rows set to 0; the product
// with V, merged back to 3-D. Sliding windows (opset 25) are not supported yet.
#include <cmath>
#include <limits>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// [B, S, H * D] -> [B, H, S, D].
Value* split_heads(NodeContext& ctx, Value* x, int64_t heads) {
  if (!x) return nullptr;
  if (x->type().rank() != 3)
    return ctx.fail(make_error("expected a 3-D [batch, sequence, heads * size] input, got {}", x->type().str()));
  const Shape& s = x->type().shape;
  auto hidden = s[2].as_const();
  if (heads <= 0 || !hidden || *hidden % heads != 0)
    return ctx.fail(make_error("a 3-D Attention input {} does not split into {} heads", x->type().str(), heads));
  Value* split = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{s[0], s[1], heads, *hidden / heads}}});
  return ctx.op(OpKind::Transpose, {split}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
}

// [B, H, S, D] -> [B, H * reps, S, D], each head repeated `reps` times in place (h0, h0, h1, h1, ...).
Value* repeat_heads(NodeContext& ctx, Value* x, int64_t reps) {
  const Shape& s = x->type().shape;
  Value* wide = ctx.op(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{2}}});
  wide = ctx.op(OpKind::Expand, {wide}, {{"shape", Shape{s[0], s[1], reps, s[2], s[3]}}});
  return ctx.op(OpKind::Reshape, {wide}, {{"shape", Shape{s[0], s[1] * reps, s[2], s[3]}}});
}

// 0 where `allowed`, -inf elsewhere, in `dtype`.
Value* additive(NodeContext& ctx, Value* allowed, DType dtype) {
  return ctx.op(OpKind::Where, {allowed, ctx.scalar(0, dtype), ctx.scalar(-kInf, dtype)});
}

Value* ramp(NodeContext& ctx, int64_t n, std::vector<int64_t> shape) {
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = i;
  return ctx.constant(Tensor::of<int64_t>(std::move(shape), values), "ramp");
}

// The mask padded on its last axis to `kv` keys (with false or -inf), as an additive bias.
Value* mask_bias(NodeContext& ctx, Value* mask, int64_t kv, DType dtype) {
  const TensorType& type = mask->type();
  if (type.rank() == 0) return ctx.fail(make_error("the attention mask must have rank >= 1, got {}", type.str()));
  auto last = type.shape.back().as_const();
  if (!last)
    return ctx.fail_unsupported(make_error("the attention mask needs a constant last dim, got {}", type.str()));
  if (*last < kv) {
    std::vector<int64_t> pads(2 * type.rank(), 0);
    pads[2 * type.rank() - 1] = kv - *last;
    double fill = type.dtype == DType::Bool ? 0.0 : -kInf;
    mask = ctx.op(OpKind::Pad, {mask}, {{"pads", pads}, {"value", fill}});
  }
  return type.dtype == DType::Bool ? additive(ctx, mask, dtype) : mask;
}

}  // namespace

void import_attention(NodeContext& ctx) {
  Value *q = ctx.input(0), *k = ctx.input(1), *v = ctx.input(2);
  if (!q || !k || !v) return;
  for (const char* window : {"left_window_size", "right_window_size"})
    if (ctx.attr_i(window, -1) >= 0)
      return (void)ctx.fail_unsupported(make_error("Attention's sliding window ('{}') is not supported", window));
  DType dtype = q->type().dtype;
  bool three_d = q->type().rank() == 3;
  if (three_d) {
    q = split_heads(ctx, q, ctx.attr_i("q_num_heads", 0));
    k = split_heads(ctx, k, ctx.attr_i("kv_num_heads", 0));
    v = split_heads(ctx, v, ctx.attr_i("kv_num_heads", 0));
    if (!q || !k || !v) return;
  }
  if (q->type().rank() != 4 || k->type().rank() != 4 || v->type().rank() != 4)
    return (void)ctx.fail(make_error("Attention needs 3-D or 4-D Q, K and V, got {}", q->type().str()));

  // Scaling: Q and K each by sqrt(scale), rounded to the input type as the reference does.
  double scale = 0;
  if (ctx.has_attr("scale")) {
    scale = ctx.attr_f("scale", 1.0);
  } else {
    auto head = q->type().shape[3].as_const();
    if (!head)
      return (void)ctx.fail_unsupported(make_error("Attention needs a constant head size, got {}", q->type().str()));
    scale = 1.0 / std::sqrt(static_cast<double>(*head));
  }
  Value* root = ctx.scalar(std::sqrt(scale), dtype);

  Value* past_key = ctx.optional_input(4);
  Value* past_value = ctx.optional_input(5);
  for (Value* past : {past_key, past_value})
    if (past && past->type().rank() != 4)
      return (void)ctx.fail(make_error("past key and value must be 4-D, got {}", past->type().str()));
  if (Value* lens = ctx.optional_input(6); lens && lens->type().rank() != 1)
    return (void)ctx.fail(make_error("nonpad_kv_seqlen must be 1-D, got {}", lens->type().str()));
  Value* present_key = past_key ? ctx.op(OpKind::Concat, {past_key, k}, {{"axis", int64_t{2}}}) : k;
  Value* present_value = past_value ? ctx.op(OpKind::Concat, {past_value, v}, {{"axis", int64_t{2}}}) : v;
  if (!present_key || !present_value) return;
  k = present_key;
  v = present_value;

  auto q_len = q->type().shape[2].as_const(), kv_len = k->type().shape[2].as_const();
  if (!q_len || !kv_len)
    return (void)ctx.fail_unsupported(
        make_error("Attention needs constant sequence lengths, got Q {} and K {}", q->type().str(), k->type().str()));

  // The additive bias: mask, causal frontier, key padding.
  Value* bias = ctx.constant(Tensor(dtype, {*q_len, *kv_len}), "attn_bias");
  Value* mask = ctx.optional_input(3);
  Value* nonpad = ctx.optional_input(6);
  Value* rows = ramp(ctx, *q_len, {*q_len, 1});
  Value* cols = ramp(ctx, *kv_len, {1, *kv_len});
  if (ctx.attr_i("is_causal", 0) != 0) {
    Value* base = mask ? mask_bias(ctx, mask, *kv_len, dtype) : bias;
    Value* frontier = nullptr;  // i + offset
    if (!past_key && nonpad) {
      // Per batch: offset[b] = nonpad_kv_seqlen[b] - q_len, as [B, 1, 1].
      Value* offset = ctx.op(OpKind::Sub, {ctx.cast(nonpad, DType::I64), ctx.scalar(double(*q_len), DType::I64)});
      offset = ctx.op(OpKind::Reshape, {offset}, {{"shape", Shape{nonpad->type().shape[0], 1, 1}}});
      frontier = ctx.op(OpKind::Add, {rows, offset});
    } else {
      int64_t offset = past_key ? past_key->type().shape[2].as_const().value_or(0) : 0;
      frontier = ctx.op(OpKind::Add, {rows, ctx.scalar(double(offset), DType::I64)});
    }
    Value* causal = additive(ctx, ctx.op(OpKind::LessEqual, {cols, frontier}), dtype);
    if (causal && causal->type().rank() == 3)
      causal = ctx.op(OpKind::Unsqueeze, {causal}, {{"axes", std::vector<int64_t>{1}}});
    bias = ctx.op(OpKind::Add, {base, causal});
  } else if (mask) {
    bias = ctx.op(OpKind::Add, {bias, mask_bias(ctx, mask, *kv_len, dtype)});
  }
  if (nonpad) {
    Value* valid = ctx.op(OpKind::Less, {cols, ctx.op(OpKind::Reshape, {ctx.cast(nonpad, DType::I64)},
                                                      {{"shape", Shape{nonpad->type().shape[0], 1}}})});
    valid = ctx.op(OpKind::Reshape, {valid}, {{"shape", Shape{nonpad->type().shape[0], 1, 1, *kv_len}}});
    bias = ctx.op(OpKind::Add, {bias, additive(ctx, valid, dtype)});
  }
  if (!bias) return;

  // Grouped-query attention: repeat each key/value head.
  auto q_heads = q->type().shape[1].as_const(), kv_heads = k->type().shape[1].as_const();
  if (q_heads && kv_heads && *q_heads != *kv_heads && *kv_heads > 0 && *q_heads % *kv_heads == 0) {
    k = repeat_heads(ctx, k, *q_heads / *kv_heads);
    v = repeat_heads(ctx, v, *q_heads / *kv_heads);
  }

  Value* kt = ctx.op(OpKind::Transpose, {ctx.op(OpKind::Mul, {k, root})}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  Value* qk = ctx.op(OpKind::MatMul, {ctx.op(OpKind::Mul, {q, root}), kt});
  double softcap = ctx.attr_f("softcap", 0.0);
  if (softcap > 0) {
    Value* cap = ctx.scalar(softcap, dtype);
    qk = ctx.op(OpKind::Mul, {ctx.op(OpKind::Tanh, {ctx.op(OpKind::Div, {qk, cap})}), cap});
  }
  Value* logits = ctx.op(OpKind::Add, {qk, bias});
  int64_t mode = ctx.attr_i("qk_matmul_output_mode", 0);
  Value* qk_out = mode == 2 ? logits : qk;

  DType softmax_type = dtype;
  if (ctx.has_attr("softmax_precision")) {
    auto onnx_type = static_cast<int32_t>(ctx.attr_i("softmax_precision", 0));
    auto mapped = dtype_from_onnx(onnx_type);
    if (!mapped)
      return (void)ctx.fail_unsupported(make_error("softmax_precision: {}", unsupported_elem_type(onnx_type)));
    softmax_type = *mapped;
  }
  Value* wide = ctx.cast(logits, softmax_type);
  Value* probs = ctx.op(OpKind::Softmax, {wide}, {{"axis", int64_t{-1}}});
  // Rows with no attendable key (all -inf logits or bias) give 0 rather than 0/0.
  AttrMap row_max{{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}};
  Value* neg_inf = ctx.scalar(-kInf, softmax_type);
  Value* dead_logits = ctx.op(OpKind::Equal, {ctx.op(OpKind::ReduceMax, {wide}, row_max), neg_inf});
  Value* dead_bias = ctx.op(OpKind::Equal, {ctx.op(OpKind::ReduceMax, {bias}, row_max), ctx.scalar(-kInf, dtype)});
  Value* dead = ctx.op(OpKind::Or, {dead_logits, dead_bias});
  probs = ctx.op(OpKind::Where, {dead, ctx.scalar(0, softmax_type), probs});
  if (mode == 3) qk_out = probs;
  probs = ctx.cast(probs, dtype);

  Value* y = ctx.op(OpKind::MatMul, {probs, v});
  if (three_d && y) {
    const Shape& s = y->type().shape;
    y = ctx.op(OpKind::Transpose, {y}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    y = ctx.op(OpKind::Reshape, {y}, {{"shape", Shape{s[0], s[2], s[1] * s[3]}}});
  }
  ctx.set_output(0, y);
  ctx.set_output(1, present_key);
  ctx.set_output(2, present_value);
  ctx.set_output(3, ctx.cast(qk_out, dtype));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// RotaryEmbedding (opset 23): rotates pairs of each head's first rotary_embedding_dim features by the
// cached angles (picked by position_ids when given): halves (x1, x2), or even/odd features when
// interleaved, become (cos*x1 - sin*x2, sin*x1 + cos*x2).
void import_rotary_embedding(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value *cos_cache = ctx.input(1), *sin_cache = ctx.input(2);
  if (!x || !cos_cache || !sin_cache) return;
  int64_t rank = x->type().rank();
  Shape original = x->type().shape;
  if (rank == 4) {
    x = ctx.op(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});  // [B, S, H, D]
  } else if (rank == 3) {
    int64_t heads = ctx.attr_i("num_heads", 0);
    auto hidden = original[2].as_const();
    if (heads <= 0 || !hidden || *hidden % heads != 0)
      return (void)ctx.fail(
          make_error("a 3-D RotaryEmbedding input {} needs num_heads dividing its hidden size", x->type().str()));
    x = ctx.op(OpKind::Reshape, {x}, {{"shape", Shape{original[0], original[1], heads, *hidden / heads}}});
  } else {
    return (void)ctx.fail(make_error("RotaryEmbedding needs a 3-D or 4-D input, got {}", x->type().str()));
  }
  if (!x) return;
  auto head = x->type().shape[3].as_const();
  if (!head) return (void)ctx.fail_unsupported(make_error("RotaryEmbedding needs a constant head size"));
  int64_t rotary = ctx.attr_i("rotary_embedding_dim", 0);
  if (rotary == 0) rotary = *head;
  if (rotary <= 0 || rotary > *head || rotary % 2 != 0)
    return (void)ctx.fail(make_error("rotary_embedding_dim {} does not fit head size {}", rotary, *head));
  auto slice = [&](Value* v, int64_t start, int64_t end, int64_t step) {
    return ctx.op(OpKind::Slice, {v},
                  {{"starts", std::vector<int64_t>{start}},
                   {"ends", std::vector<int64_t>{end}},
                   {"axes", std::vector<int64_t>{-1}},
                   {"steps", std::vector<int64_t>{step}}});
  };
  Value* rotate = rotary == *head ? x : slice(x, 0, rotary, 1);
  Value* keep = rotary == *head ? nullptr : slice(x, rotary, *head, 1);
  if (Value* ids = ctx.optional_input(3)) {
    cos_cache = ctx.op(OpKind::Gather, {cos_cache, ids}, {{"axis", int64_t{0}}});
    sin_cache = ctx.op(OpKind::Gather, {sin_cache, ids}, {{"axis", int64_t{0}}});
  }
  std::vector<int64_t> head_axis{2};
  Value* cos = ctx.op(OpKind::Unsqueeze, {cos_cache}, {{"axes", head_axis}});
  Value* sin = ctx.op(OpKind::Unsqueeze, {sin_cache}, {{"axes", head_axis}});
  bool interleaved = ctx.attr_i("interleaved", 0) != 0;
  Value* x1 = interleaved ? slice(rotate, 0, rotary, 2) : slice(rotate, 0, rotary / 2, 1);
  Value* x2 = interleaved ? slice(rotate, 1, rotary, 2) : slice(rotate, rotary / 2, rotary, 1);
  Value* real = ctx.op(OpKind::Sub, {ctx.op(OpKind::Mul, {cos, x1}), ctx.op(OpKind::Mul, {sin, x2})});
  Value* imag = ctx.op(OpKind::Add, {ctx.op(OpKind::Mul, {sin, x1}), ctx.op(OpKind::Mul, {cos, x2})});
  Value* rotated = nullptr;
  if (interleaved) {
    std::vector<int64_t> last{-1};
    Value* pairs = ctx.op(
        OpKind::Concat,
        {ctx.op(OpKind::Unsqueeze, {real}, {{"axes", last}}), ctx.op(OpKind::Unsqueeze, {imag}, {{"axes", last}})},
        {{"axis", int64_t{-1}}});
    rotated = rotate ? ctx.op(OpKind::Reshape, {pairs}, {{"shape", rotate->type().shape}}) : nullptr;
  } else {
    rotated = ctx.op(OpKind::Concat, {real, imag}, {{"axis", int64_t{-1}}});
  }
  Value* y = keep ? ctx.op(OpKind::Concat, {rotated, keep}, {{"axis", int64_t{-1}}}) : rotated;
  if (rank == 3)
    y = ctx.op(OpKind::Reshape, {y}, {{"shape", original}});
  else
    y = ctx.op(OpKind::Transpose, {y}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  ctx.set_output(0, y);
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// LinearAttention (opset 27), unrolled over the sequence as the reference's recurrence: a state
// [B, H_kv, d_k, d_v] decays by exp(decay) (gated rules), takes the beta-scaled residual of the value
// against what it already retrieves for the key (delta rules), adds key (x) value, and is read by the
// query (heads repeated for grouped queries). Computed in f32, like the reference.
void import_linear_attention(NodeContext& ctx) {
  Value *query = ctx.input(0), *key = ctx.input(1), *value = ctx.input(2);
  if (!query || !key || !value) return;
  std::string rule = ctx.attr_s("update_rule", "gated_delta");
  bool gating = rule == "gated" || rule == "gated_delta", delta = rule == "delta" || rule == "gated_delta";
  if (!gating && !delta && rule != "linear") return (void)ctx.fail(make_error("unknown update_rule '{}'", rule));
  int64_t q_heads = ctx.attr_i("q_num_heads", 0), kv_heads = ctx.attr_i("kv_num_heads", 0);
  if (q_heads <= 0 || kv_heads <= 0 || q_heads % kv_heads != 0)
    return (void)ctx.fail(
        make_error("q_num_heads {} must be a positive multiple of kv_num_heads {}", q_heads, kv_heads));
  DType out_type = query->type().dtype;
  Value* q = split_heads(ctx, ctx.cast(query, DType::F32), q_heads);   // [B, Hq, T, dk]
  Value* k = split_heads(ctx, ctx.cast(key, DType::F32), kv_heads);    // [B, Hkv, T, dk]
  Value* v = split_heads(ctx, ctx.cast(value, DType::F32), kv_heads);  // [B, Hkv, T, dv]
  if (!q || !k || !v) return;
  const Shape& qs = q->type().shape;
  auto steps = qs[2].as_const(), dk = qs[3].as_const();
  if (!steps || !dk || *steps > 4096)
    return (void)ctx.fail_unsupported(make_error("LinearAttention needs a constant sequence length and head size"));
  // decay [B, T, Hkv or Hkv*dk] and beta [B, T, Hkv or 1] as [B, H, T, 1 or dk].
  auto per_head = [&](Value* x, int64_t heads_or_one) -> Value* {
    if (!x) return nullptr;
    const Shape& s = x->type().shape;
    if (s[2] == Dim(heads_or_one)) {
      Value* r = ctx.op(OpKind::Reshape, {ctx.cast(x, DType::F32)}, {{"shape", Shape{s[0], s[1], heads_or_one, 1}}});
      return ctx.op(OpKind::Transpose, {r}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    }
    return split_heads(ctx, ctx.cast(x, DType::F32), kv_heads);
  };
  Value* decay = gating ? per_head(ctx.input(4), kv_heads) : nullptr;
  Value* beta = nullptr;
  if (delta) {
    Value* b = ctx.input(5);
    if (!b) return;
    beta = per_head(b, b->type().shape[2] == Dim(1) ? 1 : kv_heads);
  }
  if (ctx.failed()) return;
  Value* past = ctx.optional_input(3);
  DType state_type = past ? past->type().dtype : out_type;
  Shape state_shape{qs[0], Dim(kv_heads), *dk, v->type().shape[3]};
  Value* state =
      past ? ctx.cast(past, DType::F32) : ctx.op(OpKind::Expand, {ctx.scalar(0, DType::F32)}, {{"shape", state_shape}});
  double scale = ctx.attr_f("scale", 0.0);
  if (scale == 0.0) scale = 1.0 / std::sqrt(double(*dk));
  auto step = [&](Value* x, int64_t t) {  // x[:, :, t, :]
    Value* s = ctx.op(OpKind::Slice, {x},
                      {{"starts", std::vector<int64_t>{t}},
                       {"ends", std::vector<int64_t>{t + 1}},
                       {"axes", std::vector<int64_t>{2}}});
    return ctx.op(OpKind::Squeeze, {s}, {{"axes", std::vector<int64_t>{2}}});
  };
  auto unsqueeze = [&](Value* x, int64_t axis) {
    return ctx.op(OpKind::Unsqueeze, {x}, {{"axes", std::vector<int64_t>{axis}}});
  };
  AttrMap sum_dk{{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t{0}}};
  std::vector<Value*> outputs;
  for (int64_t t = 0; t < *steps && !ctx.failed(); ++t) {
    Value* k_t = step(k, t);
    Value* v_t = step(v, t);
    if (gating) state = ctx.op(OpKind::Mul, {state, unsqueeze(ctx.op(OpKind::Exp, {step(decay, t)}), -1)});
    if (delta) {
      Value* retrieved = ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Mul, {state, unsqueeze(k_t, -1)})}, sum_dk);
      v_t = ctx.op(OpKind::Mul, {step(beta, t), ctx.op(OpKind::Sub, {v_t, retrieved})});
    }
    state = ctx.op(OpKind::Add, {state, ctx.op(OpKind::Mul, {unsqueeze(k_t, -1), unsqueeze(v_t, -2)})});
    Value* read = q_heads == kv_heads ? state : repeat_heads(ctx, state, q_heads / kv_heads);
    Value* out = ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Mul, {unsqueeze(step(q, t), -1), read})}, sum_dk);
    outputs.push_back(unsqueeze(ctx.op(OpKind::Mul, {out, ctx.scalar(scale, DType::F32)}), 2));
  }
  if (ctx.failed()) return;
  Value* y = outputs.size() == 1 ? outputs[0] : ctx.op(OpKind::Concat, outputs, {{"axis", int64_t{2}}});
  const Shape& ys = y->type().shape;
  y = ctx.op(OpKind::Transpose, {y}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  y = ctx.op(OpKind::Reshape, {y}, {{"shape", Shape{ys[0], ys[2], ys[1] * ys[3]}}});
  ctx.set_output(0, ctx.cast(y, out_type));
  ctx.set_output(1, ctx.cast(state, state_type));
}

}  // namespace tessel::onnx

namespace tessel::onnx {

// FlexAttention (ai.onnx.preview): scaled dot-product attention whose scores and probabilities pass
// through the model's own score_mod / prob_mod subgraphs, which are inlined. f16/bf16 compute in f32.
void import_flex_attention(NodeContext& ctx) {
  Value *q = ctx.input(0), *k = ctx.input(1), *v = ctx.input(2);
  if (!q || !k || !v) return;
  if (q->type().rank() != 4 || k->type().rank() != 4 || v->type().rank() != 4)
    return (void)ctx.fail(make_error("FlexAttention needs 4-D Q, K and V, got {}", q->type().str()));
  DType dtype = q->type().dtype;
  auto head = q->type().shape[3].as_const();
  auto q_heads = q->type().shape[1].as_const(), kv_heads = k->type().shape[1].as_const();
  if (!head || !q_heads || !kv_heads || *kv_heads <= 0 || *q_heads % *kv_heads != 0)
    return (void)ctx.fail_unsupported(make_error("FlexAttention needs constant head counts and size"));
  if (*q_heads != *kv_heads) {
    k = repeat_heads(ctx, k, *q_heads / *kv_heads);
    v = repeat_heads(ctx, v, *q_heads / *kv_heads);
  }
  double scale = ctx.has_attr("scale") ? ctx.attr_f("scale", 1.0) : 1.0 / std::sqrt(double(*head));
  Value* root = ctx.scalar(std::sqrt(static_cast<float>(scale)), dtype);
  Value* kt = ctx.op(OpKind::Transpose, {ctx.op(OpKind::Mul, {k, root})}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  Value* scores = ctx.op(OpKind::MatMul, {ctx.op(OpKind::Mul, {q, root}), kt});
  DType compute = dtype == DType::F16 || dtype == DType::BF16 ? DType::F32 : dtype;
  if (ctx.has_attr("softmax_precision")) {
    auto mapped = dtype_from_onnx(static_cast<int32_t>(ctx.attr_i("softmax_precision", kOnnxFloat)));
    if (!mapped) return (void)ctx.fail_unsupported(make_error("unsupported softmax_precision"));
    compute = *mapped;
  }
  scores = ctx.cast(scores, compute);
  auto apply_mod = [&](const char* name, Value* x) -> Value* {
    const pb::AttributeProto* mod = ctx.find_attr(name);
    if (!mod || !x) return x;
    auto out = import_subgraph(ctx.state(), mod->g(), {x});
    ctx.b().set_location(ctx.node().name());
    if (!out) return ctx.fail(make_error("in {}: {}", name, out.error().str()));
    if (out->size() != 1) return ctx.fail(make_error("{} must have one output", name));
    return ctx.cast(out->front(), compute);
  };
  scores = apply_mod("score_mod", scores);
  Value* probs = apply_mod("prob_mod", ctx.op(OpKind::Softmax, {scores}, {{"axis", int64_t{-1}}}));
  Value* y = ctx.op(OpKind::MatMul, {probs, ctx.cast(v, compute)});
  ctx.set_output(0, ctx.cast(y, v->type().dtype));
}

}  // namespace tessel::onnx
