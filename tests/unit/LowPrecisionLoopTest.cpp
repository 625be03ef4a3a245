// Low-precision casts and bitcast in loop IR and compiled code: the loop-IR conversions of
// ir/loop/LowPrecisionExpr.h against ir/LowPrecision.h bit for bit -- every 8-bit pattern to f32, and a large
// sample of f32 bit patterns (every exponent, ties at every mantissa width, NaN, +-inf, +-0, subnormals) to
// every type, saturating or not, each E8M0 rounding -- in the loop evaluator (scalar and 8-lane code), through
// lowering, and through the LLVM JIT; `reinterpret` (text form, folding, evaluator, codegen) and the tensor
// IR's bitcast.
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "codegen/llvm/Jit.h"
#include "ir/LowPrecision.h"
#include "ir/Parser.h"
#include "ir/loop/LowPrecisionExpr.h"
#include "ir/loop/Transforms.h"
#include "tests/unit/LowerTestUtil.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

constexpr DType kFloatTypes[] = {DType::F8E4M3FN,   DType::F8E4M3FNUZ, DType::F8E5M2,
                                 DType::F8E5M2FNUZ, DType::F8E8M0,     DType::F4E2M1};
constexpr DType kIntTypes[] = {DType::I4, DType::U4, DType::I2, DType::U2};
constexpr E8M0Rounding kRoundings[] = {E8M0Rounding::Up, E8M0Rounding::Down, E8M0Rounding::Nearest};

/// f32 bit patterns: every exponent with mantissas that put a tie (and its neighbours) at every bit, the
/// extremes, both signs, NaNs with payloads, and random patterns. A multiple of 8 long. `stride` > 1 keeps
/// every stride-th exponent (and the extreme ones) for the slower paths.
std::vector<uint32_t> f32_sample(uint32_t stride = 1) {
  std::vector<uint32_t> mantissas{0, 1, 0x7FFFFF, 0x400000, 0x3FFFFF, 0x600000, 0x200001, 0x500000, 0x700000};
  for (int k = 0; k < 23; ++k) {
    uint32_t bit = 1u << k;
    for (uint32_t m : {bit, bit - 1, bit + 1, bit | (bit << 1), (bit | (bit << 1)) + 1, bit * 3 - 1})
      mantissas.push_back(m & 0x7FFFFF);
  }
  std::vector<uint32_t> sample;
  for (uint32_t sign : {0u, 0x80000000u})
    for (uint32_t exponent = 0; exponent < 256; ++exponent)
      if (exponent % stride == 0 || exponent < 2 || exponent > 253)
        for (uint32_t m : mantissas) sample.push_back(sign | (exponent << 23) | m);
  std::mt19937 rng(7);
  for (uint32_t i = 0; i < 4000 / stride; ++i) sample.push_back(static_cast<uint32_t>(rng()));
  while (sample.size() % 8 != 0) sample.push_back(0x7FC00000u);
  return sample;
}

Tensor f32_tensor(const std::vector<uint32_t>& bits) {
  Tensor t(DType::F32, {static_cast<int64_t>(bits.size())});
  for (size_t i = 0; i < bits.size(); ++i) t.data<uint32_t>()[i] = bits[i];
  return t;
}

Tensor all_bytes(DType dtype) {
  Tensor t(dtype, {256});
  for (int i = 0; i < 256; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(i);
  return t;
}

/// A loop kernel y[i] = convert(x[i]) over n elements, scalar or in 8-lane vectors.
loop::Kernel convert_kernel(DType from, DType to, int64_t n, int lanes,
                            const std::function<loop::Expr(const loop::Expr&)>& convert) {
  using namespace loop;
  Kernel k;
  k.name = "convert";
  k.buffers = {Buffer{"x", from, {Dim(n)}, BufferRole::Input, ""}, Buffer{"y", to, {Dim(n)}, BufferRole::Output, ""}};
  Expr i = var("i");
  Expr index = lanes == 1 ? i : ramp(i * int_imm(lanes), int_imm(1), lanes);
  k.body = for_loop("i", int_imm(0), int_imm(n / lanes), ForKind::Serial,
                    store("y", index, convert(load("x", from, index))));
  return k;
}

std::vector<Tensor> run(const loop::Kernel& kernel, const Tensor& input) {
  auto out = loop::run_kernel(kernel, {input}, {});
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().str());
  return out.ok() ? *out : std::vector<Tensor>{};
}

uint32_t f32_bits(float value) { return std::bit_cast<uint32_t>(value); }

TEST(LowPrecisionLoop, EveryBytePatternToF32) {
  for (DType dtype : kFloatTypes) {
    for (int lanes : {1, 8}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " lanes " + std::to_string(lanes));
      auto kernel = convert_kernel(dtype, DType::F32, 256, lanes, loop::low_precision_float_to_f32);
      auto out = run(kernel, all_bytes(dtype));
      ASSERT_EQ(out.size(), 1u);
      int wrong = 0;
      for (int b = 0; b < 256; ++b) {
        uint32_t want = f32_bits(low_precision_to_float(dtype, static_cast<uint8_t>(b)));
        uint32_t got = out[0].data<uint32_t>()[b];
        if (got != want && wrong++ < 4) ADD_FAILURE() << "byte " << b << ": " << std::hex << got << " want " << want;
      }
    }
  }
}

TEST(LowPrecisionLoop, SmallIntegersEveryByteAndEveryWrap) {
  for (DType dtype : kIntTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    auto to_i64 = [](const loop::Expr& bits) {
      return cast(loop::i64_type(bits->type.lanes), loop::low_precision_int_value(bits));
    };
    auto widened = run(convert_kernel(dtype, DType::I64, 256, 8, to_i64), all_bytes(dtype));
    ASSERT_EQ(widened.size(), 1u);
    for (int b = 0; b < 256; ++b)
      EXPECT_EQ(widened[0].data<int64_t>()[b], static_cast<int64_t>(low_precision_to_float(dtype, uint8_t(b))));
    // i64 -> dtype wraps modulo 2^bits: -300..299 and the extremes.
    Tensor values(DType::I64, {608});
    for (int64_t i = 0; i < 600; ++i) values.data<int64_t>()[i] = i - 300;
    int64_t extremes[] = {INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 1 << 20, -(1 << 20), 15, -16};
    for (int i = 0; i < 8; ++i) values.data<int64_t>()[600 + i] = extremes[i];
    for (int lanes : {1, 8}) {
      auto narrow = [&](const loop::Expr& v) { return loop::i64_to_low_precision_int(dtype, v); };
      auto out = run(convert_kernel(DType::I64, dtype, 608, lanes, narrow), values);
      ASSERT_EQ(out.size(), 1u);
      for (int64_t i = 0; i < 608; ++i)
        EXPECT_EQ(out[0].data<uint8_t>()[i], int_to_low_precision(dtype, values.data<int64_t>()[i]))
            << "i64 " << values.data<int64_t>()[i];
    }
  }
}

void expect_rounds_like_reference(DType dtype, bool saturate, E8M0Rounding rounding,
                                  const std::vector<uint32_t>& sample, const Tensor& got, const std::string& what) {
  int wrong = 0;
  for (size_t i = 0; i < sample.size(); ++i) {
    int want = float_to_low_precision(dtype, std::bit_cast<float>(sample[i]), saturate, rounding);
    int actual = got.data<uint8_t>()[i];
    if (actual != want && wrong++ < 4)
      ADD_FAILURE() << what << ": f32 bits 0x" << std::hex << sample[i] << " (" << std::bit_cast<float>(sample[i])
                    << ") gives 0x" << actual << ", want 0x" << want;
  }
}

TEST(LowPrecisionLoop, F32SampleToEveryFloatType) {
  std::vector<uint32_t> sample = f32_sample();
  Tensor input = f32_tensor(sample);
  for (DType dtype : kFloatTypes) {
    for (bool saturate : {true, false}) {
      for (E8M0Rounding rounding : kRoundings) {
        if (dtype != DType::F8E8M0 && rounding != E8M0Rounding::Up) continue;
        auto convert = [&](const loop::Expr& v) {
          return loop::f32_to_low_precision_float(dtype, v, saturate, rounding);
        };
        for (int lanes : {8}) {  // scalar code runs in the lowering test below
          std::string what = std::string(dtype_name(dtype)) + (saturate ? " saturate" : "") + " rounding " +
                             std::to_string(int(rounding)) + " lanes " + std::to_string(lanes);
          auto out = run(convert_kernel(DType::F32, dtype, static_cast<int64_t>(sample.size()), lanes, convert), input);
          ASSERT_EQ(out.size(), 1u) << what;
          expect_rounds_like_reference(dtype, saturate, rounding, sample, out[0], what);
        }
      }
    }
  }
}

TEST(LowPrecisionLoop, ConversionsSimplifyToConstantsOnImmediates) {
  // 0.3 -> E4M3FN: 0.3 = 1.2 * 2^-2, mantissa 0.2 * 8 = 1.6 steps -> 2: (1 + 2/8) * 2^-2 = 0.3125, bits
  // 0 0101 010 = 0x2A; and back.
  loop::Expr bits =
      loop::simplify(loop::f32_to_low_precision_float(DType::F8E4M3FN, loop::float_imm(0.3), true, E8M0Rounding::Up));
  ASSERT_EQ(bits->kind, loop::ExprKind::IntImm) << loop::print(bits);
  EXPECT_EQ(bits->int_value, 0x2A);
  EXPECT_EQ(loop::print(bits), "42:f8e4m3fn");
  loop::Expr value = loop::simplify(loop::low_precision_float_to_f32(bits));
  ASSERT_EQ(value->kind, loop::ExprKind::FloatImm) << loop::print(value);
  EXPECT_EQ(value->float_value, 0.3125);
}

// ---- Through lowering (tensor IR cast -> loop IR -> evaluator) and the JIT ------------------------------

struct CastCase {
  DType from, to;
  AttrMap attrs;
};

std::vector<CastCase> cast_cases() {
  std::vector<CastCase> cases;
  for (DType t : kFloatTypes) {
    cases.push_back({DType::F32, t, {}});
    cases.push_back({t, DType::F32, {}});
    cases.push_back({t, DType::F16, {}});
    cases.push_back({DType::F16, t, {{"saturate", int64_t{0}}}});
  }
  for (DType t : kIntTypes) {
    cases.push_back({DType::F32, t, {}});
    cases.push_back({t, DType::F32, {}});
    cases.push_back({t, DType::I8, {}});
    cases.push_back({DType::I32, t, {}});
    cases.push_back({t, DType::F16, {}});
  }
  cases.push_back({DType::F64, DType::F8E5M2, {{"saturate", int64_t{0}}}});
  cases.push_back({DType::F8E5M2, DType::F8E4M3FN, {}});
  cases.push_back({DType::F8E4M3FNUZ, DType::I4, {}});
  cases.push_back({DType::F32, DType::F8E8M0, {{"round_mode", std::string("nearest")}}});
  cases.push_back({DType::F32, DType::F8E8M0, {{"round_mode", std::string("down")}, {"saturate", int64_t{0}}}});
  cases.push_back({DType::Bool, DType::F4E2M1, {}});
  cases.push_back({DType::U2, DType::Bool, {}});
  return cases;
}

std::unique_ptr<Module> cast_module(const CastCase& c) {
  auto m = std::make_unique<Module>();
  Builder b(m->add_function("main"));
  Value* x = b.input("x", {c.from, {Dim::symbol("N")}});
  AttrMap attrs = c.attrs;
  attrs.emplace("to", c.to);
  b.output(b.op(OpKind::Cast, {x}, attrs));
  EXPECT_TRUE(b.status().ok()) << b.status().error().str();
  return m;
}

/// Interesting inputs of `dtype`: every byte of a low-precision type, else the f32 sample converted.
Tensor cast_input(DType dtype) {
  if (is_low_precision(dtype)) return all_bytes(dtype);
  std::vector<uint32_t> sample = f32_sample(7);
  Tensor t(dtype, {static_cast<int64_t>(sample.size())});
  for (size_t i = 0; i < sample.size(); ++i) t.set_double(static_cast<int64_t>(i), std::bit_cast<float>(sample[i]));
  return t;
}

/// Equal bytes, with NaNs of one sign equal whatever their payloads (f16 and f32 results).
void expect_same_bits(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.type_str(), want.type_str()) << what;
  size_t size = dtype_size(got.dtype());
  int wrong = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    bool nan = is_float(got.dtype()) && std::isnan(got.get_double(i)) && std::isnan(want.get_double(i)) &&
               std::signbit(got.get_double(i)) == std::signbit(want.get_double(i));
    bool same = std::memcmp(static_cast<const char*>(got.raw_data()) + i * size,
                            static_cast<const char*>(want.raw_data()) + i * size, size) == 0;
    if (!same && !nan && wrong++ < 4)
      ADD_FAILURE() << what << ": element " << i << " is " << got.get_double(i) << ", want " << want.get_double(i);
  }
}

std::string case_name(const CastCase& c) {
  std::string name = std::string(dtype_name(c.from)) + " -> " + std::string(dtype_name(c.to));
  for (const auto& [key, value] : c.attrs) name += " " + key;
  return name;
}

TEST(LowPrecisionLoop, CastsLowerAndMatchTheInterpreterBitForBit) {
  auto target = parse_target("x86-64-v3");
  ASSERT_TRUE(target.ok());
  for (const CastCase& c : cast_cases()) {
    SCOPED_TRACE(case_name(c));
    auto m = cast_module(c);
    Tensor input = cast_input(c.from);
    auto want = interpret(*m->entry(), {input});
    ASSERT_TRUE(want.ok()) << want.error().str();
    for (std::string text : {"", "vectorize=d0:8"}) {
      auto schedule = parse_schedule(text);
      ASSERT_TRUE(schedule.ok());
      auto kernel = lower_kernel(*m->entry(), *schedule, *target);
      ASSERT_TRUE(kernel.ok()) << kernel.error().str();
      auto got = loop::run_kernel(*kernel, {input}, {});
      ASSERT_TRUE(got.ok()) << got.error().str();
      expect_same_bits((*got)[0], (*want)[0], "schedule '" + text + "'");
    }
  }
}

TEST(LowPrecisionLoop, CastsCompileAndMatchTheInterpreterBitForBit) {
  for (const CastCase& c : cast_cases()) {
    SCOPED_TRACE(case_name(c));
    auto m = cast_module(c);
    Tensor input = cast_input(c.from);
    auto want = interpret(*m->entry(), {input});
    ASSERT_TRUE(want.ok()) << want.error().str();
    jit::CompileOptions options;
    options.verify_each = true;
    auto executable = jit::compile(std::move(m), options);
    ASSERT_TRUE(executable.ok()) << executable.error().str();
    auto got = (*executable)->run({input});
    ASSERT_TRUE(got.ok()) << got.error().str();
    expect_same_bits((*got)[0], (*want)[0], "llvm");
  }
}

TEST(LowPrecisionLoop, MovesOfLowPrecisionValuesFuseAndKeepTheirBytes) {
  // A transpose and a concat of f8 bytes (NaN payloads included), then a cast: one kernel, exact bytes.
  auto m = parse_module(R"(
func @main(%x: f8e5m2[4, 64], %z: i4[4, 1]) -> (t: f8e5m2[128, 4], w: f32[4, 64], q: i4[4, 2]) {
  %xt = transpose(%x) {perm = [1, 0]} : f8e5m2[64, 4]
  %t = concat(%xt, %xt) {axis = 0} : f8e5m2[128, 4]
  %w = cast(%x) {to = f32} : f32[4, 64]
  %q = concat(%z, %z) {axis = 1} : i4[4, 2]
  return %t, %w, %q
}
)");
  ASSERT_TRUE(m.ok()) << m.error().str();
  Tensor x = all_bytes(DType::F8E5M2).reshaped({4, 64});
  Tensor z(DType::I4, {4, 1});
  for (int i = 0; i < 4; ++i) z.data<uint8_t>()[i] = static_cast<uint8_t>(int_to_low_precision(DType::I4, i * 5 - 8));
  auto want = interpret(*(*m)->entry(), {x, z});
  ASSERT_TRUE(want.ok()) << want.error().str();
  jit::CompileOptions options;
  options.verify_each = true;
  auto executable = jit::compile(std::move(*m), options);
  ASSERT_TRUE(executable.ok()) << executable.error().str();
  auto got = (*executable)->run({x, z});
  ASSERT_TRUE(got.ok()) << got.error().str();
  for (size_t i = 0; i < want->size(); ++i) expect_same_bits((*got)[i], (*want)[i], "output " + std::to_string(i));
}

// ---- reinterpret and bitcast -------------------------------------------------------------------------

TEST(LowPrecisionLoop, ReinterpretTextFormAndErrors) {
  std::map<std::string, loop::Type> scope{{"x", loop::Type{DType::F32, 8}}, {"b", loop::Type{DType::U8, 1}}};
  auto e = loop::parse_expr("reinterpret<u32x8>(x)", scope);
  ASSERT_TRUE(e.ok()) << e.error().str();
  EXPECT_EQ((*e)->kind, loop::ExprKind::Reinterpret);
  EXPECT_EQ(loop::print(*e), "reinterpret<u32x8>(x)");
  auto f8 = loop::parse_expr("reinterpret<f8e4m3fn>(b)", scope);
  ASSERT_TRUE(f8.ok()) << f8.error().str();
  EXPECT_EQ(loop::print(*f8), "reinterpret<f8e4m3fn>(b)");
  auto wrong_size = loop::parse_expr("reinterpret<f64x8>(x)", scope);
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_THAT(wrong_size.error().str(), HasSubstr("a reinterpret keeps the element size (f32x8 to f64x8)"));
  auto wrong_lanes = loop::parse_expr("reinterpret<i32>(x)", scope);
  ASSERT_FALSE(wrong_lanes.ok());
  EXPECT_THAT(wrong_lanes.error().str(), HasSubstr("a reinterpret keeps the lane count"));
}

TEST(LowPrecisionLoop, ReinterpretFoldsAndCollapses) {
  using namespace loop;
  // 1.0f is 0x3F800000 = 1065353216.
  EXPECT_EQ(print(simplify(reinterpret(Type{DType::I32}, float_imm(1.0)))), "1065353216:i32");
  // -1 as u16 is 65535; as bool any nonzero byte is true.
  EXPECT_EQ(print(simplify(reinterpret(Type{DType::U16}, int_imm(-1, DType::I16)))), "65535:u16");
  EXPECT_EQ(print(simplify(reinterpret(Type{DType::Bool}, int_imm(2, DType::U8)))), "true");
  Expr x = var("x", Type{DType::F32});
  EXPECT_EQ(print(simplify(reinterpret(Type{DType::F32}, reinterpret(Type{DType::I32}, x)))), "x");
  Expr b = var("b", Type{DType::U8});
  // Through bool the bits change (2 -> 1), so that pair stays.
  EXPECT_EQ(print(simplify(reinterpret(Type{DType::U8}, reinterpret(Type{DType::Bool}, b)))),
            "reinterpret<u8>(reinterpret<bool>(b))");
}

TEST(LowPrecisionLoop, BitcastLowersAndCompiles) {
  std::string text = R"(
func @main(%a: f32[N], %b: i64[N], %c: f16[N], %d: bool[N], %e: u8[N]) -> (ai: i32[N], bf: f64[N], ci: i16[N], du: u8[N], eb: bool[N], back: f32[N]) {
  %ai = bitcast(%a) {to = i32} : i32[N]
  %bf = bitcast(%b) {to = f64} : f64[N]
  %ci = bitcast(%c) {to = i16} : i16[N]
  %du = bitcast(%d) {to = u8} : u8[N]
  %eb = bitcast(%e) {to = bool} : bool[N]
  %one = add(%ai, %ai) : i32[N]
  %back = bitcast(%one) {to = f32} : f32[N]
  return %ai, %bf, %ci, %du, %eb, %back
}
)";
  auto m = parse_module(text);
  ASSERT_TRUE(m.ok()) << m.error().str();
  int64_t n = 19;
  Tensor a(DType::F32, {n}), b(DType::I64, {n}), c(DType::F16, {n}), d(DType::Bool, {n}), e(DType::U8, {n});
  for (int64_t i = 0; i < n; ++i) {
    a.set_double(i, (i - 9) * 0.37);
    b.data<int64_t>()[i] = static_cast<int64_t>(0x3FF0000000000000ull) + i * 12345;
    c.set_double(i, (i - 4) * 1.5);
    d.set_int(i, i % 3 == 0);
    e.data<uint8_t>()[i] = static_cast<uint8_t>(i * 37);  // 0, 37, ..., including values other than 0 and 1
  }
  std::vector<Tensor> inputs{a, b, c, d, e};
  lower_test::check(**m, {"", "vectorize=d0:8"}, inputs);
  auto want = interpret(*(*m)->entry(), inputs);
  ASSERT_TRUE(want.ok()) << want.error().str();
  jit::CompileOptions options;
  options.verify_each = true;
  auto executable = jit::compile(std::move(*m), options);
  ASSERT_TRUE(executable.ok()) << executable.error().str();
  auto got = (*executable)->run(inputs);
  ASSERT_TRUE(got.ok()) << got.error().str();
  for (size_t i = 0; i < want->size(); ++i) expect_same_bits((*got)[i], (*want)[i], "output " + std::to_string(i));
}

}  // namespace
}  // namespace tessel
