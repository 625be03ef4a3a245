// lstm / gru / rnn (ONNX semantics, ir/ops/Recurrent.cpp) unrolled into per-step math. Each step and
// direction computes its gate pre-activations with gemm(x_t, W_d, bias, trans_b) and gemm(h, R_d, ...)
// and applies the gate formulas with elementwise ops; Y, Y_h and Y_c are concatenations of the steps'
// states. An absent initial state is zero, so the terms that multiply it are left out rather than
// materialized (the batch dim may be symbolic). Formulas as in ir/ops/Recurrent.cpp:
//   rnn:  h = f(W x + Wb + R h + Rb)
//   gru:  z, r = f(Wzr x + Wbzr + Rzr h + Rbzr);  n = g(Wh x + Wbh + Rh (r . h) + Rbh)
//         (linear_before_reset: g(Wh x + Wbh + r . (Rh h + Rbh)));  h = (1 - z) . n + z . h
//   lstm: i = f(Wi x + Ri h + Pi . c + b), f = f(... + Pf . c) (1 - i with input_forget), g = g(Wc x + Rc h + b),
//         c = f . c + i . g, o = f(Wo x + Ro h + Po . c_new + b), h = o . h(c)
// with every pre-activation clipped to [-clip, clip] when clip > 0.
// sequence_lens: step t updates the state of the rows with t < len and leaves the others as they were;
// Y is zero past a row's length. A reverse direction runs t = seq-1 .. 0 with the same mask, so a row's
// state stays its initial value until t reaches len - 1, its own last valid step, and Y_h / Y_c are the
// state after step 0. Lengths outside [0, seq] (an interpreter error) act as clamped to that range.
#include "passes/DecomposeRecurrent.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tessel {
namespace {

constexpr size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6, kPeephole = 7;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

class Unroll {
 public:
  Unroll(Rewriter& r, const Op& op) : r_(r), op_(op) {}

  /// Reads the attributes; false when the op is not one this unroller handles.
  bool accept() {
    const AttrReader attrs = op_.attr();
    if (!attrs.floats("activation_alpha").empty() || !attrs.floats("activation_beta").empty()) return false;
    gates_ = op_.kind() == OpKind::Lstm ? 4 : op_.kind() == OpKind::Gru ? 3 : 1;
    hidden_ = attrs.i("hidden_size");
    std::string direction = attrs.s("direction");
    dirs_ = direction == "bidirectional" ? 2 : 1;
    reverse_only_ = direction == "reverse";
    batch_first_ = attrs.i("layout") == 1;
    clip_ = attrs.f("clip");
    std::vector<std::string> defaults = op_.kind() == OpKind::Lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"}
                                        : op_.kind() == OpKind::Gru ? std::vector<std::string>{"sigmoid", "tanh"}
                                                                    : std::vector<std::string>{"tanh"};
    per_dir_ = defaults.size();
    activations_ = attrs.strings("activations");
    if (activations_.empty())
      for (int64_t d = 0; d < dirs_; ++d) activations_.insert(activations_.end(), defaults.begin(), defaults.end());
    if (activations_.size() != per_dir_ * static_cast<size_t>(dirs_)) return false;
    for (std::string& name : activations_) {
      name = lower(name);
      if (name != "sigmoid" && name != "tanh" && name != "relu") return false;
    }
    const TensorType& x = op_.operand(kX)->type();
    auto seq = x.shape[batch_first_ ? 1 : 0].as_const();
    if (!seq || *seq < 1) return false;
    seq_ = *seq;
    batch_ = x.shape[batch_first_ ? 0 : 1];
    input_ = x.shape[2];
    dtype_ = x.dtype;
    return true;
  }

  std::vector<Value*> build() {
    Value* x = op_.operand(kX);
    if (batch_first_) x = r_.op(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
    Value* h0 = state_operand(kInitialH);
    Value* c0 = op_.kind() == OpKind::Lstm ? state_operand(kInitialC) : nullptr;
    std::vector<Value*> xs;
    for (int64_t t = 0; t < seq_; ++t)
      xs.push_back(r_.op(OpKind::Reshape, {slice(x, t, t + 1, 0)}, {{"shape", Shape{batch_, input_}}}));
    std::vector<std::vector<Value*>> ys(seq_, std::vector<Value*>(dirs_));
    std::vector<Value*> last_h, last_c;
    Value* lens = op_.operand(kSeqLens);
    if (lens) lens = r_.op(OpKind::Reshape, {lens}, {{"shape", Shape{batch_, 1}}});
    for (int64_t d = 0; d < dirs_; ++d) {
      Direction dir = direction(d, h0, c0);
      bool reverse = reverse_only_ || d == 1;
      for (int64_t s = 0; s < seq_; ++s) {
        int64_t t = reverse ? seq_ - 1 - s : s;
        Value* y = nullptr;
        if (lens) {
          y = masked_step(dir, xs[t], lens, t);
        } else {
          step(dir, xs[t]);
          y = dir.h;
        }
        ys[t][d] = r_.op(OpKind::Unsqueeze, {y}, {{"axes", std::vector<int64_t>{0, 1}}});
      }
      last_h.push_back(r_.op(OpKind::Unsqueeze, {dir.h}, {{"axes", std::vector<int64_t>{0}}}));
      if (dir.c) last_c.push_back(r_.op(OpKind::Unsqueeze, {dir.c}, {{"axes", std::vector<int64_t>{0}}}));
    }
    std::vector<Value*> steps;
    for (auto& per_dir : ys) steps.push_back(concat(per_dir, 1));
    std::vector<Value*> results{concat(steps, 0), concat(last_h, 0)};
    if (op_.kind() == OpKind::Lstm) results.push_back(concat(last_c, 0));
    if (batch_first_) {
      results[0] = r_.op(OpKind::Transpose, {results[0]}, {{"perm", std::vector<int64_t>{2, 0, 1, 3}}});
      for (size_t i = 1; i < results.size(); ++i)
        results[i] = r_.op(OpKind::Transpose, {results[i]}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
    }
    results.resize(op_.num_results());
    return results;
  }

 private:
  /// One direction's parameters and running state (null state = zero).
  struct Direction {
    int64_t index = 0;
    Value *w = nullptr, *r = nullptr, *wb = nullptr, *rb = nullptr, *p = nullptr;
    Value *h = nullptr, *c = nullptr;
  };

  Value* slice(Value* v, int64_t start, int64_t end, int64_t axis) {
    return r_.op(OpKind::Slice, {v},
                 {{"starts", std::vector<int64_t>{start}},
                  {"ends", std::vector<int64_t>{end}},
                  {"axes", std::vector<int64_t>{axis}}});
  }
  Value* cols(Value* v, int64_t gate, int64_t count = 1) {  // gate columns of a [B, G*H] value
    return slice(v, gate * hidden_, (gate + count) * hidden_, v->type().rank() - 1);
  }
  Value* concat(const std::vector<Value*>& values, int64_t axis) {
    if (values.size() == 1) return values[0];
    return r_.op(OpKind::Concat, values, {{"axis", axis}});
  }
  Value* add(Value* a, Value* b) { return !a ? b : !b ? a : r_.op(OpKind::Add, {a, b}); }
  Value* mul(Value* a, Value* b) { return r_.op(OpKind::Mul, {a, b}); }
  Value* gemm_bt(Value* a, Value* b, Value* c) {  // a b^T + c
    std::vector<Value*> operands{a, b};
    if (c) operands.push_back(c);
    return r_.op(OpKind::Gemm, operands, {{"trans_b", int64_t{1}}});
  }

  /// initial_h / initial_c as [D, B, H], or null.
  Value* state_operand(size_t index) {
    Value* v = op_.operand(index);
    if (!v || !batch_first_) return v;
    return r_.op(OpKind::Transpose, {v}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
  }

  Direction direction(int64_t d, Value* h0, Value* c0) {
    Direction dir;
    dir.index = d;
    int64_t gh = gates_ * hidden_;
    dir.w = r_.op(OpKind::Reshape, {slice(op_.operand(kW), d, d + 1, 0)}, {{"shape", Shape{gh, input_}}});
    dir.r = r_.op(OpKind::Reshape, {slice(op_.operand(kR), d, d + 1, 0)}, {{"shape", Shape{gh, hidden_}}});
    if (Value* b = op_.operand(kB)) {
      Value* bd = r_.op(OpKind::Reshape, {slice(b, d, d + 1, 0)}, {{"shape", Shape{2 * gh}}});
      dir.wb = slice(bd, 0, gh, 0);
      dir.rb = slice(bd, gh, 2 * gh, 0);
    }
    if (op_.kind() == OpKind::Lstm && op_.operand(kPeephole))
      dir.p = r_.op(OpKind::Reshape, {slice(op_.operand(kPeephole), d, d + 1, 0)}, {{"shape", Shape{3 * hidden_}}});
    Shape state{batch_, hidden_};
    if (h0) dir.h = r_.op(OpKind::Reshape, {slice(h0, d, d + 1, 0)}, {{"shape", state}});
    if (c0) dir.c = r_.op(OpKind::Reshape, {slice(c0, d, d + 1, 0)}, {{"shape", state}});
    return dir;
  }

  Value* act(const Direction& dir, size_t role, Value* v) {
    if (clip_ > 0) v = r_.op(OpKind::Clip, {v}, {{"min", -clip_}, {"max", clip_}});
    const std::string& name = activations_[static_cast<size_t>(dir.index) * per_dir_ + role];
    OpKind kind = name == "sigmoid" ? OpKind::Sigmoid : name == "tanh" ? OpKind::Tanh : OpKind::Relu;
    return r_.op(kind, {v});
  }

  void step(Direction& dir, Value* x) {
    if (op_.kind() == OpKind::Lstm) return lstm_step(dir, x);
    if (op_.kind() == OpKind::Gru) return gru_step(dir, x);
    Value* pre = gemm_bt(x, dir.w, add(dir.wb, dir.rb));
    if (dir.h) pre = gemm_bt(dir.h, dir.r, pre);
    dir.h = act(dir, 0, pre);
  }

  /// A step whose state updates only rows with t < lens ([B, 1]); returns Y's slice (zero past the length).
  Value* masked_step(Direction& dir, Value* x, Value* lens, int64_t t) {
    Value* active = r_.op(OpKind::Less, {r_.scalar(static_cast<double>(t), lens->type().dtype), lens});
    Value* zero = r_.scalar(0.0, dtype_);
    Value *h = dir.h, *c = dir.c;
    step(dir, x);
    Value* y = r_.op(OpKind::Where, {active, dir.h, zero});
    dir.h = r_.op(OpKind::Where, {active, dir.h, h ? h : zero});
    if (dir.c) dir.c = r_.op(OpKind::Where, {active, dir.c, c ? c : zero});
    return y;
  }

  void lstm_step(Direction& dir, Value* x) {
    Value* pre = gemm_bt(x, dir.w, add(dir.wb, dir.rb));
    if (dir.h) pre = gemm_bt(dir.h, dir.r, pre);
    auto peep = [&](int64_t k, Value* c) {
      return dir.p && c ? mul(slice(dir.p, k * hidden_, (k + 1) * hidden_, 0), c) : nullptr;
    };
    Value* in = act(dir, 0, add(cols(pre, 0), peep(0, dir.c)));
    Value* forget = op_.attr().i("input_forget") != 0 ? r_.op(OpKind::Sub, {r_.scalar(1.0, dtype_), in})
                                                      : act(dir, 0, add(cols(pre, 2), peep(2, dir.c)));
    Value* candidate = act(dir, 1, cols(pre, 3));
    Value* cell = add(dir.c ? mul(forget, dir.c) : nullptr, mul(in, candidate));
    Value* out = act(dir, 0, add(cols(pre, 1), peep(1, cell)));
    dir.c = cell;
    dir.h = mul(out, act(dir, 2, cell));
  }

  void gru_step(Direction& dir, Value* x) {
    Value* xw = gemm_bt(x, dir.w, dir.wb);
    Value* r_zr = slice(dir.r, 0, 2 * hidden_, 0);
    Value* r_h = slice(dir.r, 2 * hidden_, 3 * hidden_, 0);
    Value* rb_zr = dir.rb ? slice(dir.rb, 0, 2 * hidden_, 0) : nullptr;
    Value* rb_h = dir.rb ? slice(dir.rb, 2 * hidden_, 3 * hidden_, 0) : nullptr;
    Value* zr_pre = cols(xw, 0, 2);
    zr_pre = dir.h ? gemm_bt(dir.h, r_zr, zr_pre) : zr_pre;
    if (dir.h && rb_zr) zr_pre = add(zr_pre, rb_zr);
    if (!dir.h) zr_pre = add(zr_pre, rb_zr);
    Value* zr = act(dir, 0, zr_pre);
    Value* z = cols(zr, 0);
    Value* reset = cols(zr, 1);
    Value* n_pre = cols(xw, 2);
    if (op_.attr().i("linear_before_reset") != 0) {
      Value* rh = dir.h ? gemm_bt(dir.h, r_h, rb_h) : rb_h;
      if (rh) n_pre = add(n_pre, mul(reset, rh));
    } else {
      Value* rh = dir.h ? gemm_bt(mul(reset, dir.h), r_h, rb_h) : rb_h;
      n_pre = add(n_pre, rh);
    }
    Value* n = act(dir, 1, n_pre);
    Value* h = mul(r_.op(OpKind::Sub, {r_.scalar(1.0, dtype_), z}), n);
    dir.h = dir.h ? add(h, mul(z, dir.h)) : h;
  }

  Rewriter& r_;
  const Op& op_;
  int64_t gates_ = 1, hidden_ = 0, dirs_ = 1, seq_ = 0;
  bool reverse_only_ = false, batch_first_ = false;
  double clip_ = 0;
  size_t per_dir_ = 1;
  std::vector<std::string> activations_;
  Dim batch_, input_;
  DType dtype_ = DType::F32;
};

}  // namespace

Expected<std::vector<Value*>> decompose_recurrent(Rewriter& r, const Op& op) {
  Unroll unroll(r, op);
  if (!unroll.accept()) return std::vector<Value*>{};
  std::vector<Value*> results = unroll.build();
  TESSEL_TRY(r.status());
  return results;
}

}  // namespace tessel
