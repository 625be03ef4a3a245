// Tests of the text form: exact printing, print(parse(print(m))) == print(m)
// for modules covering every construct, parse errors with their line:col, and a
// light fuzz (random and mutated inputs must give a module or an Error).
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Half.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

const Dim kN = Dim::symbol("N");

// Parses `text`, prints it and expects the same text back.
void expect_round_trip(const std::string& text) {
  auto parsed = parse_module(text, "t.tsl");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str() << "\n" << text;
  EXPECT_EQ(print_module(**parsed), text);
}

// Prints a built module and checks that the text round-trips; returns the text.
std::string round_trip(const Module& module) {
  std::string text = print_module(module);
  expect_round_trip(text);
  return text;
}

Value* add_const(Module& module, Function* function, const std::string& name, Tensor tensor) {
  TensorType type{tensor.dtype(), to_shape(tensor.shape())};
  std::string used = module.add_constant(name, std::move(tensor));
  Op* op = function->append(OpKind::Const, {}, {type}, {{"name", Attr(used)}});
  op->result()->set_name(used);
  return op->result();
}

TEST(TextFormPrint, PrintsTheDocumentedLayout) {
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", {DType::F32, {kN, 2}});
  Value* w = add_const(module, f, "w", Tensor::of<float>({2, 2}, {1, 2, 3, 4.5f}));
  Op* mm = f->append(OpKind::MatMul, {x, w}, {{DType::F32, {kN, 2}}}, {}, "dense");
  Op* relu = f->append(OpKind::Relu, {mm->result()}, {{DType::F32, {kN, 2}}});
  f->set_outputs({relu->result()}, {"y"});
  EXPECT_EQ(round_trip(module),
            "const @w : f32[2, 2] = [1.0, 2.0, 3.0, 4.5]\n"
            "\n"
            "func @main(%x: f32[N, 2]) -> (y: f32[N, 2]) {\n"
            "  %w = const @w : f32[2, 2]\n"
            "  %0 = matmul(%x, %w) : f32[N, 2] loc(\"dense\")\n"
            "  %1 = relu(%0) : f32[N, 2]\n"
            "  return %1\n"
            "}\n");
}

TEST(TextFormParse, ReadsTheDocumentedExample) {
  // 8*3*3*3 = 216 f32 elements = 864 bytes = 1728 hex digits.
  std::string source = "// line comments\nconst @w : f32[8, 3, 3, 3] = hex\"" + std::string(1728, '0') + "\"\n" +
                       R"(
func @main(%x: f32[N, 3, 32, 32], %k: i64[]) -> (probs: f32[N, 4, 16, 16], idx: i64[]) {
  %w = const @w : f32[8, 3, 3, 3]
  %0 = conv(%x, %w, none) {pads = [1, 1, 1, 1], strides = [2, 2]} : f32[N, 8, 16, 16] loc("conv1")
  %1, %2 = split(%0) {axis = 1, sizes = [4, 4]} : f32[N, 4, 16, 16], f32[N, 4, 16, 16]
  %3 = reshape(%1) {shape = [N, 4*16*16]} : f32[N, 1024]  // a trailing comment
  return %2, %k
}
)";
  auto parsed = parse_module(source, "example.tsl");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  const Module& module = **parsed;
  ASSERT_NE(module.constant("w"), nullptr);
  EXPECT_EQ(module.constant("w")->numel(), 216);
  Function* f = module.function("main");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->num_ops(), 4u);
  auto ops = f->ops();
  EXPECT_EQ(ops[1]->kind(), OpKind::Conv);
  EXPECT_EQ(ops[1]->operand(2), nullptr);
  EXPECT_EQ(ops[1]->num_operands(), 3u);
  EXPECT_EQ(ops[1]->location(), "conv1");
  EXPECT_EQ(ops[1]->attrs().at("pads").as_ints(), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(ops[2]->num_results(), 2u);
  EXPECT_EQ(ops[2]->result(1)->name(), "2");
  EXPECT_EQ(ops[2]->attrs().at("sizes").as_dims(), (Shape{4, 4}));
  // 4*16*16 = 1024, folded by Dim arithmetic.
  EXPECT_EQ(ops[3]->attrs().at("shape").as_dims(), (Shape{kN, 1024}));
  EXPECT_EQ(f->inputs()[1]->type().str(), "i64[]");
  EXPECT_EQ(f->output_names(), (std::vector<std::string>{"probs", "idx"}));
  EXPECT_EQ(f->outputs()[1], f->inputs()[1]);
  expect_round_trip(print_module(module));
}

TEST(TextFormRoundTrip, SymbolicDims) {
  Dim seq = Dim::symbol("seq");
  Shape shape = {
      kN,      2 * kN + 1, (kN + 1).floordiv(2),       kN.mod(4),     3 * (kN + 1).floordiv(2),   -kN + 1, kN * seq,
      kN * kN, kN - 1,     (kN * seq + 7).floordiv(8), kN.mod(4) * 2, (kN.floordiv(2) + 1).mod(3)};
  Module module;
  Function* f = module.add_function("main");
  Value* x = f->add_input("x", {DType::F32, shape});
  Op* neg = f->append(OpKind::Neg, {x}, {{DType::F32, shape}});
  Op* reshape = f->append(OpKind::Reshape, {neg->result()}, {{DType::F32, shape}}, {{"shape", Attr(shape)}});
  f->set_outputs({reshape->result()}, {"out"});
  std::string text = round_trip(module);
  EXPECT_THAT(text, HasSubstr("%x: f32[N, 2*N+1, (N+1)/2, N%4, 3*((N+1)/2), -N+1, N*seq, N*N, N-1, (N*seq+7)/8, "
                              "2*(N%4), (N/2+1)%3]"));
  auto parsed = parse_module(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  Function* g = (*parsed)->entry();
  EXPECT_EQ(g->inputs()[0]->type().shape, shape);
  EXPECT_EQ(g->ops()[1]->attrs().at("shape").as_dims(), shape);
}

TEST(TextFormParse, DimExpressionsFollowPrecedenceAndFloorSemantics) {
  auto parsed = parse_module(
      "func @f(%x: f32[2+3*4, (2+3)*4, 7/2, -7/2, -7%3, N*2/4, -(N-1), N-2-3, 10-N*2+N, (N)]) -> () {\n  return\n}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  const Shape& shape = (*parsed)->entry()->inputs()[0]->type().shape;
  // 2+3*4 = 14; (2+3)*4 = 20; floor(7/2) = 3; floor(-7/2) = -4; -7 mod 3 = 2 (floor mod);
  // N*2/4 = (2*N)/4; -(N-1) = -N+1; N-2-3 = N-5; 10-2N+N = -N+10.
  EXPECT_EQ(shape, (Shape{14, 20, 3, -4, 2, (2 * kN).floordiv(4), 1 - kN, kN - 5, 10 - kN, kN}));
}

TEST(TextFormRoundTrip, EveryAttributeKind) {
  Module module;
  Function* f = module.add_function("main");
  TensorType t{DType::F32, {2, 3}};
  Value* x = f->add_input("x", t);
  Value* b = f->add_input("b", {DType::F32, {3}});
  std::vector<Op*> ops = {
      f->append(OpKind::Conv, {x, x, nullptr}, {t},
                {{"strides", Attr(std::vector<int64_t>{2, -1})}, {"pads", Attr(std::vector<int64_t>{})}}),
      f->append(OpKind::Gemm, {x, x, b}, {t}, {{"alpha", Attr(0.5)}, {"beta", Attr(1e-300)}, {"trans_b", 1}}),
      f->append(OpKind::Cast, {x}, {{DType::BF16, {2, 3}}}, {{"to", Attr(DType::BF16)}}),
      f->append(OpKind::Clip, {x}, {t},
                {{"min", Attr(-std::numeric_limits<double>::infinity())},
                 {"max", Attr(std::numeric_limits<double>::infinity())}}),
      f->append(OpKind::LeakyRelu, {x}, {t}, {{"alpha", Attr(std::nan(""))}}),
      f->append(
          OpKind::ShapeOf, {x}, {{DType::I64, {2}}},
          {{"start", Attr(std::numeric_limits<int64_t>::min())}, {"end", Attr(std::numeric_limits<int64_t>::max())}}),
      f->append(OpKind::Pad, {x}, {t},
                {{"pads", Attr(std::vector<int64_t>{0, 0, 0, 0})},
                 {"mode", Attr("quote\" back\\ nl\n tab\t bell\x07 utf8 \xc3\xa9")},
                 {"value", Attr(-0.0)}}),
      f->append(OpKind::Lstm, {x, x, x, nullptr, nullptr, b, nullptr}, {t, t, t},
                {{"hidden_size", 3},
                 {"activations", Attr(std::vector<std::string>{"Sigmoid", "", "a\"b"})},
                 {"activation_alpha", Attr(std::vector<double>{0.5, -1.0, 3.0, 1e-7})},
                 {"activation_beta", Attr(std::vector<double>{})},
                 {"direction", Attr("forward")}}),
      f->append(OpKind::Expand, {x}, {t}, {{"shape", Attr(Shape{kN, 2 * kN, 0})}}),
      f->append(OpKind::Split, {x}, {t, t}, {{"axis", 0}, {"sizes", Attr(Shape{})}}),
  };
  f->set_outputs({ops[0]->result(), ops[7]->result(2)}, {"a", "b"});
  std::string text = round_trip(module);
  EXPECT_THAT(text, HasSubstr("conv(%x, %x, none) {pads = [], strides = [2, -1]} : f32[2, 3]"));
  EXPECT_THAT(text, HasSubstr("{alpha = 0.5, beta = 1e-300, trans_b = 1}"));
  EXPECT_THAT(text, HasSubstr("cast(%x) {to = bf16} : bf16[2, 3]"));
  EXPECT_THAT(text, HasSubstr("{max = inf, min = -inf}"));
  EXPECT_THAT(text, HasSubstr("{alpha = nan}"));
  EXPECT_THAT(text, HasSubstr("{end = 9223372036854775807, start = -9223372036854775808}"));
  EXPECT_THAT(text, HasSubstr(R"(mode = "quote\" back\\ nl\n tab\x09 bell\x07 utf8 é")"));
  EXPECT_THAT(text, HasSubstr("value = -0.0"));
  EXPECT_THAT(text, HasSubstr(R"(activations = ["Sigmoid", "", "a\"b"])"));
  EXPECT_THAT(text, HasSubstr("%7, %8, %9 = lstm(%x, %x, %x, none, none, %b, none)"));
  EXPECT_THAT(text, HasSubstr("{shape = [N, 2*N, 0]}"));
  EXPECT_THAT(text, HasSubstr("split(%x) {axis = 0, sizes = []} : f32[2, 3], f32[2, 3]"));

  auto parsed = parse_module(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  auto parsed_ops = (*parsed)->entry()->ops();
  ASSERT_EQ(parsed_ops.size(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(parsed_ops[i]->kind(), ops[i]->kind());
    EXPECT_EQ(parsed_ops[i]->attrs(), ops[i]->attrs()) << "op " << i;
    EXPECT_EQ(parsed_ops[i]->num_operands(), ops[i]->num_operands()) << "op " << i;
  }
  // -0.0 keeps its sign.
  EXPECT_TRUE(std::signbit(parsed_ops[6]->attrs().at("value").as_float()));
}

TEST(TextFormParse, CoercesAttributeValuesToTheSchemaKind) {
  auto parsed = parse_module(R"(
func @f(%x: f32[2]) -> (y: f32[2]) {
  %0 = leaky_relu(%x) {alpha = 1} : f32[2]
  %1 = lstm(%x, %x, %x) {activation_alpha = [1, -2], activations = [], hidden_size = 2} : f32[2]
  %2 = reshape(%1) {shape = [2, -1]} : f32[2]
  return %2
}
)");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  auto ops = (*parsed)->entry()->ops();
  EXPECT_EQ(ops[0]->attrs().at("alpha"), Attr(1.0));
  EXPECT_EQ(ops[1]->attrs().at("activation_alpha"), Attr(std::vector<double>{1.0, -2.0}));
  EXPECT_EQ(ops[1]->attrs().at("activations"), Attr(std::vector<std::string>{}));
  EXPECT_EQ(ops[2]->attrs().at("shape"), Attr(Shape{2, -1}));
}

TEST(TextFormRoundTrip, QuotedNamesAndLocations) {
  Module module;
  Function* f = module.add_function("my func");
  Value* x = f->add_input("in/put \"0\"", {DType::F32, {2}});
  Value* y = f->add_input("x.1-a$", {DType::F32, {2}});
  Op* add = f->append(OpKind::Add, {x, y}, {{DType::F32, {2}}}, {}, "node \"a\"\\b\nc");
  add->result()->set_name("back\\slash");
  Op* relu = f->append(OpKind::Relu, {add->result()}, {{DType::F32, {2}}});
  relu->result()->set_name("17");
  Op* anonymous = f->append(OpKind::Neg, {relu->result()}, {{DType::F32, {2}}});
  Op* newline = f->append(OpKind::Abs, {anonymous->result()}, {{DType::F32, {2}}});
  newline->result()->set_name("line\nbreak");
  f->set_outputs({anonymous->result(), relu->result()}, {"1st out", "second.out"});
  Value* c = add_const(module, f, "weird name", Tensor::of<float>({1}, {2}));
  (void)c;
  std::string text = round_trip(module);
  EXPECT_THAT(text, HasSubstr(R"(func @"my func"(%"in/put \"0\"": f32[2], %x.1-a$: f32[2]))"));
  EXPECT_THAT(text, HasSubstr(R"(-> ("1st out": f32[2], second.out: f32[2]))"));
  EXPECT_THAT(text, HasSubstr(R"(%"back\\slash" = add(%"in/put \"0\"", %x.1-a$) : f32[2] loc("node \"a\"\\b\nc"))"));
  EXPECT_THAT(text, HasSubstr(R"(%"weird name" = const @"weird name" : f32[1])"));
  // The anonymous neg takes the first free number ("17" is taken by name, 0 is free).
  EXPECT_THAT(text, HasSubstr("%0 = neg(%17)"));
  auto parsed = parse_module(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  Function* g = (*parsed)->function("my func");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->inputs()[0]->name(), "in/put \"0\"");
  EXPECT_EQ(g->ops()[0]->location(), "node \"a\"\\b\nc");
  EXPECT_EQ(g->ops()[2]->result()->name(), "0");
  EXPECT_EQ(g->output_names()[0], "1st out");
  EXPECT_EQ(g->ops()[3]->result()->name(), "line\nbreak");
}

TEST(TextFormRoundTrip, MultipleFunctionsAndEmptyOnes) {
  Module module;
  Function* a = module.add_function("a");
  Value* x = a->add_input("x", {DType::I32, {}});
  Op* abs = a->append(OpKind::Abs, {x}, {{DType::I32, {}}});
  a->set_outputs({abs->result()}, {"y"});
  module.add_function("empty");
  Function* c = module.add_function("c");
  Value* z = c->add_input("z", {DType::Bool, {0, kN}});
  c->set_outputs({z, z}, {"p", "q"});
  std::string text = round_trip(module);
  EXPECT_EQ(text,
            "func @a(%x: i32[]) -> (y: i32[]) {\n  %0 = abs(%x) : i32[]\n  return %0\n}\n"
            "\n"
            "func @empty() -> () {\n  return\n}\n"
            "\n"
            "func @c(%z: bool[0, N]) -> (p: bool[0, N], q: bool[0, N]) {\n  return %z, %z\n}\n");
}

TEST(TextFormRoundTrip, MultiResultOpsAndAbsentOperands) {
  Module module;
  Function* f = module.add_function("main");
  TensorType t{DType::F16, {kN, 8, 4, 4}};
  Value* x = f->add_input("x", t);
  Op* pool =
      f->append(OpKind::MaxPool, {x}, {t, {DType::I64, {kN, 8, 4, 4}}}, {{"kernel", Attr(std::vector<int64_t>{1, 1})}});
  Op* norm = f->append(OpKind::LayerNorm, {pool->result(0), nullptr, nullptr}, {t, t, t});
  f->set_outputs({norm->result(2), pool->result(1)}, {"rstd", "indices"});
  std::string text = round_trip(module);
  EXPECT_THAT(text, HasSubstr("%0, %1 = max_pool(%x) {kernel = [1, 1]} : f16[N, 8, 4, 4], i64[N, 8, 4, 4]"));
  EXPECT_THAT(text, HasSubstr("%2, %3, %4 = layer_norm(%0, none, none) : f16[N, 8, 4, 4], f16[N, 8, 4, 4], "
                              "f16[N, 8, 4, 4]"));
  EXPECT_THAT(text, HasSubstr("return %4, %1"));
}

// ---- Constants ----------------------------------------------------------------------------------

template <typename T>
Tensor raw_tensor(DType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  Tensor tensor(dtype, std::move(shape));
  std::memcpy(tensor.raw_data(), values.data(), values.size() * sizeof(T));
  return tensor;
}

// Prints a one-constant module, checks the round trip and that the parsed data is bit-identical.
std::string constant_line(const Tensor& tensor, const PrintOptions& options = {}) {
  Module module;
  module.add_constant("c", tensor);
  std::string text = print_module(module, options);
  if (options.elide_constants_above < 0) {
    auto parsed = parse_module(text);
    EXPECT_TRUE(parsed.ok()) << parsed.error().str();
    if (parsed.ok()) {
      EXPECT_EQ(print_module(**parsed), text);
      const Tensor* back = (*parsed)->constant("c");
      EXPECT_TRUE(back && back->bitwise_equal(tensor)) << text;
    }
  }
  return text;
}

TEST(TextFormConstants, FloatsPrintShortestRoundTripText) {
  float f32_nan = std::numeric_limits<float>::quiet_NaN();
  float f32_inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(
      constant_line(Tensor::of<float>({8}, {0.1f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                            std::numeric_limits<float>::max(), f32_inf, -f32_inf, f32_nan, 1.0f / 3})),
      "const @c : f32[8] = [0.1, -0.0, 1e-45, 3.4028235e+38, inf, -inf, nan, 0.33333334]\n");
  EXPECT_EQ(constant_line(Tensor::of<double>({5}, {0.1, -2.5, 1e300, std::numeric_limits<double>::denorm_min(),
                                                   std::numeric_limits<double>::quiet_NaN()})),
            "const @c : f64[5] = [0.1, -2.5, 1e+300, 5e-324, nan]\n");
  // f16 bits: 0x2e66 = 1638/16384 (nearest to 0.1); 0x3555 = 1365/4096 = 0.333251953125, and 0.3333 is the
  // shortest decimal rounding back to it; 0x7bff = 65504, and 65500 rounds to it (spacing 32 there);
  // 0x0001 = 2^-24 = 5.96e-8, reached from 6e-08; 0x8000 = -0; 0xfc00 = -inf; 0x7e00 = NaN.
  EXPECT_EQ(
      constant_line(raw_tensor<uint16_t>(DType::F16, {7}, {0x2e66, 0x3555, 0x7bff, 0x0001, 0x8000, 0xfc00, 0x7e00})),
      "const @c : f16[7] = [0.1, 0.3333, 65500.0, 6e-08, -0.0, -inf, nan]\n");
  // bf16 bits: 0x3eab = 171/512 = 0.333984375 (shortest: 0.334); 0x3f80 = 1; 0xc000 = -2; 0x7fc0 = NaN.
  EXPECT_EQ(constant_line(raw_tensor<uint16_t>(DType::BF16, {4}, {0x3eab, 0x3f80, 0xc000, 0x7fc0})),
            "const @c : bf16[4] = [0.334, 1.0, -2.0, nan]\n");
}

TEST(TextFormConstants, IntegersAndBoolsAreExact) {
  EXPECT_EQ(constant_line(Tensor::of<int8_t>({2}, {-128, 127})), "const @c : i8[2] = [-128, 127]\n");
  EXPECT_EQ(constant_line(Tensor::of<int16_t>({2}, {-32768, 32767})), "const @c : i16[2] = [-32768, 32767]\n");
  EXPECT_EQ(constant_line(Tensor::of<int32_t>({2}, {std::numeric_limits<int32_t>::min(), 7})),
            "const @c : i32[2] = [-2147483648, 7]\n");
  EXPECT_EQ(constant_line(
                Tensor::of<int64_t>({2}, {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})),
            "const @c : i64[2] = [-9223372036854775808, 9223372036854775807]\n");
  EXPECT_EQ(constant_line(Tensor::of<uint8_t>({2}, {0, 255})), "const @c : u8[2] = [0, 255]\n");
  EXPECT_EQ(constant_line(Tensor::of<uint16_t>({1}, {65535})), "const @c : u16[1] = [65535]\n");
  EXPECT_EQ(constant_line(Tensor::of<uint32_t>({1}, {4294967295u})), "const @c : u32[1] = [4294967295]\n");
  EXPECT_EQ(constant_line(Tensor::of<uint64_t>({1}, {18446744073709551615ull})),
            "const @c : u64[1] = [18446744073709551615]\n");
  EXPECT_EQ(constant_line(Tensor::of<bool>({2, 2}, {true, false, false, true})),
            "const @c : bool[2, 2] = [true, false, false, true]\n");
  EXPECT_EQ(constant_line(Tensor::of<float>({}, {2.5f})), "const @c : f32[] = [2.5]\n");
  EXPECT_EQ(constant_line(Tensor(DType::I64, {0, 3})), "const @c : i64[0, 3] = []\n");
}

TEST(TextFormConstants, LargeConstantsPrintAsLittleEndianHex) {
  // 65 > 64 elements: hex. 1.0f is 0x3f800000, little-endian bytes 00 00 80 3f.
  std::vector<float> ones(65, 1.0f);
  ones[64] = std::numeric_limits<float>::quiet_NaN();
  std::string text = constant_line(Tensor::of<float>({5, 13}, ones));
  EXPECT_THAT(text, HasSubstr("const @c : f32[5, 13] = hex\"0000803f0000803f"));
  EXPECT_THAT(text, HasSubstr("0000803f0000c07f\"\n"));
  EXPECT_EQ(text.size(), std::string("const @c : f32[5, 13] = hex\"\"\n").size() + 65 * 8);
  // 64 elements still print as decimals.
  EXPECT_THAT(constant_line(Tensor::of<float>({64}, std::vector<float>(64, 1.0f))), HasSubstr("= [1.0, 1.0"));

  std::vector<int64_t> counting(100);
  for (int64_t i = 0; i < 100; ++i) counting[i] = i - 50;
  // -50 as i64 little-endian: ce ff ff ff ff ff ff ff.
  EXPECT_THAT(constant_line(Tensor::of<int64_t>({100}, counting)), HasSubstr("hex\"ceffffffffffffffcfffffff"));
  std::vector<uint16_t> halves(70, 0x3c00);  // 1.0 in f16
  EXPECT_THAT(constant_line(raw_tensor<uint16_t>(DType::F16, {70}, halves)), HasSubstr("hex\"003c003c"));
  std::vector<bool> bools(65, true);
  EXPECT_THAT(constant_line(Tensor::of<bool>({65}, bools)), HasSubstr("hex\"010101"));
}

TEST(TextFormConstants, ParserAcceptsEitherFormForAnySize) {
  auto parsed = parse_module(
      "const @small : i16[2] = hex\"0100ffff\"\n"
      "const @half : f16[2] = [0.1, 1]\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  // 01 00 -> 1, ff ff -> -1.
  EXPECT_EQ((*parsed)->constant("small")->get_int(0), 1);
  EXPECT_EQ((*parsed)->constant("small")->get_int(1), -1);
  EXPECT_EQ((*parsed)->constant("half")->data<uint16_t>()[0], 0x2e66);
  EXPECT_EQ((*parsed)->constant("half")->data<uint16_t>()[1], 0x3c00);
  EXPECT_EQ(print_module(**parsed),
            "const @half : f16[2] = [0.1, 1.0]\n"
            "const @small : i16[2] = [1, -1]\n");
}

TEST(TextFormConstants, ElidedPrintingShowsAHash) {
  Tensor big = Tensor::of<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Module module;
  module.add_constant("big", big);
  module.add_constant("small", Tensor::of<float>({2}, {1, 2}));
  std::string text = print_module(module, {.elide_constants_above = 2});
  EXPECT_EQ(text, fmt::format("const @big : f32[2, 3] = elided(hash = \"{:016x}\")\n"
                              "const @small : f32[2] = [1.0, 2.0]\n",
                              big.content_hash()));
  auto parsed = parse_module(text, "dump.tsl");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().location, "dump.tsl:1:26");
  EXPECT_THAT(parsed.error().message, HasSubstr("constant @big"));
  EXPECT_THAT(parsed.error().message, HasSubstr("elided"));
  EXPECT_THAT(parsed.error().hint, HasSubstr("tessel dump --full-constants"));
}

}  // namespace
}  // namespace tessel
