// The recurrent family: lstm, gru and rnn with ONNX semantics (opset 14, `layout` included).
// Operands in ONNX order: X, W, R, B?, sequence_lens?, initial_h?, initial_c? (lstm), P? (lstm).
// Gate orders are ONNX's: lstm i, o, f, c; gru z, r, h; rnn a single gate. The shape rule checks
// every operand against the (num_directions, gates * hidden_size, ...) layout ONNX prescribes and
// works with symbolic seq and batch dims. The kernel runs each direction and each batch row as a
// plain loop over its time steps, in float (f32, f16, bf16) or double (f64), rounding once at the
// end. Rows shorter than seq (sequence_lens) leave zeros in Y beyond their length, and Y_h / Y_c
// hold the state after their last valid step (the initial state for a length of 0); the reverse
// direction of such a row starts at its own last valid step, as in onnxruntime.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <string_view>

#include "ir/ops/Families.h"
#include "ir/ops/OpUtil.h"

namespace tessel::ops {
namespace {

// Operand positions, as in ONNX.
constexpr size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6, kPeephole = 7;

/// What differs between the three cells.
struct CellInfo {
  std::string_view name;
  int64_t gates;                ///< rows of W / R per hidden unit
  std::string_view gate_order;  ///< for messages
  std::vector<std::string> default_activations;
  std::string_view activation_roles;  ///< for messages
  int max_results;
};

const CellInfo& cell_info(OpKind kind) {
  static const CellInfo lstm{"lstm", 4, "i, o, f, c", {"Sigmoid", "Tanh", "Tanh"}, "f, g, h", 3};
  static const CellInfo gru{"gru", 3, "z, r, h", {"Sigmoid", "Tanh"}, "f, g", 2};
  static const CellInfo rnn{"rnn", 1, "i", {"Tanh"}, "f", 2};
  if (kind == OpKind::Lstm) return lstm;
  if (kind == OpKind::Gru) return gru;
  return rnn;
}

// ---- Activations ------------------------------------------------------------------------------

enum class ActKind {
  Relu,
  Tanh,
  Sigmoid,
  Affine,
  LeakyRelu,
  ThresholdedRelu,
  ScaledTanh,
  HardSigmoid,
  Elu,
  Softsign,
  Softplus
};

/// One supported activation: its ONNX name, which of alpha / beta it reads, and their defaults
/// (the defaults of the ONNX op of the same name; ScaledTanh, which has none there, uses 1, 1).
struct ActSpec {
  std::string_view name;
  ActKind kind;
  bool uses_alpha, uses_beta;
  double alpha, beta;
};

constexpr ActSpec kActivations[] = {
    {"Relu", ActKind::Relu, false, false, 0.0, 0.0},
    {"Tanh", ActKind::Tanh, false, false, 0.0, 0.0},
    {"Sigmoid", ActKind::Sigmoid, false, false, 0.0, 0.0},
    {"Affine", ActKind::Affine, true, true, 1.0, 0.0},
    {"LeakyRelu", ActKind::LeakyRelu, true, false, 0.01, 0.0},
    {"ThresholdedRelu", ActKind::ThresholdedRelu, true, false, 1.0, 0.0},
    {"ScaledTanh", ActKind::ScaledTanh, true, true, 1.0, 1.0},
    {"HardSigmoid", ActKind::HardSigmoid, true, true, 0.2, 0.5},
    {"Elu", ActKind::Elu, true, false, 1.0, 0.0},
    {"Softsign", ActKind::Softsign, false, false, 0.0, 0.0},
    {"Softplus", ActKind::Softplus, false, false, 0.0, 0.0},
};

struct Activation {
  ActKind kind = ActKind::Tanh;
  double alpha = 0.0, beta = 0.0;
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const ActSpec* find_activation(std::string_view name) {
  for (const ActSpec& spec : kActivations)
    if (equals_ignoring_case(spec.name, name)) return &spec;
  return nullptr;
}

std::string supported_activations() {
  std::string list;
  for (const ActSpec& spec : kActivations) list += (list.empty() ? "" : ", ") + std::string(spec.name);
  return list;
}

/// The activations of every direction, `per direction` at a time. Names match case-insensitively
/// (exporters write "tanh" as well as "Tanh"). As in onnxruntime, activation_alpha / activation_beta
/// are consumed in order by the activations that read them; an activation left without a value uses
/// its default, and values left over are an error rather than silently ignored.
Expected<std::vector<Activation>> parse_activations(const CellInfo& cell, const AttrReader& attrs, int64_t dirs) {
  std::vector<std::string> names = attrs.strings("activations");
  size_t per_direction = cell.default_activations.size();
  size_t wanted = per_direction * static_cast<size_t>(dirs);
  if (names.empty())
    for (int64_t d = 0; d < dirs; ++d)
      names.insert(names.end(), cell.default_activations.begin(), cell.default_activations.end());
  if (names.size() != wanted)
    return make_error("activations has {} names, but {} with {} direction(s) needs {} ({} per direction: {})",
                      names.size(), cell.name, dirs, wanted, per_direction, cell.activation_roles);
  const std::vector<double>& alphas = attrs.floats("activation_alpha");
  const std::vector<double>& betas = attrs.floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> result;
  for (size_t i = 0; i < names.size(); ++i) {
    const ActSpec* spec = find_activation(names[i]);
    if (!spec)
      return make_error("unknown activation '{}' in activations[{}]; supported: {}", names[i], i,
                        supported_activations());
    Activation act{spec->kind, spec->alpha, spec->beta};
    if (spec->uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (spec->uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    result.push_back(act);
  }
  if (next_alpha != alphas.size())
    return make_error("activation_alpha has {} values, but the activations [{}] read only {}", alphas.size(),
                      fmt::join(names, ", "), next_alpha);
  if (next_beta != betas.size())
    return make_error("activation_beta has {} values, but the activations [{}] read only {}", betas.size(),
                      fmt::join(names, ", "), next_beta);
  return result;
}

template <typename Acc>
Acc activate(const Activation& act, Acc x) {
  const Acc alpha = static_cast<Acc>(act.alpha), beta = static_cast<Acc>(act.beta), one = 1, zero = 0;
  switch (act.kind) {
    case ActKind::Relu: return x < zero ? zero : x;
    case ActKind::Tanh: return std::tanh(x);
    case ActKind::Sigmoid: return one / (one + std::exp(-x));
    case ActKind::Affine: return alpha * x + beta;
    case ActKind::LeakyRelu: return x < zero ? alpha * x : x;
    case ActKind::ThresholdedRelu: return x > alpha ? x : zero;
    case ActKind::ScaledTanh: return alpha * std::tanh(beta * x);
    case ActKind::HardSigmoid: {
      Acc y = alpha * x + beta;
      return y < zero ? zero : (y > one ? one : y);
    }
    case ActKind::Elu: return x < zero ? alpha * (std::exp(x) - one) : x;
    case ActKind::Softsign: return x / (one + std::abs(x));
    // log(1 + e^x), written so that large x does not overflow.
    case ActKind::Softplus: return x > zero ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

// ---- Attributes and operand shapes --------------------------------------------------------------

/// The attributes every kernel and shape rule needs, validated.
struct Config {
  int64_t hidden = 0;
  int64_t dirs = 1;
  bool reverse_only = false;
  bool layout_batch_first = false;
  double clip = 0.0;  ///< 0: no clipping
  std::vector<Activation> activations;
};

Expected<Config> read_config(const CellInfo& cell, const AttrReader& attrs) {
  Config config;
  config.hidden = attrs.i("hidden_size");
  if (config.hidden < 1) return make_error("hidden_size must be at least 1, got {}", config.hidden);
  const std::string& direction = attrs.s("direction");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return make_error("direction must be forward, reverse or bidirectional, got '{}'", direction);
  config.dirs = direction == "bidirectional" ? 2 : 1;
  config.reverse_only = direction == "reverse";
  int64_t layout = attrs.i("layout");
  if (layout != 0 && layout != 1) return make_error("layout must be 0 or 1, got {}", layout);
  config.layout_batch_first = layout == 1;
  config.clip = attrs.f("clip");
  if (!(config.clip >= 0.0)) return make_error("clip must be >= 0 (0 disables clipping), got {}", config.clip);
  if (cell.name == "lstm" && attrs.i("input_forget") != 0 && attrs.i("input_forget") != 1)
    return make_error("input_forget must be 0 or 1, got {}", attrs.i("input_forget"));
  TESSEL_ASSIGN(config.activations, parse_activations(cell, attrs, config.dirs));
  return config;
}

// A dim matches when equal, or when either side is symbolic: the kernel re-checks concrete shapes.
bool dim_matches(const Dim& actual, const Dim& expected) {
  return actual == expected || !actual.is_const() || !expected.is_const();
}

Status check_shape(const TensorType& type, std::string_view name, const Shape& expected, std::string_view meaning) {
  bool ok = type.shape.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i) ok = dim_matches(type.shape[i], expected[i]);
  if (!ok) return make_error("{} must have shape {} ({}), got {}", name, shape_str(expected), meaning, type.str());
  return Status::success();
}

/// Checks an optional float operand: same dtype as X, expected shape.
Status check_float_operand(const ShapeContext& ctx, size_t index, std::string_view name, const Shape& expected,
                           std::string_view meaning) {
  if (!ctx.has_operand(index)) return Status::success();
  const TensorType& type = ctx.operand(index);
  if (type.dtype != ctx.operand(kX).dtype)
    return make_error("{} must have the dtype of X ({}), got {}", name, dtype_name(ctx.operand(kX).dtype), type.str());
  return check_shape(type, name, expected, meaning);
}

/// Validates operands and attributes; returns the result types for ctx.num_results results.
Expected<std::vector<TensorType>> infer_types(const ShapeContext& ctx, const Config& config) {
  const CellInfo& cell = cell_info(ctx.kind);
  if (ctx.num_results < 1 || ctx.num_results > cell.max_results)
    return make_error("{} defines 1 to {} results (Y, Y_h{}), got {}", cell.name, cell.max_results,
                      cell.max_results == 3 ? ", Y_c" : "", ctx.num_results);
  size_t max_operands = cell.name == "lstm" ? 8 : 6;
  if (ctx.operands.size() > max_operands)
    return make_error("{} takes at most {} operands, got {}", cell.name, max_operands, ctx.operands.size());
  for (auto [index, name] : {std::pair{kX, "X"}, {kW, "W"}, {kR, "R"}})
    if (!ctx.has_operand(index)) return make_error("{} needs operand {} ({})", cell.name, index, name);
  const TensorType& x = ctx.operand(kX);
  if (!is_float(x.dtype) || x.rank() != 3)
    return type_error(config.layout_batch_first ? "X as a float tensor [batch, seq, input_size]"
                                                : "X as a float tensor [seq, batch, input_size]",
                      x);
  Dim seq = x.shape[config.layout_batch_first ? 1 : 0], batch = x.shape[config.layout_batch_first ? 0 : 1];
  Dim input = x.shape[2], hidden = config.hidden, dirs = config.dirs, gates_hidden = cell.gates * config.hidden;
  std::string gates = fmt::format("{}*hidden_size, gates {}", cell.gates, cell.gate_order);
  TESSEL_TRY(check_float_operand(ctx, kW, "W", {dirs, gates_hidden, input},
                                 fmt::format("num_directions, {}, input_size", gates)));
  TESSEL_TRY(check_float_operand(ctx, kR, "R", {dirs, gates_hidden, hidden},
                                 fmt::format("num_directions, {}, hidden_size", gates)));
  TESSEL_TRY(check_float_operand(ctx, kB, "B", {dirs, 2 * gates_hidden},
                                 fmt::format("num_directions, {}*hidden_size: Wb then Rb", 2 * cell.gates)));
  if (ctx.has_operand(kSeqLens)) {
    const TensorType& lens = ctx.operand(kSeqLens);
    if (lens.dtype != DType::I32 && lens.dtype != DType::I64)
      return make_error("sequence_lens must be i32 or i64, got {}", lens.str());
    TESSEL_TRY(check_shape(lens, "sequence_lens", {batch}, "batch"));
  }
  Shape state = config.layout_batch_first ? Shape{batch, dirs, hidden} : Shape{dirs, batch, hidden};
  std::string_view state_meaning =
      config.layout_batch_first ? "batch, num_directions, hidden_size" : "num_directions, batch, hidden_size";
  TESSEL_TRY(check_float_operand(ctx, kInitialH, "initial_h", state, state_meaning));
  if (cell.name == "lstm") {
    TESSEL_TRY(check_float_operand(ctx, kInitialC, "initial_c", state, state_meaning));
    TESSEL_TRY(check_float_operand(ctx, kPeephole, "P", {dirs, 3 * hidden},
                                   "num_directions, 3*hidden_size: peepholes i, o, f"));
  }
  Shape y = config.layout_batch_first ? Shape{batch, seq, dirs, hidden} : Shape{seq, dirs, batch, hidden};
  std::vector<TensorType> results{{x.dtype, y}};
  for (int i = 1; i < ctx.num_results; ++i) results.push_back({x.dtype, state});
  return results;
}

// ---- Kernel -------------------------------------------------------------------------------------

template <typename Acc>
std::vector<Acc> read_values(const EvalContext& ctx, size_t index, size_t zeros) {
  if (!ctx.has_input(index)) return std::vector<Acc>(zeros, Acc(0));
  std::vector<double> values = ctx.input(index).to_doubles();
  return std::vector<Acc>(values.begin(), values.end());
}

/// Runs one op on concrete, validated operands; Acc is the compute type (float or double).
template <typename Acc>
class RecurrentRun {
 public:
  RecurrentRun(const EvalContext& ctx, const Config& config) : ctx_(ctx), config_(config), cell_(cell_info(ctx.kind)) {
    const Tensor& x = ctx.input(kX);
    seq_ = x.dim(config.layout_batch_first ? 1 : 0);
    batch_ = x.dim(config.layout_batch_first ? 0 : 1);
    input_ = x.dim(2);
    hidden_ = config.hidden;
    int64_t gh = cell_.gates * hidden_, dirs = config.dirs;
    x_ = read_values<Acc>(ctx, kX, 0);
    w_ = read_values<Acc>(ctx, kW, 0);
    r_ = read_values<Acc>(ctx, kR, 0);
    b_ = read_values<Acc>(ctx, kB, static_cast<size_t>(dirs * 2 * gh));
    size_t state = static_cast<size_t>(dirs * batch_ * hidden_);
    h0_ = read_values<Acc>(ctx, kInitialH, state);
    c0_ = read_values<Acc>(ctx, kInitialC, state);
    p_ = read_values<Acc>(ctx, kPeephole, static_cast<size_t>(dirs * 3 * hidden_));
    pre_.resize(static_cast<size_t>(gh));
    rec_.resize(static_cast<size_t>(gh));
    tmp_.resize(static_cast<size_t>(hidden_));
  }

  Expected<std::vector<Tensor>> operator()() {
    std::vector<int64_t> lens(static_cast<size_t>(batch_), seq_);
    if (ctx_.has_input(kSeqLens)) {
      for (int64_t b = 0; b < batch_; ++b) {
        lens[b] = ctx_.input(kSeqLens).get_int(b);
        if (lens[b] < 0 || lens[b] > seq_)
          return make_error("sequence_lens[{}] is {}, outside [0, seq = {}]", b, lens[b], seq_);
      }
    }
    int64_t dirs = config_.dirs;
    std::vector<Acc> y(static_cast<size_t>(seq_ * dirs * batch_ * hidden_), Acc(0));
    std::vector<Acc> y_h(static_cast<size_t>(dirs * batch_ * hidden_)), y_c(y_h.size());
    std::vector<Acc> h(static_cast<size_t>(hidden_)), c(h.size());
    for (int64_t d = 0; d < dirs; ++d) {
      bool reverse = config_.reverse_only || d == 1;
      for (int64_t b = 0; b < batch_; ++b) {
        std::copy_n(&h0_[state_index(d, b)], hidden_, h.begin());
        std::copy_n(&c0_[state_index(d, b)], hidden_, c.begin());
        for (int64_t s = 0; s < lens[b]; ++s) {
          int64_t t = reverse ? lens[b] - 1 - s : s;
          step(d, &x_[x_index(t, b)], h.data(), c.data());
          std::copy(h.begin(), h.end(), &y[y_index(t, d, b)]);
        }
        std::copy(h.begin(), h.end(), &y_h[state_index(d, b)]);
        std::copy(c.begin(), c.end(), &y_c[state_index(d, b)]);
      }
    }
    bool bf = config_.layout_batch_first;
    std::vector<int64_t> y_shape =
        bf ? std::vector<int64_t>{batch_, seq_, dirs, hidden_} : std::vector<int64_t>{seq_, dirs, batch_, hidden_};
    std::vector<int64_t> state_shape =
        bf ? std::vector<int64_t>{batch_, dirs, hidden_} : std::vector<int64_t>{dirs, batch_, hidden_};
    std::vector<Tensor> results{to_tensor(y_shape, y)};
    if (ctx_.result_dtypes.size() > 1) results.push_back(to_tensor(state_shape, y_h));
    if (ctx_.result_dtypes.size() > 2) results.push_back(to_tensor(state_shape, y_c));
    return results;
  }

 private:
  size_t x_index(int64_t t, int64_t b) const {
    return static_cast<size_t>(((config_.layout_batch_first ? b * seq_ + t : t * batch_ + b)) * input_);
  }
  size_t state_index(int64_t d, int64_t b) const {
    return static_cast<size_t>((config_.layout_batch_first ? b * config_.dirs + d : d * batch_ + b) * hidden_);
  }
  size_t y_index(int64_t t, int64_t d, int64_t b) const {
    int64_t dirs = config_.dirs;
    int64_t row = config_.layout_batch_first ? (b * seq_ + t) * dirs + d : (t * dirs + d) * batch_ + b;
    return static_cast<size_t>(row * hidden_);
  }

  Tensor to_tensor(const std::vector<int64_t>& shape, const std::vector<Acc>& values) const {
    return Tensor::from_doubles(ctx_.input(kX).dtype(), shape, std::vector<double>(values.begin(), values.end()));
  }

  Acc clipped(Acc v) const {
    Acc limit = static_cast<Acc>(config_.clip);
    if (config_.clip <= 0.0) return v;
    return v < -limit ? -limit : (v > limit ? limit : v);
  }
  Acc act(int64_t d, size_t role, Acc v) const {
    return activate(config_.activations[static_cast<size_t>(d) * cell_.default_activations.size() + role], v);
  }

  // out[i] (+)= bias[i] + sum_k m[i, k] * v[k] for i < rows.
  static void affine(const Acc* m, int64_t rows, int64_t cols, const Acc* v, const Acc* bias, Acc* out,
                     bool accumulate) {
    for (int64_t i = 0; i < rows; ++i) {
      Acc sum = bias[i];
      for (int64_t k = 0; k < cols; ++k) sum += m[i * cols + k] * v[k];
      out[i] = accumulate ? out[i] + sum : sum;
    }
  }

  // Pointers to direction d's parameters.
  const Acc* w(int64_t d) const { return &w_[static_cast<size_t>(d * cell_.gates * hidden_ * input_)]; }
  const Acc* r(int64_t d) const { return &r_[static_cast<size_t>(d * cell_.gates * hidden_ * hidden_)]; }
  const Acc* wb(int64_t d) const { return &b_[static_cast<size_t>(d * 2 * cell_.gates * hidden_)]; }
  const Acc* rb(int64_t d) const { return wb(d) + cell_.gates * hidden_; }

  void step(int64_t d, const Acc* x, Acc* h, Acc* c) {
    if (ctx_.kind == OpKind::Lstm) return lstm_step(d, x, h, c);
    if (ctx_.kind == OpKind::Gru) return gru_step(d, x, h);
    return rnn_step(d, x, h);
  }

  // Ht = f(W x + Wb + R Ht-1 + Rb).
  void rnn_step(int64_t d, const Acc* x, Acc* h) {
    affine(w(d), hidden_, input_, x, wb(d), pre_.data(), false);
    affine(r(d), hidden_, hidden_, h, rb(d), pre_.data(), true);
    for (int64_t j = 0; j < hidden_; ++j) h[j] = act(d, 0, clipped(pre_[j]));
  }

  // z = f(Wz x + Rz h + Wbz + Rbz), r = f(Wr x + Rr h + Wbr + Rbr),
  // n = g(Wh x + Wbh + Rh (r . h) + Rbh)   or, with linear_before_reset, g(Wh x + Wbh + r . (Rh h + Rbh)),
  // Ht = (1 - z) . n + z . h.
  void gru_step(int64_t d, const Acc* x, Acc* h) {
    const int64_t hs = hidden_;
    affine(w(d), 3 * hs, input_, x, wb(d), pre_.data(), false);
    affine(r(d), 2 * hs, hs, h, rb(d), rec_.data(), false);
    Acc* z = rec_.data();
    Acc* reset = rec_.data() + hs;
    for (int64_t j = 0; j < 2 * hs; ++j) rec_[j] = act(d, 0, clipped(pre_[j] + rec_[j]));
    const Acc* rh = r(d) + 2 * hs * hs;
    const Acc* rbh = rb(d) + 2 * hs;
    Acc* n = rec_.data() + 2 * hs;
    if (ctx_.attrs.i("linear_before_reset") != 0) {
      affine(rh, hs, hs, h, rbh, n, false);
      for (int64_t j = 0; j < hs; ++j) n[j] = pre_[2 * hs + j] + reset[j] * n[j];
    } else {
      for (int64_t j = 0; j < hs; ++j) tmp_[j] = reset[j] * h[j];
      affine(rh, hs, hs, tmp_.data(), rbh, n, false);
      for (int64_t j = 0; j < hs; ++j) n[j] += pre_[2 * hs + j];
    }
    for (int64_t j = 0; j < hs; ++j) {
      Acc candidate = act(d, 1, clipped(n[j]));
      h[j] = (Acc(1) - z[j]) * candidate + z[j] * h[j];
    }
  }

  // i = f(Wi x + Ri h + Pi . Ct-1 + b), f = f(Wf x + Rf h + Pf . Ct-1 + b) (or 1 - i with input_forget),
  // c = g(Wc x + Rc h + b), Ct = f . Ct-1 + i . c, o = f(Wo x + Ro h + Po . Ct + b), Ht = o . h(Ct).
  void lstm_step(int64_t d, const Acc* x, Acc* h, Acc* c) {
    const int64_t hs = hidden_;
    affine(w(d), 4 * hs, input_, x, wb(d), pre_.data(), false);
    affine(r(d), 4 * hs, hs, h, rb(d), pre_.data(), true);
    const Acc* p = &p_[static_cast<size_t>(d * 3 * hs)];
    bool input_forget = ctx_.attrs.i("input_forget") != 0;
    for (int64_t j = 0; j < hs; ++j) {
      Acc in = act(d, 0, clipped(pre_[j] + p[j] * c[j]));
      Acc forget = input_forget ? Acc(1) - in : act(d, 0, clipped(pre_[2 * hs + j] + p[2 * hs + j] * c[j]));
      Acc candidate = act(d, 1, clipped(pre_[3 * hs + j]));
      Acc cell = forget * c[j] + in * candidate;
      Acc out = act(d, 0, clipped(pre_[hs + j] + p[hs + j] * cell));
      c[j] = cell;
      h[j] = out * act(d, 2, cell);
    }
  }

  const EvalContext& ctx_;
  const Config& config_;
  const CellInfo& cell_;
  int64_t seq_ = 0, batch_ = 0, input_ = 0, hidden_ = 0;
  std::vector<Acc> x_, w_, r_, b_, h0_, c0_, p_;
  std::vector<Acc> pre_, rec_, tmp_;  // per-step scratch: gate pre-activations
};

}  // namespace

Expected<std::vector<TensorType>> infer_recurrent(const ShapeContext& ctx) {
  TESSEL_ASSIGN(Config config, read_config(cell_info(ctx.kind), ctx.attrs));
  return infer_types(ctx, config);
}

Expected<std::vector<Tensor>> eval_recurrent(const EvalContext& ctx) {
  TESSEL_ASSIGN(Config config, read_config(cell_info(ctx.kind), ctx.attrs));
  // The shape rule accepts symbolic dims it cannot compare; re-run it on the concrete shapes.
  std::vector<TensorType> types(ctx.inputs.size());
  ShapeContext shape_ctx{ctx.kind, {}, ctx.attrs, static_cast<int>(ctx.result_dtypes.size()), ctx.module};
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i]) types[i] = {ctx.inputs[i]->dtype(), to_shape(ctx.inputs[i]->shape())};
    shape_ctx.operands.push_back(ctx.inputs[i] ? &types[i] : nullptr);
  }
  TESSEL_TRY(infer_types(shape_ctx, config));
  if (ctx.input(kX).dtype() == DType::F64) return RecurrentRun<double>(ctx, config)();
  return RecurrentRun<float>(ctx, config)();
}

}  // namespace tessel::ops
