// The LLVM CPU backend against the reference interpreter: one compiled executable at several batch sizes,
// integer and low-precision float semantics, outputs that are inputs or constants, concurrent runs, input
// checking, and the AOT header.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen/llvm/Aot.h"
#include "codegen/llvm/Jit.h"
#include "frontends/onnx/Conformance.h"
#include "ir/Parser.h"
#include "ir/interp/Interpreter.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Module> parse(const std::string& text) {
  auto module = parse_module(text);
  EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().str());
  return module.ok() ? std::move(*module) : nullptr;
}

std::unique_ptr<jit::Executable> compile_text(const std::string& text, jit::CompileOptions options = {}) {
  options.verify_each = true;
  auto executable = jit::compile(parse(text), options);
  EXPECT_TRUE(executable.ok()) << (executable.ok() ? "" : executable.error().str());
  return executable.ok() ? std::move(*executable) : nullptr;
}

Tensor ramp_tensor(DType dtype, std::vector<int64_t> shape, double scale, double offset) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_double(i, offset + scale * double((i * 7919) % 23));
  return t;
}

void expect_matches_interpreter(const std::string& text, const jit::Executable& executable,
                                const std::vector<Tensor>& inputs, double rtol = 1e-5) {
  auto reference_module = parse(text);
  auto expected = interpret(*reference_module->entry(), inputs);
  ASSERT_TRUE(expected.ok()) << expected.error().str();
  auto actual = executable.run(inputs);
  ASSERT_TRUE(actual.ok()) << actual.error().str();
  ASSERT_EQ(actual->size(), expected->size());
  for (size_t i = 0; i < expected->size(); ++i) {
    Status same = onnx::compare_tensors((*actual)[i], (*expected)[i], rtol, 1e-6);
    EXPECT_TRUE(same.ok()) << "output " << i << ": " << same.error().str();
  }
}

std::string mlp_text() {
  // A dense + relu + dense + softmax network with a symbolic batch; weights are ramps.
  std::string w1 = "const @w1 : f32[6, 16] = [", w2 = "const @w2 : f32[16, 4] = [", b1 = "const @b1 : f32[16] = [";
  for (int i = 0; i < 96; ++i) w1 += (i ? ", " : "") + std::to_string(((i * 37) % 19 - 9) / 10.0);
  for (int i = 0; i < 64; ++i) w2 += (i ? ", " : "") + std::to_string(((i * 11) % 13 - 6) / 8.0);
  for (int i = 0; i < 16; ++i) b1 += (i ? ", " : "") + std::to_string((i % 5 - 2) / 4.0);
  return w1 + "]\n" + w2 + "]\n" + b1 + R"(]
func @main(%x: f32[N, 6]) -> (probs: f32[N, 4]) {
  %w1 = const @w1 : f32[6, 16]
  %w2 = const @w2 : f32[16, 4]
  %b1 = const @b1 : f32[16]
  %h = matmul(%x, %w1) : f32[N, 16]
  %hb = add(%h, %b1) : f32[N, 16]
  %r = relu(%hb) : f32[N, 16]
  %o = matmul(%r, %w2) : f32[N, 4]
  %probs = softmax(%o) {axis = -1} : f32[N, 4]
  return %probs
}
)";
}

TEST(LlvmCodegen, OneExecutableServesSeveralBatchSizes) {
  std::string text = mlp_text();
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  EXPECT_EQ(executable->interface().symbols, std::vector<std::string>{"N"});
  for (int64_t batch : {1, 5, 0, 33})
    expect_matches_interpreter(text, *executable, {ramp_tensor(DType::F32, {batch, 6}, 0.1, -1)});
}

TEST(LlvmCodegen, WeightPrefetchesChangeNoResult) {
  // A conv under prefetch=oc (tests/lit/loops/prefetch.tsl shows the loops): the last block prefetches
  // past the end of the weights, which a prefetch may do; the results are the interpreter's.
  const std::string text = R"(
func @main(%x: f32[N, 8, 6, 6], %w: f32[32, 8, 3, 3]) -> (y: f32[N, 32, 4, 4]) {
  %y = kernel(%x, %w) {body = "main.k0", schedule = "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:4,oc:16] vectorize=oc:8 parallel=oc unroll=kw:3 prefetch=oc"} : f32[N, 32, 4, 4]
  return %y
}

func @main.k0(%x: f32[N, 8, 6, 6], %w: f32[32, 8, 3, 3]) -> (y: f32[N, 32, 4, 4]) {
  %c = conv(%x, %w) {dilations = [1, 1], group = 1, pads = [0, 0, 0, 0], strides = [1, 1]} : f32[N, 32, 4, 4]
  %y = relu(%c) : f32[N, 32, 4, 4]
  return %y
}
)";
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  for (int64_t batch : {1, 3})
    expect_matches_interpreter(
        text, *executable,
        {ramp_tensor(DType::F32, {batch, 8, 6, 6}, 0.1, -1), ramp_tensor(DType::F32, {32, 8, 3, 3}, 0.05, -0.5)});
}

TEST(LlvmCodegen, IntegerDivisionByZeroAndOverflowFollowTheIR) {
  std::string text = R"(
func @main(%a: i32[8], %b: i32[8]) -> (q: i32[8], r: i32[8], m: i32[8]) {
  %q = div(%a, %b) : i32[8]
  %r = mod(%a, %b) {fmod = 1} : i32[8]
  %m = mod(%a, %b) : i32[8]
  return %q, %r, %m
}
)";
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  Tensor a = Tensor::of<int32_t>({8}, {7, -7, 7, -7, INT32_MIN, INT32_MIN, 5, 0});
  Tensor b = Tensor::of<int32_t>({8}, {2, 2, -2, 0, -1, 1, 0, 3});
  expect_matches_interpreter(text, *executable, {a, b});
}

TEST(LlvmCodegen, HalfAndBfloatRoundAfterEveryOperation) {
  std::string text = R"(
func @main(%a: f16[6], %b: f16[6], %c: bf16[6], %d: bf16[6]) -> (h: f16[6], g: bf16[6], k: f32[6]) {
  %s = add(%a, %b) : f16[6]
  %h = mul(%s, %a) : f16[6]
  %t = mul(%c, %d) : bf16[6]
  %g = sub(%t, %c) : bf16[6]
  %k = cast(%g) {to = f32} : f32[6]
  return %h, %g, %k
}
)";
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  std::vector<Tensor> inputs{ramp_tensor(DType::F16, {6}, 0.3333, -1), ramp_tensor(DType::F16, {6}, 1.7, 0.1),
                             ramp_tensor(DType::BF16, {6}, 0.77, -2), ramp_tensor(DType::BF16, {6}, 3.1, 0.01)};
  expect_matches_interpreter(text, *executable, inputs, /*rtol=*/0);
}

TEST(LlvmCodegen, OutputsThatAreInputsConstantsOrRepeatedAreCopied) {
  std::string text = R"(
const @k : f32[2] = [1.5, -2.5]
func @main(%x: f32[N, 2]) -> (same: f32[N, 2], twice: f32[N, 2], again: f32[N, 2], weights: f32[2]) {
  %k = const @k : f32[2]
  %y = add(%x, %k) : f32[N, 2]
  return %x, %y, %y, %k
}
)";
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  expect_matches_interpreter(text, *executable, {ramp_tensor(DType::F32, {3, 2}, 0.5, -1)});
}

TEST(LlvmCodegen, ConcurrentRunsOnOneExecutableAgree) {
  std::string text = mlp_text();
  auto executable = compile_text(text);
  ASSERT_TRUE(executable);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        Tensor x = ramp_tensor(DType::F32, {1 + (t + i) % 7, 6}, 0.05 * (t + 1), -0.5);
        auto reference_module = parse(text);
        auto expected = interpret(*reference_module->entry(), {x});
        auto actual = executable->run({x});
        if (!expected.ok() || !actual.ok() || !onnx::compare_tensors((*actual)[0], (*expected)[0], 1e-5, 1e-6).ok())
          ++failures[t];
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(LlvmCodegen, RunChecksTheInputs) {
  auto executable = compile_text(mlp_text());
  ASSERT_TRUE(executable);
  auto wrong_dtype = executable->run({Tensor(DType::F64, {2, 6})});
  ASSERT_FALSE(wrong_dtype.ok());
  EXPECT_THAT(wrong_dtype.error().str(), HasSubstr("input 'x' must be f32, got f64"));
  auto wrong_dim = executable->run({Tensor(DType::F32, {2, 7})});
  ASSERT_FALSE(wrong_dim.ok());
  EXPECT_THAT(wrong_dim.error().str(), HasSubstr("input 'x' must have dim 1 = 6"));
  auto wrong_count = executable->run({});
  ASSERT_FALSE(wrong_count.ok());
  EXPECT_THAT(wrong_count.error().str(), HasSubstr("takes 1 input(s), got 0"));
}

TEST(LlvmCodegen, OpsLeftOutsideKernelsAreRefusedByName) {
  auto module = parse(R"(
func @main(%x: f32[4]) -> (y: f32[4]) {
  %y = relu(%x) : f32[4]
  return %y
}
)");
  jit::CompileOptions options;
  options.passes = "infer-shapes";  // no fusion: relu stays in @main
  auto executable = jit::compile(std::move(module), options);
  ASSERT_FALSE(executable.ok());
  EXPECT_THAT(executable.error().str(), HasSubstr("op 'relu' producing %y is not inside a kernel"));
}

TEST(LlvmCodegen, AotHeaderTakesDimsAndTypedTensors) {
  llvmgen::ModelInterface interface;
  interface.prefix = "net_impl";
  interface.symbols = {"N"};
  interface.inputs = {{"input.1", DType::F32, {Dim::symbol("N"), 3}}};
  interface.outputs = {{"labels", DType::I64, {Dim::symbol("N")}}};
  llvmgen::AotOptions options;
  options.name = "net";
  std::string header = llvmgen::aot_header(interface, options, "net.onnx");
  EXPECT_THAT(header, HasSubstr("static inline tessel_status net_run(tessel_model* model, int64_t N, "
                                "const float* input_1, int64_t* labels)"));
  EXPECT_THAT(header, HasSubstr("extern const tessel_model_info net_info;"));
  EXPECT_THAT(header, HasSubstr("net_labels_numel(int64_t N) { return (int64_t)1 * (int64_t)(N); }"));
  EXPECT_THAT(header, HasSubstr(" * input  input.1: f32[N, 3]"));
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

/// |got - want| in units in the last place of `want` (f32).
double ulps(float got, float want) {
  if (got == want) return 0;
  float spacing = std::nextafter(std::fabs(want), INFINITY) - std::fabs(want);
  return std::fabs(double(got) - double(want)) / double(spacing);
}

TEST(LlvmCodegen, VectorExpAndTanhStayWithinTwoUlpsOfLibm) {
  // 4096 values over [-110, 110] (both clamps, the subnormal range, 0 and the tanh switch at 0.625), plus
  // the special values. The kernel vectorizes the whole axis, so every lane takes the inline polynomial.
  std::vector<float> x;
  for (int i = 0; i < 4096 - 8; ++i) x.push_back(-110.0f + 220.0f * float(i) / float(4096 - 9));
  for (float special : {0.0f, -0.0f, 1e-6f, -0.625f, 0.625f, INFINITY, -INFINITY, NAN}) x.push_back(special);
  auto executable = compile_text(R"(func @main(%x: f32[4096]) -> (e: f32[4096], t: f32[4096]) {
  %e = exp(%x) : f32[4096]
  %t = tanh(%x) : f32[4096]
  return %e, %t
}
)");
  ASSERT_TRUE(executable);
  auto out = executable->run({Tensor::of<float>({4096}, x)});
  ASSERT_TRUE(out.ok()) << out.error().str();
  for (size_t i = 0; i < x.size(); ++i) {
    float e = static_cast<float>((*out)[0].get_double(static_cast<int64_t>(i)));
    float t = static_cast<float>((*out)[1].get_double(static_cast<int64_t>(i)));
    float want_e = std::exp(x[i]), want_t = std::tanh(x[i]);
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(e) && std::isnan(t));
      continue;
    }
    // Below exp's normal range the result is flushed to 0 (an absolute error under 1.2e-38).
    if (want_e < 1.17549435e-38f) {
      EXPECT_LE(e, 1.2e-38f) << "exp(" << x[i] << ")";
    } else {
      EXPECT_LE(ulps(e, want_e), 2.0) << "exp(" << x[i] << ") = " << e << ", libm " << want_e;
    }
    EXPECT_LE(ulps(t, want_t), 2.0) << "tanh(" << x[i] << ") = " << t << ", libm " << want_t;
  }
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

TEST(LlvmCodegen, MatmulPacksLongRowsOfBWhenThereAreManyRows) {
  // B rows of 256 floats (1 KiB) are packed into column panels when A has at least 16 rows; fewer rows read
  // B directly (tests/lit/passes/lower-pack.tsl shows the branch). Both paths must match the interpreter.
  const std::string text = R"(func @main(%a: f32[N, 40], %b: f32[40, 256]) -> (c: f32[N, 256]) {
  %c = matmul(%a, %b) : f32[N, 256]
  return %c
}
)";
  jit::CompileOptions options;
  options.target = "x86-64-v4";
  auto executable = compile_text(text, options);
  ASSERT_TRUE(executable);
  for (int64_t rows : {3, 20})
    expect_matches_interpreter(
        text, *executable,
        {ramp_tensor(DType::F32, {rows, 40}, 0.25, -2), ramp_tensor(DType::F32, {40, 256}, 0.5, -3)});
}

}  // namespace
}  // namespace tessel
