#include "ir/Dim.h"

#include <gtest/gtest.h>

namespace tessel {
namespace {

const Dim N = Dim::symbol("N");
const Dim S = Dim::symbol("seq");

TEST(DimTest, ConstantsAndSymbols) {
  EXPECT_TRUE(Dim(4).is_const());
  EXPECT_EQ(Dim(4).as_const(), 4);
  EXPECT_FALSE(N.is_const());
  EXPECT_EQ(N.as_symbol(), "N");
  EXPECT_EQ(Dim(0).str(), "0");
  EXPECT_EQ(Dim(-3).str(), "-3");
}

TEST(DimTest, CanonicalFormMakesCommutedProductsEqual) {
  EXPECT_EQ(N * 32, Dim(32) * N);
  EXPECT_EQ(N * S, S * N);
  EXPECT_EQ((N + 1) * 2, N * 2 + 2);
  EXPECT_EQ(N + N, N * 2);
  EXPECT_EQ(N - N, Dim(0));
  EXPECT_NE(N, S);
}

TEST(DimTest, Printing) {
  EXPECT_EQ((N * 32).str(), "32*N");
  EXPECT_EQ((N * 2 + 1).str(), "2*N+1");
  EXPECT_EQ((Dim(3) - N).str(), "-N+3");
  EXPECT_EQ((N * S).str(), "N*seq");
  EXPECT_EQ((N + 1).floordiv(2).str(), "(N+1)/2");
  EXPECT_EQ(((N + 1).floordiv(2) * 3).str(), "3*((N+1)/2)");
  EXPECT_EQ(N.mod(4).str(), "N%4");
}

TEST(DimTest, FloorDivAndModSimplify) {
  EXPECT_EQ((N * 4 + 2).floordiv(2), N * 2 + 1);
  EXPECT_EQ((N * 4 + 3).floordiv(2), N * 2 + 1);  // (4N+3)//2 = 2N + 3//2
  EXPECT_EQ((N * 4 + 3).mod(2), Dim(1));
  EXPECT_EQ(Dim(-7).floordiv(2), Dim(-4));
  EXPECT_EQ(Dim(-7).mod(2), Dim(1));
  EXPECT_EQ(N.floordiv(1), N);
}

TEST(DimTest, ExactDivision) {
  EXPECT_EQ((N * 12).divide_exact(12), N);
  EXPECT_EQ((N * S * 4).divide_exact(S), N * 4);
  EXPECT_EQ((N * 6 + 12).divide_exact(6), N + 2);
  EXPECT_FALSE((N * 6 + 1).divide_exact(6).has_value());
  EXPECT_FALSE(N.divide_exact(S).has_value());
  EXPECT_EQ((N + 1).divide_exact(N + 1), Dim(1));
}

TEST(DimTest, Evaluate) {
  SymbolEnv env{{"N", 5}, {"seq", 7}};
  EXPECT_EQ((N * S + 1).evaluate(env), 36);
  EXPECT_EQ((N + 1).floordiv(2).evaluate(env), 3);
  EXPECT_EQ(N.mod(3).evaluate(env), 2);
  EXPECT_FALSE(Dim::symbol("M").evaluate(env).has_value());
}

TEST(DimTest, ShapeHelpers) {
  Shape shape{N, 3, 4};
  EXPECT_EQ(shape_str(shape), "[N, 3, 4]");
  EXPECT_EQ(shape_numel(shape), N * 12);
  EXPECT_FALSE(static_shape(shape).has_value());
  EXPECT_EQ(static_shape(Shape{2, 3}), (std::vector<int64_t>{2, 3}));
}

}  // namespace
}  // namespace tessel
