// NumPy `.npy` reading and writing. The format: the magic "\x93NUMPY", a
// version byte pair, a little-endian header length (2 bytes in 1.0, 4 in
// 2.0/3.0), then a Python dict literal giving 'descr', 'fortran_order' and
// 'shape', padded with spaces and a newline, then the raw C-order data.
// Readers face untrusted files: every size is checked against the bytes
// actually present before anything is allocated, and arithmetic on dims is
// overflow-checked.
#include "ir/TensorIO.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace tessel {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;
// numpy leaves room for the first dim to grow to this many digits without rewriting the header.
constexpr size_t kGrowthAxisMaxDigits = 21;

struct NpyHeader {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  size_t data_offset = 0;  ///< bytes from the start of the file to the data
  uint64_t data_bytes = 0;
};

std::string shape_repr(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

// ---- Header dict parsing ------------------------------------------------------------------------

/// A parser for the small subset of Python literals npy headers use: a dict with string keys whose
/// values are strings, True/False, or tuples of non-negative integers.
class DictParser {
 public:
  explicit DictParser(std::string_view text) : text_(text) {}

  Expected<NpyHeader> parse() {
    NpyHeader header;
    bool has_descr = false, has_order = false, has_shape = false;
    skip_space();
    if (!consume('{')) return fail("expected '{' at the start of the header dict");
    while (true) {
      skip_space();
      if (consume('}')) break;
      TESSEL_ASSIGN(std::string key, parse_string());
      skip_space();
      if (!consume(':')) return fail(fmt::format("expected ':' after key '{}'", key));
      skip_space();
      if (key == "descr") {
        TESSEL_ASSIGN(std::string descr, parse_descr());
        TESSEL_ASSIGN(header.dtype, dtype_from_descr(descr));
        has_descr = true;
      } else if (key == "fortran_order") {
        TESSEL_ASSIGN(bool fortran, parse_bool());
        if (fortran)
          return Error{"fortran_order True is not supported: only C-order arrays can be read",
                       {},
                       "save a C-contiguous array, e.g. numpy.save(path, numpy.ascontiguousarray(a))"};
        has_order = true;
      } else if (key == "shape") {
        TESSEL_ASSIGN(header.shape, parse_shape());
        has_shape = true;
      } else {
        return fail(fmt::format("unexpected key '{}' (an npy header has 'descr', 'fortran_order', 'shape')", key));
      }
      skip_space();
      if (consume('}')) break;
      if (!consume(',')) return fail("expected ',' or '}' after a value");
    }
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected text after the header dict");
    if (!has_descr) return make_error("the npy header lacks the 'descr' key");
    if (!has_order) return make_error("the npy header lacks the 'fortran_order' key");
    if (!has_shape) return make_error("the npy header lacks the 'shape' key");
    return header;
  }

 private:
  Error fail(const std::string& what) const {
    return make_error("malformed npy header: {} at offset {} in \"{}\"", what, pos_, printable(text_));
  }

  static std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 200)) {
      auto byte = static_cast<unsigned char>(c);
      bool visible = byte >= 0x20 && byte < 0x7f;
      out += byte == '\n' ? std::string("\\n") : visible ? std::string(1, c) : fmt::format("\\x{:02x}", byte);
    }
    if (text.size() > 200) out += "...";
    return out;
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool consume_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Python string literal in single or double quotes; npy headers never need escapes.
  Expected<std::string> parse_string() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return fail("expected a quoted string");
    char quote = text_[pos_++];
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') return fail("escape sequences are not supported in strings");
      ++pos_;
    }
    if (pos_ >= text_.size()) return fail("unterminated string");
    return std::string(text_.substr(start, pos_++ - start));
  }

  Expected<std::string> parse_descr() {
    if (pos_ < text_.size() && text_[pos_] == '[')
      return make_error("structured npy dtypes (a list descr) are not supported");
    return parse_string();
  }

  Expected<bool> parse_bool() {
    if (consume_word("True")) return true;
    if (consume_word("False")) return false;
    return fail("expected True or False");
  }

  Expected<int64_t> parse_dim() {
    if (pos_ < text_.size() && text_[pos_] == '-') return fail("negative dimension in shape");
    size_t start = pos_;
    uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      auto digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10)
        return fail("dimension too large in shape");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return fail("expected an integer dimension");
    consume('L');  // Python 2 long suffix, found in old files
    return static_cast<int64_t>(value);
  }

  Expected<std::vector<int64_t>> parse_shape() {
    if (!consume('(')) return fail("expected '(' starting the shape tuple");
    std::vector<int64_t> shape;
    bool trailing_comma = false;
    skip_space();
    while (!consume(')')) {
      TESSEL_ASSIGN(int64_t dim, parse_dim());
      shape.push_back(dim);
      skip_space();
      trailing_comma = consume(',');
      skip_space();
      if (!trailing_comma && (pos_ >= text_.size() || text_[pos_] != ')'))
        return fail("expected ',' or ')' in the shape tuple");
    }
    // In Python "(3)" is the integer 3, not a tuple.
    if (shape.size() == 1 && !trailing_comma) return fail("the shape is not a tuple (a 1-tuple is written (3,))");
    return shape;
  }

  static Expected<DType> dtype_from_descr(const std::string& descr) {
    if (descr.size() < 2) return make_error("unsupported npy dtype '{}'", descr);
    char order = descr[0];
    std::string_view code = std::string_view(descr).substr(1);
    if (order == '>')
      return Error{fmt::format("big-endian npy dtype '{}' is not supported", descr),
                   {},
                   "convert with numpy: a.astype(a.dtype.newbyteorder('<'))"};
    if (order != '<' && order != '=' && order != '|') return make_error("unsupported npy dtype '{}'", descr);
    struct Entry {
      std::string_view code;
      DType dtype;
    };
    static constexpr Entry kCodes[] = {{"f4", DType::F32}, {"f8", DType::F64}, {"f2", DType::F16}, {"i1", DType::I8},
                                       {"i2", DType::I16}, {"i4", DType::I32}, {"i8", DType::I64}, {"u1", DType::U8},
                                       {"u2", DType::U16}, {"u4", DType::U32}, {"u8", DType::U64}, {"b1", DType::Bool}};
    for (const Entry& entry : kCodes)
      if (entry.code == code) return entry.dtype;
    return make_error("unsupported npy dtype '{}' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)", descr);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---- Reading ------------------------------------------------------------------------------------

uint32_t read_le(std::string_view bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= uint32_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
  return value;
}

/// Bytes needed before the header length is known: magic, version and the length field.
constexpr size_t kMaxPreamble = kMagicLen + 2 + 4;
/// Real headers are about a hundred bytes; anything past this is corrupt, not worth reading.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;

/// Parses the preamble and header dict from the start of a file (`bytes` may hold more).
Expected<NpyHeader> parse_header(std::string_view bytes) {
  if (bytes.size() < kMagicLen + 2 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0)
    return make_error("not an npy file: bad magic (expected \"\\x93NUMPY\")");
  auto major = static_cast<unsigned char>(bytes[kMagicLen]);
  auto minor = static_cast<unsigned char>(bytes[kMagicLen + 1]);
  if (major < 1 || major > 3 || minor != 0)
    return make_error("unsupported npy format version {}.{} (supported: 1.0, 2.0, 3.0)", major, minor);
  size_t width = major == 1 ? 2 : 4;
  size_t dict_start = kMagicLen + 2 + width;
  if (bytes.size() < dict_start)
    return make_error("truncated npy file: {} bytes, shorter than its preamble", bytes.size());
  size_t dict_len = read_le(bytes, kMagicLen + 2, width);
  if (dict_len > kMaxHeaderBytes) return make_error("absurd npy header length {} bytes", dict_len);
  if (bytes.size() - dict_start < dict_len)
    return make_error("truncated npy header: it declares {} bytes, {} present", dict_len, bytes.size() - dict_start);
  TESSEL_ASSIGN(NpyHeader header, DictParser(bytes.substr(dict_start, dict_len)).parse());
  header.data_offset = dict_start + dict_len;
  // Product of the nonzero dims must fit even when a zero dim makes the tensor empty, so that
  // Tensor::numel can never overflow.
  uint64_t product = 1, limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (int64_t dim : header.shape) {
    auto factor = static_cast<uint64_t>(dim == 0 ? 1 : dim);
    if (product > limit / factor)
      return make_error("absurd npy shape {}: the element count overflows", shape_repr(header.shape));
    product *= factor;
  }
  uint64_t numel = 1;
  for (int64_t dim : header.shape) numel *= static_cast<uint64_t>(dim);
  if (numel > limit / dtype_size(header.dtype))
    return make_error("absurd npy shape {}: the byte size overflows", shape_repr(header.shape));
  header.data_bytes = numel * dtype_size(header.dtype);
  return header;
}

Status check_data_length(const NpyHeader& header, uint64_t available) {
  if (available < header.data_bytes)
    return make_error("truncated npy data: shape {} of {} needs {} bytes, {} present", shape_repr(header.shape),
                      dtype_name(header.dtype), header.data_bytes, available);
  if (available > header.data_bytes)
    return make_error("npy data length mismatch: shape {} of {} needs {} bytes, {} present", shape_repr(header.shape),
                      dtype_name(header.dtype), header.data_bytes, available);
  return Status::success();
}

/// numpy reads any nonzero byte as True; the IR stores bools as exactly 0 or 1.
void normalize_bools(Tensor& tensor) {
  if (tensor.dtype() != DType::Bool) return;
  auto* bytes = tensor.data<uint8_t>();
  for (int64_t i = 0; i < tensor.numel(); ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
}

Expected<Tensor> parse_npy_impl(std::string_view bytes) {
  TESSEL_ASSIGN(NpyHeader header, parse_header(bytes));
  TESSEL_TRY(check_data_length(header, bytes.size() - header.data_offset));
  Tensor tensor(header.dtype, header.shape);
  if (header.data_bytes) std::memcpy(tensor.raw_data(), bytes.data() + header.data_offset, header.data_bytes);
  normalize_bools(tensor);
  return tensor;
}

Expected<Tensor> read_npy_impl(const std::string& path) {
  std::error_code error;
  auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) return make_error("cannot open npy file: no such file");
  if (error) return make_error("cannot open npy file: {}", error.message());
  if (!std::filesystem::is_regular_file(status)) return make_error("cannot read npy file: not a regular file");
  uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) return make_error("cannot read npy file: {}", error.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open npy file: {}", std::strerror(errno));

  // Read the preamble, then exactly the header it declares, then the data straight into the tensor.
  std::string head(std::min<uint64_t>(file_size, kMaxPreamble), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  if (head.size() == kMaxPreamble && std::memcmp(head.data(), kMagic, kMagicLen) == 0) {
    size_t width = head[kMagicLen] == 1 ? 2 : 4;
    uint64_t header_end = std::min<uint64_t>(file_size, kMagicLen + 2 + width + read_le(head, kMagicLen + 2, width));
    if (header_end > kMaxPreamble && header_end <= kMaxPreamble + kMaxHeaderBytes) {
      head.resize(header_end);
      in.read(head.data() + kMaxPreamble, static_cast<std::streamsize>(header_end - kMaxPreamble));
    }
  }
  if (!in) return make_error("error reading npy file");
  TESSEL_ASSIGN(NpyHeader header, parse_header(head));
  TESSEL_TRY(check_data_length(header, file_size - header.data_offset));
  Tensor tensor(header.dtype, header.shape);
  in.seekg(static_cast<std::streamoff>(header.data_offset));
  in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(header.data_bytes));
  if (!in) return make_error("error reading npy data (the file changed while being read?)");
  normalize_bools(tensor);
  return tensor;
}

}  // namespace

std::optional<std::string> npy_descr(DType dtype) {
  switch (dtype) {
    case DType::F32: return "<f4";
    case DType::F16: return "<f2";
    case DType::F64: return "<f8";
    case DType::I8: return "|i1";
    case DType::I16: return "<i2";
    case DType::I32: return "<i4";
    case DType::I64: return "<i8";
    case DType::U8: return "|u1";
    case DType::U16: return "<u2";
    case DType::U32: return "<u4";
    case DType::U64: return "<u8";
    case DType::Bool: return "|b1";
    default: return std::nullopt;  // bf16, the low-precision types and strings have no numpy dtype
  }
}

Expected<Tensor> parse_npy(std::string_view bytes, const std::string& name_for_errors) {
  auto result = parse_npy_impl(bytes);
  if (!result) return result.error().at(name_for_errors);
  return result;
}

Expected<Tensor> read_npy(const std::string& path) {
  auto result = read_npy_impl(path);
  if (!result) return result.error().at(path);
  return result;
}

Expected<std::string> encode_npy(const Tensor& tensor) {
  std::optional<std::string> descr = npy_descr(tensor.dtype());
  if (!descr)
    return Error{fmt::format("cannot write a {} tensor as npy: numpy has no {} dtype", tensor.type_str(),
                             tensor.dtype() == DType::BF16 ? "bfloat16" : dtype_name(tensor.dtype())),
                 {},
                 tensor.dtype() == DType::String ? "strings cannot be written as .npy"
                                                 : "cast it to f32 first (`cast` with to = f32)"};
  if (tensor.nbytes() && !tensor.raw_data())
    return make_error("cannot write {} tensor without data", tensor.type_str());
  // The same bytes numpy.save writes: sorted keys, room for the first dim to grow, then spaces and a
  // newline up to a 64-byte boundary.
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", *descr, shape_repr(tensor.shape()));
  if (!tensor.shape().empty()) {
    size_t digits = fmt::format("{}", tensor.shape()[0]).size();
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  size_t width = 2;
  size_t padded = dict.size() + 1;
  padded += kAlign - (kMagicLen + 2 + width + padded) % kAlign;
  if (padded > 0xffff) {
    width = 4;
    padded = dict.size() + 1;
    padded += kAlign - (kMagicLen + 2 + width + padded) % kAlign;
  }
  std::string bytes(kMagic, kMagicLen);
  bytes += static_cast<char>(width == 2 ? 1 : 2);
  bytes += '\0';
  for (size_t i = 0; i < width; ++i) bytes += static_cast<char>((padded >> (8 * i)) & 0xff);
  bytes += dict;
  bytes.append(padded - dict.size() - 1, ' ');
  bytes += '\n';
  bytes.append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  return bytes;
}

std::string serialize_npy(const Tensor& tensor) {
  auto bytes = encode_npy(tensor);
  return bytes ? std::move(bytes).value() : std::string();
}

Status write_npy(const std::string& path, const Tensor& tensor) {
  auto bytes = encode_npy(tensor);
  if (!bytes) return bytes.error().at(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("cannot open npy file for writing: {}", std::strerror(errno)).at(path);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) return make_error("error writing npy file").at(path);
  return Status::success();
}

}  // namespace tessel
