// simplify_div_mod: divisions of index expressions split by the enclosing loops' ranges, and left alone
// where the ranges do not prove the split (it must never change a value: checked by the evaluator too).
#include <gtest/gtest.h>

#include "ir/loop/Evaluator.h"
#include "ir/loop/RangeSimplify.h"
#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"

namespace tessel::loop {
namespace {

/// The kernel text after simplify_div_mod; both kernels must store the same values for w = 0, 1, 2, ...
std::string rewritten(const char* text, int64_t size) {
  auto k = parse_kernel(text);
  EXPECT_TRUE(k.ok()) << k.error().str();
  if (!k.ok()) return "";
  Kernel out = *k;
  out.body = simplify(simplify_div_mod(k->body));
  std::vector<float> ramp_values(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) ramp_values[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor w = Tensor::of<float>({size}, ramp_values);
  auto before = run_kernel(*k, {w}), after = run_kernel(out, {w});
  EXPECT_TRUE(before.ok() && after.ok());
  if (before.ok() && after.ok()) {
    EXPECT_EQ(before->at(0).to_doubles(), after->at(0).to_doubles());
  }
  return print(out);
}

TEST(RangeSimplify, SplitsABlockedChannelIndex) {
  // oc = 32*o + 16*i + v with i in [0, 2), v in [0, 16): oc / 32 = o, oc % 32 = 16*i + v.
  std::string out = rewritten(R"(kernel k(in w: f32[64], out y: f32[64]) {
  for (o, 0, 2) {
    for (i, 0, 2) {
      for (v, 0, 16) {
        y[(((o * 32) + (i * 16)) + v)] = w[((((((o * 32) + (i * 16)) + v) / 32) * 32) + ((((o * 32) + (i * 16)) + v) % 32))];
      }
    }
  }
}
)",
                              64);
  EXPECT_NE(out.find("w[((o * 32) + ((i * 16) + v))]"), std::string::npos) << out;
  EXPECT_EQ(out.find('/'), std::string::npos) << out;
  EXPECT_EQ(out.find('%'), std::string::npos) << out;
}

TEST(RangeSimplify, KeepsDivisionsTheRangesDoNotProve) {
  // 16*i + v may reach 32 + 16 (i in [0, 3)), and v reaches 16, so no divisor of 32 splits it either; the
  // symbolic loop has no upper bound; k may be negative.
  const char* text = R"(kernel k(in w: f32[N], out y: f32[96]) {
  for (i, 0, 3) {
    for (v, 0, 17) {
      y[((i * 16) + v)] = w[((((i * 16) + v) / 32) + ((((i * 16) + v) % 32) * 2))];
    }
  }
  for (n, 0, N) {
    y[(n % 4)] = w[(n / 4)];
  }
  for (k, -2, 4) {
    y[(k + 2)] = w[((k + 2) - ((k / 4) * 4))];
  }
}
)";
  std::string out = rewritten(text, 96);
  EXPECT_NE(out.find("(((i * 16) + v) / 32)"), std::string::npos) << out;
  EXPECT_NE(out.find("(n % 4)"), std::string::npos) << out;
  EXPECT_NE(out.find("(k / 4)"), std::string::npos) << out;
}

TEST(RangeSimplify, SplitsByADivisorWhenNoExactSplitExists) {
  // oc = 16*o + v (a 16-lane vector over 32-channel weight blocks, o odd or even): no exact split by 32,
  // but v stays below 16, which divides 32: oc / 32 = (16*o) / 32 and oc % 32 = (16*o) % 32 + v -- the
  // quotient no longer depends on the lane.
  std::string out = rewritten(R"(kernel k(in w: f32[64], out y: f32[64]) {
  for (o, 0, 4) {
    for (v, 0, 16) {
      y[((o * 16) + v)] = w[(((((o * 16) + v) / 32) * 32) + (((o * 16) + v) % 32))];
    }
  }
}
)",
                              64);
  EXPECT_NE(out.find("((o * 16) / 32)"), std::string::npos) << out;
  EXPECT_NE(out.find("(((o * 16) % 32) + v)"), std::string::npos) << out;
  EXPECT_EQ(out.find("+ v) / 32"), std::string::npos) << out;
}

TEST(RangeSimplify, QuotientTermsAndConstantsSplitToo) {
  // (8*a + b + 11) / 4 with b in [0, 1): 2*a + 2 rest 3 (11 = 2*4 + 3, 3 + b < 4).
  std::string out = rewritten(R"(kernel k(in w: f32[64], out y: f32[64]) {
  for (a, 0, 4) {
    for (b, 0, 1) {
      y[a] = w[(((((a * 8) + b) + 11) / 4) + ((((a * 8) + b) + 11) % 4))];
    }
  }
}
)",
                              64);
  EXPECT_EQ(out.find('/'), std::string::npos) << out;
  EXPECT_EQ(out.find('%'), std::string::npos) << out;
}

}  // namespace
}  // namespace tessel::loop
