// Unit tests of the MLIR exporter's API (codegen/mlir/MlirExport.h): the text it
// writes for exact literals, symbolic dims and the accumulation option, and the
// errors it returns. Whether mlir-opt accepts the text, and whether the lowered
// code computes what the interpreter does, is checked by tests/lit/mlir.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen/mlir/MlirExport.h"
#include "ir/Parser.h"

namespace tessel::mlir {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string export_text(const std::string& tsl, const MlirExportOptions& options = {}) {
  auto module = parse_module(tsl, "t.tsl");
  EXPECT_TRUE(module.ok()) << module.error().str();
  if (!module.ok()) return {};
  auto text = export_mlir(**module, options);
  EXPECT_TRUE(text.ok()) << text.error().str();
  return text.ok() ? *text : std::string();
}

Error export_error(const std::string& tsl) {
  auto module = parse_module(tsl, "t.tsl");
  EXPECT_TRUE(module.ok()) << module.error().str();
  auto text = export_mlir(**module);
  EXPECT_FALSE(text.ok());
  return text.ok() ? Error{} : text.error();
}

constexpr const char* kMatmul = R"(
func @main(%a: f16[N, 4], %b: f16[4, 3]) -> (y: f16[N, 3]) {
  %y = matmul(%a, %b) : f16[N, 3]
  return %y
}
)";

TEST(MlirExport, MatmulAccumulatesInF64ByDefault) {
  std::string text = export_text(kMatmul);
  EXPECT_THAT(text, HasSubstr("func.func @main(%a: tensor<?x4xf16>, %b: tensor<4x3xf16>) -> (tensor<?x3xf16> "
                              "{tessel.name = \"y\"})"));
  EXPECT_THAT(text, HasSubstr("linalg.matmul ins(%a, %b : tensor<?x4xf16>, tensor<4x3xf16>)"));
  EXPECT_THAT(text, HasSubstr("-> tensor<?x3xf64>"));
  // The interpreter rounds the f64 sum to f32, then to f16: two truncations.
  EXPECT_THAT(text, HasSubstr("arith.truncf"));
  EXPECT_THAT(text, HasSubstr(": f64 to f32"));
  EXPECT_THAT(text, HasSubstr(": f32 to f16"));
}

TEST(MlirExport, ElementTypeAccumulationOption) {
  MlirExportOptions options;
  options.f64_accumulation = false;
  std::string text = export_text(kMatmul, options);
  // f16 accumulates in f32, and nothing is f64.
  EXPECT_THAT(text, HasSubstr("-> tensor<?x3xf32>"));
  EXPECT_THAT(text, Not(HasSubstr("f64")));
}

TEST(MlirExport, SymbolsComeFromInputDimsOrLinearOnes) {
  // N is only available as 2*N+1: it is solved as (dim - 1) floordiv 2.
  std::string text = export_text(R"(
func @main(%x: f32[2*N+1], %y: f32[N, 3]) -> (y: f32[N, 3]) {
  %y2 = neg(%y) : f32[N, 3]
  return %y2
}
)");
  EXPECT_THAT(text, HasSubstr("tensor.dim %y, %c0 : tensor<?x3xf32>"));
  std::string solved = export_text(R"(
func @main(%x: f32[2*N+1]) -> (y: f32[N]) {
  %0 = slice(%x) {starts = [1], ends = [9223372036854775807], steps = [2]} : f32[N]
  return %0
}
)");
  EXPECT_THAT(solved, HasSubstr("tensor.dim %x, %c0 : tensor<?xf32>"));
  EXPECT_THAT(solved, HasSubstr("arith.floordivsi"));
}

TEST(MlirExport, UnboundSymbolIsAnError) {
  Error error = export_error(R"(
func @main(%x: f32[N*M]) -> (y: f32[N*M]) {
  %0 = neg(%x) : f32[N*M]
  %1 = reshape(%0) {shape = [N, M]} : f32[N, M]
  %2 = reshape(%1) {shape = [N*M]} : f32[N*M]
  return %2
}
)");
  EXPECT_THAT(error.str(), HasSubstr("symbol 'N' of @main cannot be recovered from the input shapes"));
}

TEST(MlirExport, UnsupportedOpsNameTheOp) {
  Error error = export_error(R"(
func @main(%x: f32[2], %i: i64[2], %u: f32[2]) -> (y: f32[2]) {
  %y = scatter_elements(%x, %i, %u) : f32[2] loc("scatter node")
  return %y
}
)");
  EXPECT_EQ(error.str(),
            "@main: MLIR export does not support op 'scatter_elements' (%y, node 'scatter node'); decompose it first");
}

TEST(MlirExport, ConstantsAreExact) {
  std::string text = export_text(R"(
const @c : f32[4] = [0.1, -0.0, inf, nan]
const @h : f16[2] = [0.1, 65504]
const @b : bool[3] = [true, false, true]
const @u : u64[2] = [18446744073709551615, 7]
const @z : i32[0, 2] = []
const @s : i8[3] = [5, 5, 5]
func @main() -> (c: f32[4], h: f16[2], b: bool[3], u: u64[2], z: i32[0, 2], s: i8[3]) {
  %c = const @c : f32[4]
  %h = const @h : f16[2]
  %b = const @b : bool[3]
  %u = const @u : u64[2]
  %z = const @z : i32[0, 2]
  %s = const @s : i8[3]
  return %c, %h, %b, %u, %z, %s
}
)");
  // f32 0.1 prints as the exact value of the nearest float; inf and NaN as bit patterns.
  EXPECT_THAT(text, HasSubstr("dense<[0.10000000149011612, -0.0, 0x7F800000, 0x7FC00000]> : tensor<4xf32>"));
  EXPECT_THAT(text, HasSubstr("dense<[0.0999755859375, 65504.0]> : tensor<2xf16>"));
  EXPECT_THAT(text, HasSubstr("dense<[true, false, true]> : tensor<3xi1>"));
  EXPECT_THAT(text, HasSubstr("dense<[18446744073709551615, 7]> : tensor<2xi64>"));
  EXPECT_THAT(text, HasSubstr("dense<> : tensor<0x2xi32>"));
  EXPECT_THAT(text, HasSubstr("dense<5> : tensor<3xi8>"));
}

TEST(MlirExport, LargeConstantsAreHex) {
  std::string values;
  for (int i = 0; i < 65; ++i) values += (i ? ", " : "") + std::string("1.0");
  std::string text = export_text("const @w : f32[65] = [" + values + "]\n" + R"(
func @main(%x: f32[65]) -> (y: f32[65]) {
  %w = const @w : f32[65]
  %y = add(%x, %w) : f32[65]
  return %y
}
)");
  // A splat stays a splat; 1.0f is 0x3F800000, little-endian bytes 0000803F.
  EXPECT_THAT(text, HasSubstr("dense<1.0> : tensor<65xf32>"));
  std::string counting;
  for (int i = 0; i < 65; ++i) counting += (i ? ", " : "") + std::to_string(i);
  std::string hex = export_text("const @w : i16[65] = [" + counting + "]\n" + R"(
func @main(%x: i16[65]) -> (y: i16[65]) {
  %w = const @w : i16[65]
  %y = add(%x, %w) : i16[65]
  return %y
}
)");
  EXPECT_THAT(hex, HasSubstr("dense<\"0x0000010002000300"));
}

TEST(MlirExport, QuotedNames) {
  std::string text = export_text(R"(
func @"no-op"(%"x y": f32[2]) -> ("total sum": f32[2]) {
  return %"x y"
}
)");
  EXPECT_THAT(text,
              HasSubstr("func.func @\"no-op\"(%x_y: tensor<2xf32>) -> (tensor<2xf32> {tessel.name = \"total sum\"})"));
  EXPECT_THAT(text, HasSubstr("return %x_y : tensor<2xf32>"));
}

}  // namespace
}  // namespace tessel::mlir
