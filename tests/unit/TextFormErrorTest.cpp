// Parse errors of the text form, each checked for its message and its
// "file:line:col", and a light fuzz: random bytes and random mutations of a
// valid file must give an Error or a module (which then round-trips), never a
// crash.
#include <cstdio>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Parser.h"
#include "ir/Printer.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;

// A function around `body` (its lines start on line 2) with input %x: f32[2] and output y.
std::string in_function(const std::string& body) {
  return "func @f(%x: f32[2]) -> (y: f32[2]) {\n" + body + "  return %x\n}\n";
}

struct ErrorCase {
  std::string text;
  std::string location;
  std::string message;
  std::string hint = {};
};

void expect_error(const ErrorCase& c) {
  auto parsed = parse_module(c.text, "t.tsl");
  ASSERT_FALSE(parsed.ok()) << "parsed unexpectedly:\n" << c.text;
  EXPECT_EQ(parsed.error().location, c.location) << parsed.error().str();
  EXPECT_THAT(parsed.error().message, HasSubstr(c.message)) << parsed.error().str();
  if (!c.hint.empty()) {
    EXPECT_THAT(parsed.error().hint, HasSubstr(c.hint)) << parsed.error().str();
  }
  // The CLI's form: "t.tsl:L:C: message".
  EXPECT_THAT(parsed.error().str(), HasSubstr(c.location + ": " + c.message));
}

TEST(TextFormErrors, UnknownOpsAndAttributes) {
  expect_error({in_function("  %0 = convv(%x) : f32[2]\n"), "t.tsl:2:8", "unknown op 'convv'", "did you mean 'conv'"});
  expect_error({in_function("  %0 = zzzzzzzz(%x) : f32[2]\n"), "t.tsl:2:8", "unknown op 'zzzzzzzz'"});
  expect_error({in_function("  %0 = leaky_relu(%x) {alpah = 1.0} : f32[2]\n"), "t.tsl:2:24",
                "op 'leaky_relu' has no attribute 'alpah'", "did you mean 'alpha'"});
  expect_error({in_function("  %0 = softmax(%x) {axis = 1.5} : f32[2]\n"), "t.tsl:2:28",
                "expected an int for attribute 'axis' of op 'softmax', got '1.5'"});
  expect_error({in_function("  %0 = softmax(%x) {axis = 1, axis = 2} : f32[2]\n"), "t.tsl:2:31",
                "attribute 'axis' of op 'softmax' is given twice"});
  expect_error({in_function("  %0 = cast(%x) {to = f31} : f32[2]\n"), "t.tsl:2:23",
                "expected an element type for attribute 'to' of op 'cast', got 'f31'"});
  expect_error({in_function("  %0 = conv(%x, %x) {pads = 1} : f32[2]\n"), "t.tsl:2:29",
                "expected a list of ints for attribute 'pads' of op 'conv', got '1'"});
  expect_error({in_function("  %0 = shape_of(%x) {end = 9223372036854775808} : i64[1]\n"), "t.tsl:2:28",
                "integer 9223372036854775808 does not fit in 64 bits"});
}

TEST(TextFormErrors, ValuesAndResults) {
  expect_error({in_function("  %0 = relu(%y) : f32[2]\n"), "t.tsl:2:13", "use of undefined value %y"});
  expect_error({in_function("  %x = relu(%x) : f32[2]\n"), "t.tsl:2:3", "value %x is defined twice"});
  expect_error({in_function("  %a, %a = split(%x) {sizes = [1, 1]} : f32[1], f32[1]\n"), "t.tsl:2:7",
                "value %a is defined twice"});
  // An op cannot use its own result.
  expect_error({in_function("  %0 = relu(%0) : f32[2]\n"), "t.tsl:2:13", "use of undefined value %0"});
  expect_error({in_function("  %0, %1 = relu(%x) : f32[2]\n"), "t.tsl:2:21",
                "op 'relu' defines 2 results but lists 1 result type"});
  expect_error({in_function("  %0 = relu(%x)\n"), "t.tsl:3:3", "expected ':', got 'return'"});
  expect_error({"func @f(%x: f32[2]) -> (y: f32[3]) {\n  return %x\n}\n", "t.tsl:2:10",
                "return value %x has type f32[2], but the signature declares f32[3]"});
  expect_error({"func @f(%x: f32[2]) -> (y: f32[2], z: f32[2]) {\n  return %x\n}\n", "t.tsl:2:3",
                "return has 1 values, but the signature declares 2 outputs"});
  expect_error({"func @f(%x: f32[2]) -> (y: f32[2]) {\n  return %x\n  %0 = relu(%x) : f32[2]\n}\n", "t.tsl:3:3",
                "expected '}' after return"});
  expect_error({"func @f(%x: f32[2]) -> () {\n}\n", "t.tsl:2:1", "expected 'return' before the end"});
  expect_error({"func @f(%x: f32[2], %x: f32[3]) -> () {\n  return\n}\n", "t.tsl:1:21", "value %x is defined twice"});
  expect_error({"func @f() -> () {\n  return\n}\nfunc @f() -> () {\n  return\n}\n", "t.tsl:4:6",
                "function @f is defined twice"});
  expect_error({"fnc @f() -> () {}\n", "t.tsl:1:1", "expected 'const' or 'func' at the top level, got 'fnc'"});
  expect_error({in_function("  %\"\" = relu(%x) : f32[2]\n"), "t.tsl:2:3", "empty name after '%'"});
}

TEST(TextFormErrors, TypesAndDims) {
  expect_error({in_function("  %0 = relu(%x) : f33[2]\n"), "t.tsl:2:19", "unknown element type 'f33'"});
  expect_error({in_function("  %0 = relu(%x) : f32\n"), "t.tsl:3:3",
                "expected '[' after the element type (a scalar is written f32[]), got 'return'"});
  expect_error({"func @f(%x: f32[N/M]) -> () {\n  return\n}\n", "t.tsl:1:19",
                "bad dim expression: the divisor of '/' must be a positive constant, got M"});
  expect_error({"func @f(%x: f32[N%0]) -> () {\n  return\n}\n", "t.tsl:1:19",
                "bad dim expression: the divisor of '%' must be a positive constant, got 0"});
  expect_error({"func @f(%x: f32[N+]) -> () {\n  return\n}\n", "t.tsl:1:19",
                "expected a dim (an integer, a symbol or a parenthesized expression), got ']'"});
  expect_error({"func @f(%x: f32[(N+1]) -> () {\n  return\n}\n", "t.tsl:1:21", "expected ')' in a dim expression"});
  expect_error({"func @f(%x: f32[3 4]) -> () {\n  return\n}\n", "t.tsl:1:19", "expected ',' or ']' in a dim list"});
  expect_error({"func @f(%x: f32[99999999999*99999999999]) -> () {\n  return\n}\n", "t.tsl:1:29",
                "bad dim expression: integer overflow"});
  expect_error({"func @f(%x: f32[" + std::string(500, '(') + "N" + std::string(500, ')') + "]) -> () {}\n",
                "t.tsl:1:146", "bad dim expression: nested too deeply"});
}

TEST(TextFormErrors, LexicalErrors) {
  expect_error({in_function("  %0 = relu(%x) : f32[2] loc(\"abc\n"), "t.tsl:2:30", "unterminated string"});
  expect_error({in_function("  %0 = relu(%x) : f32[2] loc(\"a\\qb\")\n"), "t.tsl:2:32", "invalid escape in string"});
  expect_error({in_function("  # not a comment\n"), "t.tsl:2:3", "unexpected character '#'"});
  expect_error({in_function("  %0 = relu(%x) : f32[2x]\n"), "t.tsl:2:23", "malformed number '2x'"});
  expect_error({"\x01", "t.tsl:1:1", "unexpected character byte 0x01"});
}

TEST(TextFormErrors, Constants) {
  expect_error(
      {"const @c : f32[2, 2] = [1.0, 2.0, 3.0]\n", "t.tsl:1:24", "constant @c has 3 values, but f32[2, 2] needs 4"});
  expect_error(
      {"const @c : i32[2] = hex\"0100\"\n", "t.tsl:1:21", "constant @c: hex data has 2 bytes, but i32[2] needs 8"});
  expect_error(
      {"const @c : i32[1] = hex\"01000\"\n", "t.tsl:1:24", "constant @c: hex data has an odd number of digits"});
  expect_error({"const @c : i32[1] = hex\"0100g000\"\n", "t.tsl:1:24", "constant @c: 'g' is not a hex digit"});
  expect_error({"const @c : u8[1] = [256]\n", "t.tsl:1:21", "value 256 is out of range for u8"});
  expect_error({"const @c : i8[2] = [1, -129]\n", "t.tsl:1:24", "value -129 is out of range for i8"});
  expect_error({"const @c : u32[1] = [-1]\n", "t.tsl:1:22", "value -1 is out of range for u32"});
  expect_error({"const @c : bool[1] = [1]\n", "t.tsl:1:23", "expected true or false, got '1'"});
  expect_error({"const @c : f32[N] = []\n", "t.tsl:1:12", "constant @c needs a static shape, got f32[N]"});
  expect_error({"const @c : f32[-1] = []\n", "t.tsl:1:12", "constant @c has a negative dim"});
  expect_error({"const @c : f32[1] = [1.0]\nconst @c : f32[1] = [1.0]\n", "t.tsl:2:7", "constant @c is defined twice"});
  expect_error({"const @c : f32[1000000000000, 1000000000000] = []\n", "t.tsl:1:12",
                "constant @c of type f32[1000000000000, 1000000000000] is too large"});
  expect_error({"const @c : f32[2] = elided(hash = \"00\")\n", "t.tsl:1:21",
                "constant @c was printed with its data elided", "tessel dump --full-constants"});
}

TEST(TextFormErrors, MissingFileNamesThePath) {
  auto parsed = parse_file("/nonexistent/model.tsl");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message, HasSubstr("cannot read file '/nonexistent/model.tsl'"));
}

// ---- Fuzz ---------------------------------------------------------------------------------------

const char* const kSeedText = R"(const @b : bf16[3] = [0.5, -inf, nan]
const @w : f32[2, 2] = [1.0, 2.0, 3.0, 4.0]

func @main(%x: f32[N, 2], %"q r": i64[]) -> (probs: f32[N, 2], "2nd": i64[]) {
  %w = const @w : f32[2, 2]
  %0 = matmul(%x, %w) : f32[N, 2] loc("dense\n1")
  %1, %2 = split(%0) {axis = 1, sizes = [1, 1]} : f32[N, 1], f32[N, 1]
  %3 = reshape(%1) {shape = [(N+1)/2, (2*N)%3]} : f32[(N+1)/2, (2*N)%3]
  %4 = lstm(%x, %w, %w, none, none) {activation_alpha = [0.5, -1e-07], activations = ["Tanh"], hidden_size = 2} : f32[N, 2]
  %5 = clip(%4) {max = inf, min = -0.0} : f32[N, 2]
  return %5, %"q r"
}

func @g() -> () {
  return
}
)";

// If `text` parses, its printed form must parse and print identically.
void check_no_crash_and_round_trip(const std::string& text) {
  auto parsed = parse_module(text, "fuzz.tsl");
  if (!parsed.ok()) {
    EXPECT_FALSE(parsed.error().location.empty()) << parsed.error().message;
    return;
  }
  std::string printed = print_module(**parsed);
  auto again = parse_module(printed);
  ASSERT_TRUE(again.ok()) << again.error().str() << "\nprinted:\n" << printed << "\nfrom:\n" << text;
  EXPECT_EQ(print_module(**again), printed) << "from:\n" << text;
}

TEST(TextFormFuzz, SeedTextRoundTrips) {
  auto parsed = parse_module(kSeedText);
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  EXPECT_EQ(print_module(**parsed), kSeedText);
}

TEST(TextFormFuzz, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "%@()[]{},:=->+*/\"\\ \n\tabcxyzNf32i64[]0123456789.e_$#";
  for (int iteration = 0; iteration < 3000; ++iteration) {
    size_t length = rng() % 120;
    std::string text;
    bool full_bytes = iteration % 2 == 0;
    for (size_t i = 0; i < length; ++i)
      text += full_bytes ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    check_no_crash_and_round_trip(text);
    if (HasFatalFailure()) return;
  }
}

TEST(TextFormFuzz, MutationsOfAValidFileNeverCrash) {
  std::mt19937 rng(777);
  const std::string seed = kSeedText;
  const std::string pieces[] = {"%",   "@",   "(",  ")",  "[",   "]",         "{",  "}", ",",  ":",
                                "=",   "-",   "*",  "/",  "\"",  "none",      "N",  "0", "-1", "1.5",
                                "inf", "nan", "%x", "%0", "f16", "hex\"00\"", "\n", "//"};
  int parsed_ok = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::string text = seed;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 5) {
        case 0: text.erase(at, 1 + rng() % 8); break;
        case 1: text.insert(at, pieces[rng() % std::size(pieces)]); break;
        case 2: text[at] = static_cast<char>(rng() % 256); break;
        case 3: text.insert(at, text.substr(rng() % text.size(), rng() % 16)); break;
        default: text.insert(at, 1, static_cast<char>(32 + rng() % 95)); break;
      }
    }
    auto parsed = parse_module(text);
    parsed_ok += parsed.ok();
    check_no_crash_and_round_trip(text);
    if (HasFatalFailure()) return;
  }
  // Some mutations (inside comments, strings or names) stay valid; the round-trip check above ran on them.
  EXPECT_GT(parsed_ok, 50);
}

}  // namespace
}  // namespace tessel
