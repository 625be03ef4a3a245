// Tests for NumPy .npy reading and writing: round trips of every dtype numpy
// can represent, the exact bytes numpy.save writes, headers written by hand
// (versions 1.0-3.0, byte-order forms), and malformed files, whose errors must
// name the file and say what is wrong.
#include "ir/TensorIO.h"

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ir/Half.h"

namespace tessel {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

static_assert(std::endian::native == std::endian::little, "these tests write little-endian bytes by memcpy");

/// Raw little-endian bytes of `values`.
template <typename T>
std::string raw(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// An npy file with header dict `dict`, padded as numpy pads it, followed by `data`.
std::string npy_file(const std::string& dict, const std::string& data = "", int major = 1) {
  size_t width = major == 1 ? 2 : 4;
  size_t header_len = dict.size() + 1;
  header_len += 64 - (8 + width + header_len) % 64;
  std::string bytes("\x93NUMPY", 6);
  bytes += static_cast<char>(major);
  bytes += '\0';
  for (size_t i = 0; i < width; ++i) bytes += static_cast<char>((header_len >> (8 * i)) & 0xff);
  bytes += dict;
  bytes.append(header_len - dict.size() - 1, ' ');
  bytes += '\n';
  return bytes + data;
}

std::string dict_for(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

/// A fresh scratch directory per test.
class TensorIOFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / (std::string("tessel_npy_") + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write_bytes(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  std::filesystem::path dir_;
};

// ---- Round trips ------------------------------------------------------------------------------

TEST(TensorIO, RoundTripsEveryDTypeExceptBf16) {
  // Values chosen to be exact in every dtype (bool maps nonzero to true).
  const std::vector<double> values = {0, 1, 2, 3, 100, 7};
  for (DType dtype : kComputeDTypes) {
    if (dtype == DType::BF16) continue;
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    Tensor tensor = Tensor::from_doubles(dtype, {2, 3}, values);
    auto bytes = encode_npy(tensor);
    ASSERT_TRUE(bytes.ok()) << bytes.error().str();
    EXPECT_EQ(bytes->size() % 64, tensor.nbytes() % 64) << "header must end on a 64-byte boundary";
    auto back = parse_npy(*bytes);
    ASSERT_TRUE(back.ok()) << back.error().str();
    EXPECT_TRUE(back->bitwise_equal(tensor));
  }
}

TEST(TensorIO, RoundTripsExtremeValues) {
  Tensor i64 = Tensor::of<int64_t>({3}, {INT64_MIN, -1, INT64_MAX});
  Tensor u64 = Tensor::of<uint64_t>({2}, {0, UINT64_MAX});
  Tensor f64 = Tensor::of<double>({3}, {-0.0, 1e308, std::numeric_limits<double>::quiet_NaN()});
  for (const Tensor& tensor : {i64, u64, f64}) {
    auto back = parse_npy(serialize_npy(tensor));
    ASSERT_TRUE(back.ok()) << back.error().str();
    EXPECT_TRUE(back->bitwise_equal(tensor)) << tensor.type_str();
  }
}

TEST(TensorIO, RoundTripsScalar) {
  Tensor scalar = Tensor::of<int32_t>({}, {-42});
  std::string bytes = serialize_npy(scalar);
  EXPECT_THAT(bytes, HasSubstr("'shape': (), }"));
  auto back = parse_npy(bytes);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->rank(), 0);
  EXPECT_EQ(back->data<int32_t>()[0], -42);
}

TEST(TensorIO, RoundTripsZeroSizeDims) {
  for (std::vector<int64_t> shape : {std::vector<int64_t>{0}, {0, 4}, {3, 0}, {2, 0, 5}}) {
    Tensor empty(DType::F32, shape);
    std::string bytes = serialize_npy(empty);
    EXPECT_EQ(bytes.size() % 64, 0u);  // no data bytes follow the header
    auto back = parse_npy(bytes);
    ASSERT_TRUE(back.ok()) << back.error().str();
    EXPECT_EQ(back->shape(), shape);
    EXPECT_EQ(back->nbytes(), 0u);
  }
}

TEST(TensorIO, WritesExactlyWhatNumpySaveWrites) {
  // numpy.save(f, numpy.zeros((2, 3), numpy.float32)) writes 128 header bytes: the dict, 20 spaces
  // of room for the first dim to grow to 21 digits, spaces to byte 127, and a newline.
  Tensor tensor(DType::F32, {2, 3});
  std::string bytes = serialize_npy(tensor);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string expected_header = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(58, ' ') + "\n";
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 128), expected_header);
  EXPECT_EQ(bytes.substr(128), std::string(24, '\0'));
  EXPECT_THAT(serialize_npy(Tensor(DType::U16, {7})),
              HasSubstr("{'descr': '<u2', 'fortran_order': False, 'shape': (7,), }"));
  EXPECT_THAT(serialize_npy(Tensor(DType::Bool, {1})), HasSubstr("'descr': '|b1'"));
  EXPECT_THAT(serialize_npy(Tensor(DType::I8, {1})), HasSubstr("'descr': '|i1'"));
  EXPECT_THAT(serialize_npy(Tensor(DType::F16, {1})), HasSubstr("'descr': '<f2'"));
}

TEST(TensorIO, UsesVersion2WhenTheHeaderOutgrowsVersion1) {
  // 30000 dims of 1 print as "1, " each: ~90000 header bytes, past version 1.0's 16-bit length.
  Tensor tensor(DType::I16, std::vector<int64_t>(30000, 1));
  tensor.data<int16_t>()[0] = -5;
  std::string bytes = serialize_npy(tensor);
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ((bytes.size() - 2) % 64, 0u);
  auto back = parse_npy(bytes);
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_TRUE(back->bitwise_equal(tensor));
}

TEST(TensorIO, Bf16IsAnErrorWithAHint) {
  Tensor bf16(DType::BF16, {2});
  auto bytes = encode_npy(bf16);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.error().message, HasSubstr("bf16[2]"));
  EXPECT_THAT(bytes.error().message, HasSubstr("no bfloat16"));
  EXPECT_THAT(bytes.error().hint, HasSubstr("cast it to f32"));
  EXPECT_EQ(serialize_npy(bf16), "");
  EXPECT_FALSE(npy_descr(DType::BF16).has_value());
}

// ---- Hand-written files -------------------------------------------------------------------------

TEST(TensorIO, ParsesARealNumpyHeader) {
  // Header as older numpy versions write it: no growth room, padded so that magic (6) + version (2) +
  // length (2) + header (118 = 0x76) ends at byte 128.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string bytes = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(58, ' ') + "\n" +
                      raw<float>({1.5f, -2, 3, 4, 5, 6.25f});
  ASSERT_EQ(bytes.size(), 128u + 24u);
  auto tensor = parse_npy(bytes);
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(tensor->dtype(), DType::F32);
  EXPECT_EQ(tensor->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor->to_doubles(), (std::vector<double>{1.5, -2, 3, 4, 5, 6.25}));
}

TEST(TensorIO, ParsesVersions2And3) {
  for (int major : {2, 3}) {
    auto tensor = parse_npy(npy_file(dict_for("<i8", "(2,)"), raw<int64_t>({-7, 9}), major));
    ASSERT_TRUE(tensor.ok()) << tensor.error().str();
    EXPECT_EQ(tensor->dtype(), DType::I64);
    EXPECT_EQ(tensor->data<int64_t>()[0], -7);
    EXPECT_EQ(tensor->data<int64_t>()[1], 9);
  }
}

TEST(TensorIO, AcceptsEveryByteOrderFormButBigEndian) {
  auto i32 = parse_npy(npy_file(dict_for("=i4", "(1,)"), raw<int32_t>({-3})));
  ASSERT_TRUE(i32.ok()) << i32.error().str();
  EXPECT_EQ(i32->data<int32_t>()[0], -3);
  auto u8 = parse_npy(npy_file(dict_for("|u1", "(2,)"), raw<uint8_t>({200, 7})));
  ASSERT_TRUE(u8.ok()) << u8.error().str();
  EXPECT_EQ(u8->data<uint8_t>()[0], 200);
  auto i8 = parse_npy(npy_file(dict_for("<i1", "(1,)"), raw<int8_t>({-100})));
  ASSERT_TRUE(i8.ok()) << i8.error().str();
  EXPECT_EQ(i8->dtype(), DType::I8);
  auto f8 = parse_npy(npy_file(dict_for("|f8", "()"), raw<double>({0.25})));
  ASSERT_TRUE(f8.ok()) << f8.error().str();
  EXPECT_EQ(f8->data<double>()[0], 0.25);

  auto big = parse_npy(npy_file(dict_for(">f4", "(1,)"), raw<float>({1})), "big.npy");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().str(), StartsWith("big.npy: "));
  EXPECT_THAT(big.error().message, HasSubstr("big-endian npy dtype '>f4' is not supported"));
}

TEST(TensorIO, ParsesHalfAndNormalizesBools) {
  // 0x3c00 is 1.0 in binary16, 0xc000 is -2.0.
  auto half = parse_npy(npy_file(dict_for("<f2", "(2,)"), raw<uint16_t>({0x3c00, 0xc000})));
  ASSERT_TRUE(half.ok()) << half.error().str();
  EXPECT_EQ(half->dtype(), DType::F16);
  EXPECT_EQ(half->to_doubles(), (std::vector<double>{1.0, -2.0}));
  // numpy reads any nonzero byte as True; the IR keeps bools as exactly 0/1.
  auto flags = parse_npy(npy_file(dict_for("|b1", "(3,)"), raw<uint8_t>({0, 2, 255})));
  ASSERT_TRUE(flags.ok()) << flags.error().str();
  EXPECT_EQ(flags->data<uint8_t>()[0], 0);
  EXPECT_EQ(flags->data<uint8_t>()[1], 1);
  EXPECT_EQ(flags->data<uint8_t>()[2], 1);
}

TEST(TensorIO, ToleratesHeaderVariations) {
  // Keys in another order, double quotes, no trailing comma, Python 2 long suffix.
  auto tensor = parse_npy(
      npy_file("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<u4\"}", raw<uint32_t>({5, 4000000000u})));
  ASSERT_TRUE(tensor.ok()) << tensor.error().str();
  EXPECT_EQ(tensor->shape(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(tensor->data<uint32_t>()[1], 4000000000u);
}

// ---- Malformed input ----------------------------------------------------------------------------

/// Parses `bytes` as "m.npy" and returns the error text (failing the test if it parsed).
std::string parse_error(const std::string& bytes) {
  auto result = parse_npy(bytes, "m.npy");
  if (result.ok()) {
    ADD_FAILURE() << "parsed a malformed file";
    return "";
  }
  EXPECT_EQ(result.error().location, "m.npy");
  return result.error().str();
}

TEST(TensorIO, RejectsBadMagicAndVersion) {
  EXPECT_THAT(parse_error(""), HasSubstr("bad magic"));
  EXPECT_THAT(parse_error("PK\x03\x04 a zip file"), HasSubstr("not an npy file: bad magic"));
  std::string v4 = npy_file(dict_for("<f4", "()"), raw<float>({1}));
  v4[6] = 4;
  EXPECT_THAT(parse_error(v4), HasSubstr("unsupported npy format version 4.0"));
}

TEST(TensorIO, RejectsTruncatedFiles) {
  std::string good = npy_file(dict_for("<f4", "(2, 3)"), raw<float>({1, 2, 3, 4, 5, 6}));
  EXPECT_THAT(parse_error(good.substr(0, 9)), HasSubstr("truncated npy file"));
  EXPECT_THAT(parse_error(good.substr(0, 40)), HasSubstr("truncated npy header: it declares 118 bytes, 30 present"));
  EXPECT_THAT(parse_error(good.substr(0, 128 + 8)),
              HasSubstr("truncated npy data: shape (2, 3) of f32 needs 24 bytes, 8 present"));
  EXPECT_THAT(parse_error(good + "xy"),
              HasSubstr("npy data length mismatch: shape (2, 3) of f32 needs 24 bytes, 26 present"));
}

TEST(TensorIO, RejectsEveryProperPrefix) {
  // Cutting a valid file anywhere must give an error, never a tensor or a crash.
  std::string good = serialize_npy(Tensor::of<int16_t>({2, 3}, {1, 2, 3, 4, 5, 6}));
  for (size_t length = 0; length < good.size(); ++length) {
    auto result = parse_npy(good.substr(0, length));
    EXPECT_FALSE(result.ok()) << "prefix of " << length << " bytes parsed";
  }
  EXPECT_TRUE(parse_npy(good).ok());
}

TEST(TensorIO, RejectsBadHeaderDicts) {
  EXPECT_THAT(parse_error(npy_file("['descr', '<f4']")), HasSubstr("expected '{' at the start of the header dict"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4', 'shape': (1,), }", raw<float>({1}))),
              HasSubstr("lacks the 'fortran_order' key"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4', 'fortran_order': False}")), HasSubstr("lacks the 'shape' key"));
  EXPECT_THAT(parse_error(npy_file("{'fortran_order': False, 'shape': ()}")), HasSubstr("lacks the 'descr' key"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}")),
              HasSubstr("unexpected key 'extra'"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4' 'fortran_order': False}")), HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4', 'fortran_order': false, 'shape': ()}")),
              HasSubstr("expected True or False"));
  EXPECT_THAT(parse_error(npy_file("{'descr: '<f4'}")), HasSubstr("expected ':' after key"));
  EXPECT_THAT(parse_error(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (), } junk")),
              HasSubstr("unexpected text after the header dict"));
  EXPECT_THAT(parse_error(npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}")),
              HasSubstr("structured npy dtypes"));
}

TEST(TensorIO, RejectsUnsupportedLayoutsAndDTypes) {
  std::string fortran =
      npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", raw<float>({1, 2, 3, 4}));
  auto result = parse_npy(fortran, "f.npy");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().str(), HasSubstr("f.npy: fortran_order True is not supported"));
  EXPECT_THAT(result.error().hint, HasSubstr("ascontiguousarray"));
  EXPECT_THAT(parse_error(npy_file(dict_for("<c8", "(1,)"), std::string(8, '\0'))),
              HasSubstr("unsupported npy dtype '<c8'"));
  EXPECT_THAT(parse_error(npy_file(dict_for("f4", "(1,)"), raw<float>({1}))), HasSubstr("unsupported npy dtype 'f4'"));
  EXPECT_THAT(parse_error(npy_file(dict_for("<U3", "(1,)"), std::string(12, '\0'))),
              HasSubstr("unsupported npy dtype '<U3'"));
}

TEST(TensorIO, RejectsBadAndAbsurdShapes) {
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(-1,)"))), HasSubstr("negative dimension"));
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(3)"), raw<float>({1, 2, 3}))), HasSubstr("not a tuple"));
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(2 3)"))), HasSubstr("expected ',' or ')' in the shape tuple"));
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(99999999999999999999,)"))), HasSubstr("dimension too large"));
  // 2^32 cubed overflows int64: must be an error, not an attempt to allocate.
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(4294967296, 4294967296, 4294967296)"))),
              HasSubstr("absurd npy shape (4294967296, 4294967296, 4294967296): the element count overflows"));
  // Even with a zero dim the other dims must not overflow (Tensor::numel multiplies them all).
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(4294967296, 4294967296, 0)"))), HasSubstr("overflows"));
  // 2^62 f8 elements: the element count fits, the byte count does not.
  EXPECT_THAT(parse_error(npy_file(dict_for("<f8", "(4611686018427387904,)"))), HasSubstr("the byte size overflows"));
  // Fits in int64 but is far larger than the data present: checked before allocating.
  EXPECT_THAT(parse_error(npy_file(dict_for("<f4", "(1000000000000,)"), raw<float>({1}))),
              HasSubstr("needs 4000000000000 bytes, 4 present"));
}

TEST(TensorIO, RejectsAbsurdHeaderLength) {
  std::string bytes("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 14);
  EXPECT_THAT(parse_error(bytes), HasSubstr("absurd npy header length 2147483647 bytes"));
}

// ---- Files --------------------------------------------------------------------------------------

TEST_F(TensorIOFile, WriteThenReadEveryDType) {
  for (DType dtype : kComputeDTypes) {
    if (dtype == DType::BF16) continue;
    Tensor tensor = Tensor::from_doubles(dtype, {3, 1, 2}, {1, 0, 5, 6, 0, 9});
    std::string file = path(std::string(dtype_name(dtype)) + ".npy");
    Status written = write_npy(file, tensor);
    ASSERT_TRUE(written.ok()) << written.error().str();
    auto back = read_npy(file);
    ASSERT_TRUE(back.ok()) << back.error().str();
    EXPECT_TRUE(back->bitwise_equal(tensor)) << dtype_name(dtype);
  }
}

TEST_F(TensorIOFile, ReadsLargeHeaderFromFile) {
  Tensor tensor(DType::U8, std::vector<int64_t>(30000, 1));
  tensor.data<uint8_t>()[0] = 9;
  ASSERT_TRUE(write_npy(path("wide.npy"), tensor).ok());
  auto back = read_npy(path("wide.npy"));
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_TRUE(back->bitwise_equal(tensor));
}

TEST_F(TensorIOFile, ErrorsNameTheFile) {
  auto missing = read_npy(path("missing.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().str(), path("missing.npy") + ": cannot open npy file: no such file");

  auto directory = read_npy(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.error().str(), HasSubstr(dir_.string() + ": cannot read npy file: not a regular file"));

  write_bytes("short.npy", npy_file(dict_for("<i4", "(4,)"), raw<int32_t>({1, 2})));
  auto truncated = read_npy(path("short.npy"));
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(truncated.error().str(),
              HasSubstr(path("short.npy") + ": truncated npy data: shape (4,) of i32 needs 16 bytes, 8 present"));

  write_bytes("tiny.npy", "\x93NUM");
  auto tiny = read_npy(path("tiny.npy"));
  ASSERT_FALSE(tiny.ok());
  EXPECT_THAT(tiny.error().str(), HasSubstr(path("tiny.npy") + ": not an npy file"));

  write_bytes("cut_header.npy", npy_file(dict_for("<i4", "(4,)")).substr(0, 30));
  auto cut = read_npy(path("cut_header.npy"));
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.error().str(), HasSubstr("truncated npy header"));

  Status unwritable = write_npy(path("no/such/dir/out.npy"), Tensor(DType::F32, {1}));
  ASSERT_FALSE(unwritable.ok());
  EXPECT_THAT(unwritable.error().str(), HasSubstr(path("no/such/dir/out.npy") + ": cannot open npy file for writing"));

  Status bf16 = write_npy(path("b.npy"), Tensor(DType::BF16, {1}));
  ASSERT_FALSE(bf16.ok());
  EXPECT_THAT(bf16.error().str(), HasSubstr(path("b.npy") + ": cannot write a bf16[1] tensor as npy"));
  EXPECT_FALSE(std::filesystem::exists(path("b.npy")));
}

}  // namespace
}  // namespace tessel
