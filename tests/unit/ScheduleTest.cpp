// Schedule text form (round trip, errors with positions) and validation against iteration domains;
// schedules chosen by the `schedule` pass for x86-64-v3, x86-64-v4 and cuda-sm90.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Builder.h"
#include "ir/Schedule.h"
#include "passes/ScheduleKernels.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<DomainAxis> conv_domain() {
  return {{"n", Dim::symbol("N"), false},
          {"oc", 64, false},
          {"oh", 56, false},
          {"ow", 56, false},
          {"ic", 64, true},
          {"kh", 3, true},
          {"kw", 3, true}};
}

TEST(Schedule, TextRoundTrips) {
  const char* texts[] = {
      "order=[n,oc,oh,ow,ic,kh,kw] tile=[oh:4,ow:16] vectorize=ow:16 parallel=n unroll=kw:3",
      "tile=[i:32,j:32] gpu_blocks=[i,j] gpu_threads=[i,j] shared=[a,b]",
      "parallel=[n,oc] unroll=[kh:3,kw:3]",
      "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:7,oc:32] vectorize=oc:16 parallel=oc unroll=kw:3 prefetch=oc",
      "prefetch=[oc,n]",
      "",
  };
  for (const char* text : texts) {
    auto s = parse_schedule(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.error().str();
    EXPECT_EQ(s->str(), text);
    EXPECT_EQ(*parse_schedule(s->str()), *s);
  }
  // Spaces inside lists and field order are free; the printed form is canonical.
  auto loose = parse_schedule("  vectorize=ow:8   order=[ n , oc ]  ");
  ASSERT_TRUE(loose.ok()) << loose.error().str();
  EXPECT_EQ(loose->str(), "order=[n,oc] vectorize=ow:8");
  EXPECT_TRUE(parse_schedule("")->empty());
}

TEST(Schedule, ParseErrorsSayWhereAndWhat) {
  auto missing_factor = parse_schedule("tile=[oh:4,ow]");
  ASSERT_FALSE(missing_factor.ok());
  EXPECT_EQ(missing_factor.error().location, "schedule:1:14");
  EXPECT_THAT(missing_factor.error().str(), HasSubstr("expected ':' and a factor after 'ow'"));
  EXPECT_THAT(missing_factor.error().str(), HasSubstr("hint: e.g. ow:16"));

  auto unknown = parse_schedule("order=[n] vectorise=ow:8");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().location, "schedule:1:11");
  EXPECT_THAT(unknown.error().str(), HasSubstr("unknown schedule field 'vectorise'"));
  EXPECT_THAT(unknown.error().str(), HasSubstr("fields: order, tile, vectorize"));

  EXPECT_THAT(parse_schedule("tile=oh:4").error().str(), HasSubstr("expected '[' to start a list"));
  EXPECT_THAT(parse_schedule("order=[n] order=[n]").error().str(), HasSubstr("field 'order' is given twice"));
  EXPECT_THAT(parse_schedule("unroll=kw:0").error().str(), HasSubstr("a factor must be at least 1"));
  EXPECT_THAT(parse_schedule("vectorize=[a:4,b:4]").error().str(), HasSubstr("vectorize takes one axis"));
  EXPECT_THAT(parse_schedule("parallel=n,oc").error().str(), HasSubstr("expected a space before the next field"));
}

TEST(Schedule, ValidatesAgainstTheDomain) {
  auto check = [](const std::string& text) {
    auto s = parse_schedule(text);
    EXPECT_TRUE(s.ok()) << text;
    Status status = validate_schedule(*s, conv_domain());
    return status.ok() ? std::string() : status.error().str();
  };
  EXPECT_EQ(check("order=[n,oc,oh,ow,ic,kh,kw] tile=[oh:4,ow:16] vectorize=ow:16 parallel=n unroll=kw:3"), "");
  EXPECT_THAT(check("vectorize=x:8"), HasSubstr("unknown axis 'x'"));
  EXPECT_THAT(check("vectorize=x:8"), HasSubstr("axes of this kernel: n, oc, oh, ow, ic, kh, kw"));
  EXPECT_THAT(check("vectorize=ow:12"), HasSubstr("width 12 of 'ow' is not a power of two"));
  EXPECT_THAT(check("tile=[ow:12] vectorize=ow:8"), HasSubstr("width 8 of 'ow' does not divide its tile 12"));
  EXPECT_THAT(check("parallel=ic"), HasSubstr("'ic' is a reduction axis"));
  EXPECT_THAT(check("vectorize=kw:4"), HasSubstr("'kw' is a reduction axis"));
  EXPECT_THAT(check("order=[n,n]"), HasSubstr("axis 'n' appears twice"));
  EXPECT_THAT(check("gpu_blocks=[oc] gpu_threads=[ow]"), HasSubstr("axis 'ow' is not tiled"));
  EXPECT_THAT(check("prefetch=kh"), HasSubstr("'kh' is a reduction axis; prefetch needs a spatial"));
  EXPECT_THAT(check("tile=[oc:16] gpu_blocks=[oc] gpu_threads=[oc] prefetch=oc"),
              HasSubstr("prefetch is a CPU cache hint"));

  std::vector<std::string> notes;
  ASSERT_TRUE(validate_schedule(*parse_schedule("tile=[kh:8] vectorize=ow:64"), conv_domain(), &notes).ok());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "tile kh:8 is larger than the axis extent 3");
  EXPECT_EQ(notes[1], "vectorize ow:64 is larger than the axis extent 56");
}

Module* conv_module(Module& m) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 64, 56, 56}});
  Value* w = b.input("w", {DType::F32, {64, 64, 3, 3}});
  b.output(b.relu(b.conv(x, w, nullptr, {}, {1, 1, 1, 1})));
  return &m;
}

Module* matmul_module(Module& m) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {1024, 1024}});
  Value* w = b.input("w", {DType::F32, {1024, 1024}});
  b.output(b.matmul(x, w));
  return &m;
}

Schedule chosen(Module& m, const std::string& target, int cores = 2) {
  auto t = parse_target(target);
  EXPECT_TRUE(t.ok());
  t->cores = cores;  // named targets take the host's core count; the parallel axis depends on it
  auto s = choose_schedule(*m.entry(), *t);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().str());
  return s.ok() ? *s : Schedule{};
}

TEST(Schedule, ChosenFromTheTarget) {
  Module conv, mm;
  conv_module(conv);
  matmul_module(mm);
  // AVX2: 8 f32 lanes; AVX-512: 16. The outermost big spatial axis is parallel; the 3x3 window unrolled;
  // the rows of the register block come from the innermost other spatial axis (conv oh, matmul i); 56
  // columns take one vector per row, of 8 lanes also on AVX-512 (7 x 8, not 3 x 16 + a scalar tail of 8).
  EXPECT_EQ(chosen(conv, "x86-64-v3").str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[oh:4,ow:8] vectorize=ow:8 parallel=oc unroll=kw:3");
  EXPECT_EQ(chosen(conv, "x86-64-v4").str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[oh:8,ow:8] vectorize=ow:8 parallel=oc unroll=kw:3");
  // 1024 columns are 64 (32) vector blocks: they go outside the rows and are the parallel axis.
  EXPECT_EQ(chosen(mm, "x86-64-v3").str(), "order=[j,i,k] tile=[i:4,j:16] vectorize=j:8 parallel=j");
  EXPECT_EQ(chosen(mm, "x86-64-v4").str(), "order=[j,i,k] tile=[i:8,j:32] vectorize=j:16 parallel=j");
  EXPECT_EQ(chosen(mm, "cuda-sm90").str(), "tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j]");
}

/// A conv whose weights are stored channel-last, as the layout pass leaves them.
Module* channel_last_conv_module(Module& m, int64_t channels, int64_t size) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 64, size, size}});
  Value* stored = b.input("w", {DType::F32, {64, 3, 3, channels}});
  b.output(b.relu(b.conv(x, b.transpose(stored, {3, 0, 1, 2}), nullptr)));
  return &m;
}

TEST(Schedule, ConvOverChannelLastWeightsVectorizesOutputChannels) {
  // 56 = 7 x 8 rows of 2 x 16 channels; 64 channels are 2 vector blocks, too few for 2 cores twice
  // over, so the rows are parallel; 512 channels give 16 blocks. 28 columns give 7-row blocks.
  Module a, b, c;
  EXPECT_EQ(chosen(*channel_last_conv_module(a, 64, 58), "x86-64-v4").str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:8,oc:32] vectorize=oc:16 parallel=oh unroll=kw:3");
  EXPECT_EQ(chosen(*channel_last_conv_module(b, 512, 58), "x86-64-v4").str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:8,oc:32] vectorize=oc:16 parallel=oc unroll=kw:3");
  EXPECT_EQ(chosen(*channel_last_conv_module(c, 64, 30), "x86-64-v4").str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:7,oc:32] vectorize=oc:16 parallel=oh unroll=kw:3");
  Module d;  // 16 cores want 32 blocks: the rows again
  EXPECT_EQ(chosen(*channel_last_conv_module(d, 512, 58), "x86-64-v4", 16).str(),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:8,oc:32] vectorize=oc:16 parallel=oh unroll=kw:3");
}

Module* batch_matmul_module(Module& m, int64_t k, int64_t n);

TEST(Schedule, WindowTapsUpToEightAreUnrolled) {
  // A 7 x 7 stem conv's kw taps are unrolled (a row of register tiles then shares the window's input
  // loads between taps); a 1 x 9 window's are a loop.
  auto tap_unroll = [](int64_t kh, int64_t kw) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 3, 64, 64}});
    Value* w = b.input("w", {DType::F32, {64, 3, kh, kw}});
    b.output(b.conv(x, w, nullptr));
    return chosen(m, "x86-64-v4").unroll_of("kw");
  };
  EXPECT_EQ(tap_unroll(7, 7), 7);
  EXPECT_EQ(tap_unroll(3, 3), 3);
  EXPECT_EQ(tap_unroll(1, 9), 0);
}

TEST(Schedule, WeightsThatOutgrowL2AndFeedFewOutputsArePrefetched) {
  // 512 output channels over 7 x 7 rows: each weight feeds 49 outputs per image, and 9.4 MB of them do not
  // stay in a 1 MiB L2, so the next block of output channels is prefetched; also on 16 x 16 rows (256
  // outputs per weight), not on 18 x 18 (324) or with weights that fit in L2.
  auto t = parse_target("x86-64-v4");
  ASSERT_TRUE(t.ok());
  t->cores = 2;
  t->l2_bytes = 1 << 20;
  auto schedule = [&](int64_t size, int64_t bytes) {
    Module m;
    auto s = choose_schedule(*channel_last_conv_module(m, 512, size)->entry(), *t, bytes);
    EXPECT_TRUE(s.ok());
    return s.ok() ? s->str() : "";
  };
  EXPECT_EQ(schedule(9, 9437184),
            "order=[n,oc,oh,ow,ic,kh,kw] tile=[ow:7,oc:32] vectorize=oc:16 parallel=oc unroll=kw:3 prefetch=oc");
  EXPECT_THAT(schedule(18, 9437184), HasSubstr("prefetch=oc"));
  EXPECT_THAT(schedule(20, 9437184), Not(HasSubstr("prefetch")));
  EXPECT_THAT(schedule(9, 512 * 1024), Not(HasSubstr("prefetch")));
  // A symbolic row count inside the parallel axis (a matmul's batch) has no constant share to prefetch.
  Module mm;
  auto s = choose_schedule(*batch_matmul_module(mm, 512, 1024)->entry(), *t, 4 << 20);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->str(), "order=[j,i,k] tile=[i:8,j:32] vectorize=j:16 parallel=j");
}

Module* batch_matmul_module(Module& m, int64_t k, int64_t n) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), k}});
  Value* w = b.input("w", {DType::F32, {k, n}});
  b.output(b.matmul(x, w));
  return &m;
}

TEST(Schedule, MatmulOverABatchSharesColumnBlocksAmongTheCores) {
  // N rows (maybe 1: a matrix-vector product): 8 x 2 register blocks; 128 columns are 4 blocks of 32, enough
  // for 2 cores twice over, so they go outside the rows and run in parallel (each core keeps its share).
  Module a, b, c;
  EXPECT_EQ(chosen(*batch_matmul_module(a, 5408, 128), "x86-64-v4").str(),
            "order=[j,i,k] tile=[i:8,j:32] vectorize=j:16 parallel=j");
  // 4 cores want 8 blocks: the (symbolic) rows are parallel instead.
  EXPECT_EQ(chosen(*batch_matmul_module(b, 5408, 128), "x86-64-v4", 4).str(),
            "order=[i,j,k] tile=[i:8,j:32] vectorize=j:16 parallel=i");
  // AVX2: 4 x 2 blocks of 8 lanes.
  EXPECT_EQ(chosen(*batch_matmul_module(c, 5408, 128), "x86-64-v3").str(),
            "order=[j,i,k] tile=[i:4,j:16] vectorize=j:8 parallel=j");
}

TEST(Schedule, VectorWidthTakesTheFewestSteps) {
  // A 26-wide conv row: 3 x 8 + 2 scalars (5 steps), not 16 + 10 scalars (11); 13 pooled columns:
  // 3 x 4 + 1; 64: 4 x 16.
  auto width_for = [](int64_t size) {
    Module m;
    Builder b(m.add_function("main"));
    Value* x = b.input("x", {DType::F32, {1, 1, size, size}});
    Value* w = b.input("w", {DType::F32, {4, 1, 3, 3}});
    b.output(b.conv(x, w, nullptr));
    return chosen(m, "x86-64-v4").vector_width_of("ow");
  };
  EXPECT_EQ(width_for(28), 8);
  EXPECT_EQ(width_for(15), 4);
  EXPECT_EQ(width_for(66), 16);
}

}  // namespace
}  // namespace tessel
