// Interpreter and shape-rule tests for the string ops (string_concat, regex_full_match, string_split,
// string_normalizer), equal on strings, and label_encode (numbers and strings). Inputs are built in
// C++; the ONNX node tests cover the same ops through the importer.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>

#include "tests/unit/InterpTestUtil.h"

namespace tessel {
namespace {

using ::testing::ElementsAre;
using testing::expect_tensor;
using ::testing::HasSubstr;
using testing::infer;
using testing::run1;
using testing::run_error;
using testing::run_op;
using testing::T;

Tensor S(std::vector<int64_t> shape, std::vector<std::string> values) {
  return Tensor::of<std::string>(std::move(shape), values);
}

std::vector<std::string> strings_of(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::String);
  if (t.dtype() != DType::String) return {};
  return {t.data<std::string>(), t.data<std::string>() + t.numel()};
}

// ---- string_concat ---------------------------------------------------------------------------------

TEST(InterpString, ConcatElementwiseAndBroadcast) {
  Tensor r = run1(OpKind::StringConcat, {S({2}, {"abc", ""}), S({2}, {".com", "abc"})});
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{2}));
  EXPECT_THAT(strings_of(r), ElementsAre("abc.com", "abc"));
  // [3] + [1]: every element gets the suffix; [2,1] + [2] gives the outer product.
  EXPECT_THAT(strings_of(run1(OpKind::StringConcat, {S({3}, {"cat", "dog", "snake"}), S({1}, {"s"})})),
              ElementsAre("cats", "dogs", "snakes"));
  Tensor outer = run1(OpKind::StringConcat, {S({2, 1}, {"a", "b"}), S({2}, {"1", "2"})});
  EXPECT_EQ(outer.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_THAT(strings_of(outer), ElementsAre("a1", "a2", "b1", "b2"));
  // UTF-8 is bytes to concatenate; scalars and zero-size shapes work.
  EXPECT_THAT(strings_of(run1(OpKind::StringConcat, {S({}, {"\xE7\x9A\x84"}), S({}, {"\xE4\xB8\xAD"})})),
              ElementsAre("\xE7\x9A\x84\xE4\xB8\xAD"));
  EXPECT_EQ(run1(OpKind::StringConcat, {S({0, 3}, {}), S({3}, {"x", "y", "z"})}).shape(), (std::vector<int64_t>{0, 3}));
}

TEST(InterpString, ConcatRejectsNumbersAndBadShapes) {
  EXPECT_THAT(run_error(OpKind::StringConcat, {S({2}, {"a", "b"}), T(DType::I32, {2}, {1, 2})}),
              HasSubstr("string_concat needs a string second operand, got i32[2]"));
  EXPECT_THAT(run_error(OpKind::StringConcat, {S({2}, {"a", "b"}), S({3}, {"a", "b", "c"})}),
              HasSubstr("string_concat"));
  auto symbolic = infer(OpKind::StringConcat, {{DType::String, {Dim::symbol("N")}}, {DType::String, {1}}});
  ASSERT_TRUE(symbolic.ok());
  EXPECT_EQ(symbolic->at(0).str(), "str[N]");
}

// ---- equal on strings ------------------------------------------------------------------------------

TEST(InterpString, EqualComparesBytes) {
  expect_tensor(run1(OpKind::Equal, {S({2}, {"string1", "string2"}), S({2}, {"string1", "string3"})}), DType::Bool, {2},
                {1, 0});
  expect_tensor(run1(OpKind::Equal, {S({2}, {"string1", "string2"}), S({1}, {"string1"})}), DType::Bool, {2}, {1, 0});
  // No case folding or normalization; empty strings are equal.
  expect_tensor(run1(OpKind::Equal, {S({3}, {"A", "", "a "}), S({3}, {"a", "", "a"})}), DType::Bool, {3}, {0, 1, 0});
  EXPECT_THAT(run_error(OpKind::Equal, {S({1}, {"1"}), T(DType::I64, {1}, {1})}), HasSubstr("no implicit promotion"));
  EXPECT_THAT(run_error(OpKind::Less, {S({1}, {"a"}), S({1}, {"b"})}), HasSubstr("'less' does not accept str"));
}

// ---- regex_full_match ------------------------------------------------------------------------------

TEST(InterpString, RegexFullMatch) {
  Tensor urls = S({3}, {"www.google.com", "www.facebook.com", "www.bbc.co.uk"});
  expect_tensor(run1(OpKind::RegexFullMatch, {urls}, {{"pattern", std::string(R"(www\.[\w.-]+\.\bcom\b)")}}),
                DType::Bool, {3}, {1, 1, 0});
  // Full match: a pattern that matches a substring only is false.
  expect_tensor(run1(OpKind::RegexFullMatch, {S({2}, {"abc", "xabcx"})}, {{"pattern", std::string("abc")}}),
                DType::Bool, {2}, {1, 0});
  std::string email = R"((\W|^)[\w.\-]{0,25}@(yahoo|gmail)\.com(\W|$))";
  Tensor mails = S({2, 2}, {"account@gmail.com", "account@hotmail.com", "not email", "account2@yahoo.com"});
  expect_tensor(run1(OpKind::RegexFullMatch, {mails}, {{"pattern", email}}), DType::Bool, {2, 2}, {1, 0, 0, 1});
  expect_tensor(run1(OpKind::RegexFullMatch, {S({2, 0}, {})}, {{"pattern", email}}), DType::Bool, {2, 0}, {});
}

TEST(InterpString, RegexRejectsBadPatternsAndNumbers) {
  EXPECT_THAT(run_error(OpKind::RegexFullMatch, {S({1}, {"a"})}, {{"pattern", std::string("(a")}}),
              HasSubstr("regex_full_match pattern \"(a\" is not a valid ECMAScript regex"));
  EXPECT_THAT(run_error(OpKind::RegexFullMatch, {T(DType::F32, {1}, {1})}, {{"pattern", std::string("a")}}),
              HasSubstr("regex_full_match needs a string operand, got f32[1]"));
}

// ---- string_split ----------------------------------------------------------------------------------

AttrMap split_attrs(std::string delimiter, int64_t maxsplit = -1, Dim parts = Dim::symbol("P")) {
  return {{"delimiter", std::move(delimiter)}, {"maxsplit", maxsplit}, {"parts", Shape{parts}}};
}

TEST(InterpString, SplitOnDelimiterBindsTheWidth) {
  auto r = run_op(OpKind::StringSplit, {S({2}, {"abc.com", "def.net"})}, split_attrs("."), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->at(0).shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_THAT(strings_of(r->at(0)), ElementsAre("abc", "com", "def", "net"));
  expect_tensor(r->at(1), DType::I64, {2}, {2, 2});
  // Consecutive delimiters delimit empty strings; rows are padded with "" to the longest (6 parts).
  r = run_op(OpKind::StringSplit, {S({2}, {"o-n-n--x-", "o-n"})}, split_attrs("-"), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_THAT(strings_of(r->at(0)), ElementsAre("o", "n", "n", "", "x", "", "o", "n", "", "", "", ""));
  expect_tensor(r->at(1), DType::I64, {2}, {6, 2});
}

TEST(InterpString, SplitOnWhitespaceAndMaxsplit) {
  // Empty delimiter: runs of whitespace separate, leading/trailing whitespace is dropped.
  auto r = run_op(OpKind::StringSplit, {S({3}, {"  hello   world !", "\tone\n", ""})}, split_attrs(""), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->at(0).shape(), (std::vector<int64_t>{3, 3}));
  EXPECT_THAT(strings_of(r->at(0)), ElementsAre("hello", "world", "!", "one", "", "", "", "", ""));
  expect_tensor(r->at(1), DType::I64, {3}, {3, 1, 0});
  // maxsplit 2: at most 3 parts, the rest of the string is the last one.
  r = run_op(OpKind::StringSplit, {S({2, 2}, {"hello world", "def.net", "o n n x", "the quick brown fox"})},
             split_attrs("", 2), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->at(0).shape(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_THAT(strings_of(r->at(0)),
              ElementsAre("hello", "world", "", "def.net", "", "", "o", "n", "n x", "the", "quick", "brown fox"));
  expect_tensor(r->at(1), DType::I64, {2, 2}, {2, 1, 3, 3});
  // With a delimiter, maxsplit 1 keeps the rest whole.
  r = run_op(OpKind::StringSplit, {S({}, {"a,b,c"})}, split_attrs(",", 1), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_THAT(strings_of(r->at(0)), ElementsAre("a", "b,c"));
  expect_tensor(r->at(1), DType::I64, {}, {2});
}

TEST(InterpString, SplitWithAConstantWidthPadsOrFails) {
  auto r = run_op(OpKind::StringSplit, {S({1}, {"a b"})}, split_attrs("", -1, Dim(4)), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_THAT(strings_of(r->at(0)), ElementsAre("a", "b", "", ""));
  EXPECT_THAT(run_op(OpKind::StringSplit, {S({1}, {"a b c"})}, split_attrs("", -1, Dim(2)), 2).error().str(),
              HasSubstr("an input element splits into 3 parts, more than the result's 2"));
  // Zero-size input: width 0.
  r = run_op(OpKind::StringSplit, {S({0}, {})}, split_attrs("", -1, Dim(0)), 2);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->at(0).shape(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(r->at(1).shape(), (std::vector<int64_t>{0}));
}

TEST(InterpString, SplitShapeRule) {
  auto types = infer(OpKind::StringSplit, {{DType::String, {Dim::symbol("N"), 2}}}, split_attrs("."), 2);
  ASSERT_TRUE(types.ok()) << types.error().str();
  EXPECT_EQ(types->at(0).str(), "str[N, 2, P]");
  EXPECT_EQ(types->at(1).str(), "i64[N, 2]");
  auto bad = infer(OpKind::StringSplit, {{DType::String, {2}}}, {{"parts", Shape{}}}, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().str(), HasSubstr("string_split needs exactly one dim in 'parts', got []"));
}

// ---- string_normalizer -----------------------------------------------------------------------------

AttrMap normalizer_attrs(std::string action, int64_t case_sensitive, std::vector<std::string> stopwords,
                         Dim size = Dim::symbol("K")) {
  return {{"case_change_action", std::move(action)},
          {"is_case_sensitive", case_sensitive},
          {"stopwords", std::move(stopwords)},
          {"size", Shape{size}}};
}

TEST(InterpString, NormalizerRemovesStopwordsThenChangesCase) {
  Tensor days = S({4}, {"monday", "tuesday", "wednesday", "thursday"});
  Tensor r = run1(OpKind::StringNormalizer, {days}, normalizer_attrs("UPPER", 1, {"monday"}));
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{3}));
  EXPECT_THAT(strings_of(r), ElementsAre("TUESDAY", "WEDNESDAY", "THURSDAY"));
  EXPECT_THAT(strings_of(run1(OpKind::StringNormalizer, {days}, normalizer_attrs("NONE", 1, {"monday"}))),
              ElementsAre("tuesday", "wednesday", "thursday"));
  // Case-insensitive stopwords on a [1, C] input keep the [1, C'] form.
  Tensor row = S({1, 4}, {"Monday", "tuesday", "MONDAY", "Wednesday"});
  r = run1(OpKind::StringNormalizer, {row}, normalizer_attrs("LOWER", 0, {"monday"}));
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_THAT(strings_of(r), ElementsAre("tuesday", "wednesday"));
  // Case-sensitive: "Monday" is not "monday".
  EXPECT_THAT(strings_of(run1(OpKind::StringNormalizer, {row}, normalizer_attrs("NONE", 1, {"monday"}))),
              ElementsAre("Monday", "tuesday", "MONDAY", "Wednesday"));
}

TEST(InterpString, NormalizerEdgeCases) {
  // Everything removed: one empty string.
  Tensor r = run1(OpKind::StringNormalizer, {S({2}, {"monday", "monday"})}, normalizer_attrs("UPPER", 1, {"monday"}));
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{1}));
  EXPECT_THAT(strings_of(r), ElementsAre(""));
  r = run1(OpKind::StringNormalizer, {S({1, 0}, {})}, normalizer_attrs("NONE", 1, {}));
  EXPECT_EQ(r.shape(), (std::vector<int64_t>{1, 1}));
  // Non-ASCII letters change case per code point (U+00E4 <-> U+00C4); CJK has no case; invalid UTF-8 stays.
  EXPECT_THAT(strings_of(run1(OpKind::StringNormalizer, {S({2}, {"\xC3\xA4rger", "\xE7\x9A\x84x\xFF"})},
                              normalizer_attrs("UPPER", 1, {}, Dim(2)))),
              ElementsAre("\xC3\x84RGER", "\xE7\x9A\x84X\xFF"));
}

TEST(InterpString, NormalizerErrors) {
  EXPECT_THAT(run_error(OpKind::StringNormalizer, {S({2}, {"a", "b"})}, normalizer_attrs("TITLE", 1, {})),
              HasSubstr("case_change_action must be NONE, LOWER or UPPER, got \"TITLE\""));
  EXPECT_THAT(run_error(OpKind::StringNormalizer, {S({2, 2}, {"a", "b", "c", "d"})}, normalizer_attrs("NONE", 1, {})),
              HasSubstr("string_normalizer needs a [C] or [1, C] operand, got str[2, 2]"));
  EXPECT_THAT(run_error(OpKind::StringNormalizer, {S({2}, {"a", "b"})}, normalizer_attrs("NONE", 1, {"a"}, Dim(2))),
              HasSubstr("string_normalizer keeps 1 strings but the result type has 2"));
}

// ---- label_encode ----------------------------------------------------------------------------------

TEST(InterpLabelEncode, StringsToIntegersAndBack) {
  Tensor keys = S({3}, {"a", "b", "c"});
  Tensor values = Tensor::of<int64_t>({3}, {0, 1, 2});
  Tensor y =
      run1(OpKind::LabelEncode, {S({5}, {"a", "b", "d", "c", "g"}), keys, values, Tensor::of<int64_t>({}, {42})});
  expect_tensor(y, DType::I64, {5}, {0, 1, 42, 2, 42});
  // int16 values keep their dtype.
  expect_tensor(
      run1(OpKind::LabelEncode, {S({2, 1}, {"c", "z"}), keys, T(DType::I16, {3}, {0, 1, 2}), T(DType::I16, {}, {-1})}),
      DType::I16, {2, 1}, {2, -1});
  Tensor names = run1(OpKind::LabelEncode, {Tensor::of<int64_t>({3}, {2, 7, 0}), values, keys, S({}, {"_Unused"})});
  EXPECT_THAT(strings_of(names), ElementsAre("c", "_Unused", "a"));
  Tensor renamed = run1(OpKind::LabelEncode, {S({2}, {"b", "q"}), keys, S({3}, {"x", "y", "z"}), S({}, {""})});
  EXPECT_THAT(strings_of(renamed), ElementsAre("y", ""));
}

TEST(InterpLabelEncode, NumericKeysNaNAndRepeats) {
  // A NaN key matches NaN inputs; -0 matches the key 0; a repeated key (2.0) maps to its last value (30).
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor keys = T(DType::F32, {4}, {nan, 0.0, 2.0, 2.0});
  Tensor values = T(DType::F32, {4}, {10, 20, 25, 30});
  expect_tensor(
      run1(OpKind::LabelEncode, {T(DType::F32, {4}, {nan, -0.0, 2.0, 5.0}), keys, values, T(DType::F32, {}, {-1})}),
      DType::F32, {4}, {10, 20, 30, -1});
  // f16 values and bool values are copied exactly; zero-size input gives zero-size output.
  expect_tensor(run1(OpKind::LabelEncode, {T(DType::I32, {2}, {1, 3}), T(DType::I32, {2}, {1, 2}),
                                           T(DType::F16, {2}, {0.5, 1.5}), T(DType::F16, {}, {-2})}),
                DType::F16, {2}, {0.5, -2});
  expect_tensor(run1(OpKind::LabelEncode, {T(DType::U8, {0, 3}, {}), T(DType::U8, {1}, {1}), T(DType::Bool, {1}, {1}),
                                           T(DType::Bool, {}, {0})}),
                DType::Bool, {0, 3}, {});
}

TEST(InterpLabelEncode, Errors) {
  Tensor keys = S({2}, {"a", "b"});
  EXPECT_THAT(run_error(OpKind::LabelEncode,
                        {T(DType::I64, {1}, {1}), keys, T(DType::I64, {2}, {0, 1}), T(DType::I64, {}, {0})}),
              HasSubstr("label_encode keys must have the input's dtype, got keys str[2] for input i64[1]"));
  EXPECT_THAT(
      run_error(OpKind::LabelEncode, {S({1}, {"a"}), keys, T(DType::I64, {3}, {0, 1, 2}), T(DType::I64, {}, {0})}),
      HasSubstr("label_encode keys and values must have the same length, got str[2] and i64[3]"));
  EXPECT_THAT(run_error(OpKind::LabelEncode, {S({1}, {"a"}), keys, T(DType::I64, {2}, {0, 1}), T(DType::I32, {}, {0})}),
              HasSubstr("label_encode default must be a scalar of the values' dtype, got i32[]"));
}

}  // namespace
}  // namespace tessel
