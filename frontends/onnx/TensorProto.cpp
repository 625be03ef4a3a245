// TensorProto <-> Tensor conversion and ONNX element types (see TensorProto.h and OnnxProto.h).
#include "frontends/onnx/TensorProto.h"

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ir/LowPrecision.h"

namespace tessel::onnx {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian; so must the host be");

namespace {

// Names of every element type up to IR version 14 (ONNX 1.23), indexed by value.
constexpr std::string_view kElemTypeNames[] = {
    "UNDEFINED",  "FLOAT",        "UINT8",          "INT8",       "UINT16",         "INT16",  "INT32",     "INT64",
    "STRING",     "BOOL",         "FLOAT16",        "DOUBLE",     "UINT32",         "UINT64", "COMPLEX64", "COMPLEX128",
    "BFLOAT16",   "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",  "INT4",      "FLOAT4E2M1",
    "FLOAT8E8M0", "UINT2",        "INT2",           "FLOAT6E2M3", "FLOAT6E3M2",
};

std::string tensor_what(const pb::TensorProto& proto) {
  return proto.name().empty() ? std::string("tensor") : fmt::format("tensor '{}'", proto.name());
}

// Which typed repeated field holds the elements of `dtype` when raw_data is not used.
enum class Field { Float, Double, Int32, Int64, Uint64 };

Field typed_field(DType dtype) {
  switch (dtype) {
    case DType::F32: return Field::Float;
    case DType::F64: return Field::Double;
    case DType::I64: return Field::Int64;
    case DType::U32:
    case DType::U64: return Field::Uint64;
    default: return Field::Int32;
  }
}

int64_t typed_count(const pb::TensorProto& proto, Field field) {
  switch (field) {
    case Field::Float: return proto.float_data_size();
    case Field::Double: return proto.double_data_size();
    case Field::Int32: return proto.int32_data_size();
    case Field::Int64: return proto.int64_data_size();
    case Field::Uint64: return proto.uint64_data_size();
  }
  return 0;
}

std::string_view field_name(Field field) {
  switch (field) {
    case Field::Float: return "float_data";
    case Field::Double: return "double_data";
    case Field::Int32: return "int32_data";
    case Field::Int64: return "int64_data";
    case Field::Uint64: return "uint64_data";
  }
  return "";
}

// Copies the typed field into the tensor, converting each element to its storage type.
void copy_typed(const pb::TensorProto& proto, Field field, Tensor& tensor) {
  int64_t n = tensor.numel();
  auto store = [&](auto get) {
    for (int64_t i = 0; i < n; ++i) {
      switch (tensor.dtype()) {
        case DType::F32: tensor.data<float>()[i] = static_cast<float>(get(i)); break;
        case DType::F64: tensor.data<double>()[i] = static_cast<double>(get(i)); break;
        case DType::I8: tensor.data<int8_t>()[i] = static_cast<int8_t>(get(i)); break;
        case DType::I16: tensor.data<int16_t>()[i] = static_cast<int16_t>(get(i)); break;
        case DType::I32: tensor.data<int32_t>()[i] = static_cast<int32_t>(get(i)); break;
        case DType::I64: tensor.data<int64_t>()[i] = static_cast<int64_t>(get(i)); break;
        case DType::U8: tensor.data<uint8_t>()[i] = static_cast<uint8_t>(get(i)); break;
        case DType::Bool: tensor.data<uint8_t>()[i] = get(i) != 0 ? 1 : 0; break;
        // f16 and bf16 keep their 16-bit patterns in the low bits of int32_data.
        case DType::F16:
        case DType::BF16:
        case DType::U16: tensor.data<uint16_t>()[i] = static_cast<uint16_t>(get(i)); break;
        case DType::U32: tensor.data<uint32_t>()[i] = static_cast<uint32_t>(get(i)); break;
        case DType::U64: tensor.data<uint64_t>()[i] = static_cast<uint64_t>(get(i)); break;
        default: break;  // not produced by dtype_from_onnx yet
      }
    }
  };
  switch (field) {
    case Field::Float: store([&](int64_t i) { return proto.float_data(static_cast<int>(i)); }); break;
    case Field::Double: store([&](int64_t i) { return proto.double_data(static_cast<int>(i)); }); break;
    case Field::Int32: store([&](int64_t i) { return proto.int32_data(static_cast<int>(i)); }); break;
    case Field::Int64: store([&](int64_t i) { return proto.int64_data(static_cast<int>(i)); }); break;
    case Field::Uint64: store([&](int64_t i) { return proto.uint64_data(static_cast<int>(i)); }); break;
  }
}

bool path_inside(const std::filesystem::path& path, const std::filesystem::path& folder) {
  auto [folder_end, path_it] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
  return folder_end == folder.end();
}

struct ExternalRef {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
};

Expected<ExternalRef> external_ref(const pb::TensorProto& proto, const std::string& what) {
  ExternalRef ref;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      ref.location = entry.value();
      continue;
    }
    if (entry.key() != "offset" && entry.key() != "length") continue;  // checksum and others are advisory
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(entry.value().c_str(), &end, 10);
    if (errno || end == entry.value().c_str() || *end || value < 0)
      return make_error("{}: external data {} '{}' is not a non-negative integer", what, entry.key(), entry.value());
    (entry.key() == "offset" ? ref.offset : ref.length) = value;
  }
  if (ref.location.empty()) return make_error("{}: external data has no location", what);
  return ref;
}

// Resolves the external file, refusing anything that leaves the model's folder.
Expected<std::filesystem::path> resolve_external(const std::string& location, const std::string& base_dir,
                                                 const std::string& what) {
  namespace fs = std::filesystem;
  if (base_dir.empty())
    return make_error("{}: external data '{}' needs the model's folder, which is unknown here", what, location);
  fs::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return make_error("{}: external data path '{}' is absolute; only paths inside the model's folder are allowed", what,
                      location);
  for (const auto& part : rel)
    if (part == "..")
      return make_error("{}: external data path '{}' contains '..'; only paths inside the model's folder are allowed",
                        what, location);
  std::error_code ec;
  fs::path folder = fs::canonical(base_dir, ec);
  if (ec) return make_error("{}: cannot resolve the model folder '{}': {}", what, base_dir, ec.message());
  fs::path file = fs::canonical(folder / rel, ec);
  if (ec) return make_error("{}: external data file '{}' not found in '{}'", what, location, base_dir);
  if (!path_inside(file, folder))
    return make_error("{}: external data path '{}' leads outside the model's folder (through a link)", what, location);
  if (!fs::is_regular_file(file)) return make_error("{}: external data '{}' is not a regular file", what, location);
  return file;
}

// Reads `nbytes` bytes of external data into `dest`.
Status read_external(const pb::TensorProto& proto, const TensorReadOptions& options, const std::string& what,
                     const std::string& type_str, int64_t nbytes, char* dest) {
  TESSEL_ASSIGN(ExternalRef ref, external_ref(proto, what));
  TESSEL_ASSIGN(std::filesystem::path file, resolve_external(ref.location, options.base_dir, what));
  std::error_code ec;
  auto file_size = static_cast<int64_t>(std::filesystem::file_size(file, ec));
  if (ec) return make_error("{}: cannot read the size of '{}'", what, ref.location);
  int64_t length = ref.length < 0 ? file_size - std::min(ref.offset, file_size) : ref.length;
  if (length != nbytes)
    return make_error("{} ({}) needs {} bytes but its external data has length {}", what, type_str, nbytes, length);
  if (ref.offset > file_size || nbytes > file_size - ref.offset)
    return make_error("{}: external data '{}' is {} bytes, too short for offset {} + length {}", what, ref.location,
                      file_size, ref.offset, nbytes);
  std::ifstream in(file, std::ios::binary);
  in.seekg(ref.offset);
  in.read(dest, nbytes);
  if (!in || in.gcount() != nbytes) return make_error("{}: short read from '{}'", what, ref.location);
  return Status::success();
}

// ---- Low-precision and string tensors ----
// ONNX packs the 4-bit types two to a byte and the 2-bit types four to a byte (first element in the low
// bits), in raw_data, in int32_data (one packed byte per entry) and in external data; float8 types take
// one byte per element (one per int32_data entry). Host tensors hold one element per byte.

int64_t elements_per_byte(DType dtype) {
  switch (dtype) {
    case DType::I4:
    case DType::U4:
    case DType::F4E2M1: return 2;
    case DType::I2:
    case DType::U2: return 4;
    default: return 1;
  }
}

// Bytes that `numel` elements of a low-precision type take in an ONNX file.
int64_t packed_bytes(DType dtype, int64_t numel) {
  int64_t per = elements_per_byte(dtype);
  return numel / per + (numel % per ? 1 : 0);
}

// Spreads packed bytes into one element per byte, sign-extending the signed integers.
void unpack_low_precision(const unsigned char* packed, Tensor& tensor) {
  int64_t per = elements_per_byte(tensor.dtype());
  int bits = static_cast<int>(8 / per);
  unsigned mask = (1u << bits) - 1;
  auto* dst = tensor.data<uint8_t>();
  for (int64_t i = 0, n = tensor.numel(); i < n; ++i) {
    unsigned field = (packed[i / per] >> (bits * static_cast<int>(i % per))) & mask;
    dst[i] = is_low_precision_int(tensor.dtype()) ? int_to_low_precision(tensor.dtype(), field)
                                                  : static_cast<uint8_t>(field);
  }
}

std::string type_text(DType dtype, const std::vector<int64_t>& shape) {
  return fmt::format("{}[{}]", dtype_name(dtype), fmt::join(shape, ", "));
}

// Checks the stored size against the element count, then allocates and unpacks.
Expected<Tensor> read_low_precision(const pb::TensorProto& proto, const TensorReadOptions& options,
                                    const std::string& what, DType dtype, const std::vector<int64_t>& shape,
                                    int64_t numel) {
  int64_t stored = packed_bytes(dtype, numel);
  std::string type_str = type_text(dtype, shape);
  bool external = proto.data_location() == pb::TensorProto::EXTERNAL;
  int64_t typed = proto.int32_data_size();
  int sources = int{proto.has_raw_data()} + int{typed > 0} + int{external};
  if (sources > 1) return make_error("{} has its data in more than one place (raw_data, int32_data, external)", what);
  std::string unit =
      elements_per_byte(dtype) == 1 ? "" : fmt::format(", {} elements per byte", elements_per_byte(dtype));
  if (proto.has_raw_data() && static_cast<int64_t>(proto.raw_data().size()) != stored)
    return make_error("{} ({}{}) needs {} bytes of raw_data, got {}", what, type_str, unit, stored,
                      proto.raw_data().size());
  if (!proto.has_raw_data() && !external && typed != stored)
    return make_error("{} ({}{}) needs {} int32_data entries, got {}", what, type_str, unit, stored, typed);
  std::vector<unsigned char> bytes(static_cast<size_t>(stored));
  if (external) {
    TESSEL_TRY(read_external(proto, options, what, type_str, stored, reinterpret_cast<char*>(bytes.data())));
  } else if (proto.has_raw_data()) {
    std::memcpy(bytes.data(), proto.raw_data().data(), bytes.size());
  } else {
    for (int64_t i = 0; i < stored; ++i) bytes[i] = static_cast<unsigned char>(proto.int32_data(static_cast<int>(i)));
  }
  Tensor tensor(dtype, shape);
  if (stored > 0) unpack_low_precision(bytes.data(), tensor);
  return tensor;
}

Expected<Tensor> read_strings(const pb::TensorProto& proto, const std::string& what, const std::vector<int64_t>& shape,
                              int64_t numel) {
  if (proto.has_raw_data())
    return make_error("{}: string tensors cannot use raw_data (ONNX keeps them in string_data)", what);
  if (proto.data_location() == pb::TensorProto::EXTERNAL)
    return make_error("{}: string tensors cannot use external data", what);
  if (proto.string_data_size() != numel)
    return make_error("{} ({}) has {} elements but string_data holds {}", what, type_text(DType::String, shape), numel,
                      proto.string_data_size());
  Tensor tensor(DType::String, shape);
  for (int64_t i = 0; i < numel; ++i) tensor.data<std::string>()[i] = proto.string_data(static_cast<int>(i));
  return tensor;
}

}  // namespace

std::string onnx_elem_type_name(int32_t elem_type) {
  if (elem_type >= 0 && elem_type < static_cast<int32_t>(std::size(kElemTypeNames)))
    return std::string(kElemTypeNames[elem_type]);
  return "unknown";
}

std::optional<DType> dtype_from_onnx(int32_t elem_type) {
  switch (elem_type) {
    case kOnnxFloat: return DType::F32;
    case kOnnxUint8: return DType::U8;
    case kOnnxInt8: return DType::I8;
    case kOnnxUint16: return DType::U16;
    case kOnnxInt16: return DType::I16;
    case kOnnxInt32: return DType::I32;
    case kOnnxInt64: return DType::I64;
    case kOnnxBool: return DType::Bool;
    case kOnnxFloat16: return DType::F16;
    case kOnnxDouble: return DType::F64;
    case kOnnxUint32: return DType::U32;
    case kOnnxUint64: return DType::U64;
    case kOnnxBFloat16: return DType::BF16;
    case kOnnxString: return DType::String;
    case kOnnxFloat8E4M3FN: return DType::F8E4M3FN;
    case kOnnxFloat8E4M3FNUZ: return DType::F8E4M3FNUZ;
    case kOnnxFloat8E5M2: return DType::F8E5M2;
    case kOnnxFloat8E5M2FNUZ: return DType::F8E5M2FNUZ;
    case kOnnxFloat8E8M0: return DType::F8E8M0;
    case kOnnxFloat4E2M1: return DType::F4E2M1;
    case kOnnxInt4: return DType::I4;
    case kOnnxUint4: return DType::U4;
    case kOnnxInt2: return DType::I2;
    case kOnnxUint2: return DType::U2;
    default: return std::nullopt;
  }
}

int32_t onnx_from_dtype(DType dtype) {
  switch (dtype) {
    case DType::F32: return kOnnxFloat;
    case DType::F16: return kOnnxFloat16;
    case DType::BF16: return kOnnxBFloat16;
    case DType::F64: return kOnnxDouble;
    case DType::I8: return kOnnxInt8;
    case DType::I16: return kOnnxInt16;
    case DType::I32: return kOnnxInt32;
    case DType::I64: return kOnnxInt64;
    case DType::U8: return kOnnxUint8;
    case DType::U16: return kOnnxUint16;
    case DType::U32: return kOnnxUint32;
    case DType::U64: return kOnnxUint64;
    case DType::Bool: return kOnnxBool;
    case DType::F8E4M3FN: return kOnnxFloat8E4M3FN;
    case DType::F8E4M3FNUZ: return kOnnxFloat8E4M3FNUZ;
    case DType::F8E5M2: return kOnnxFloat8E5M2;
    case DType::F8E5M2FNUZ: return kOnnxFloat8E5M2FNUZ;
    case DType::F8E8M0: return kOnnxFloat8E8M0;
    case DType::F4E2M1: return kOnnxFloat4E2M1;
    case DType::I4: return kOnnxInt4;
    case DType::U4: return kOnnxUint4;
    case DType::I2: return kOnnxInt2;
    case DType::U2: return kOnnxUint2;
    case DType::String: return kOnnxString;
  }
  return kOnnxUndefined;
}

std::string unsupported_elem_type(int32_t elem_type) {
  return fmt::format("unsupported element type {} ({})", elem_type, onnx_elem_type_name(elem_type));
}

Expected<std::vector<int64_t>> checked_dims(const google::protobuf::RepeatedField<int64_t>& dims,
                                            const std::string& what) {
  std::vector<int64_t> shape(dims.begin(), dims.end());
  int64_t numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) return make_error("{} has a negative dim {} (dims [{}])", what, shape[i], fmt::join(shape, ", "));
    if (__builtin_mul_overflow(numel, shape[i], &numel))
      return make_error("{} has dims [{}] whose element count overflows int64", what, fmt::join(shape, ", "));
  }
  return shape;
}

Expected<Tensor> tensor_from_proto(const pb::TensorProto& proto, const TensorReadOptions& options) {
  std::string what = tensor_what(proto);
  auto dtype = dtype_from_onnx(proto.data_type());
  if (!dtype) return make_error("{}: {}", what, unsupported_elem_type(proto.data_type()));
  TESSEL_ASSIGN(std::vector<int64_t> shape, checked_dims(proto.dims(), what));
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<int64_t>(dtype_size(*dtype)), &nbytes) || nbytes > options.max_bytes)
    return make_error("{} ({} elements of {}) is over the limit of {} bytes", what, numel, dtype_name(*dtype),
                      options.max_bytes);
  if (proto.has_segment()) return make_error("{}: segmented tensors are not supported", what);

  if (*dtype == DType::String) return read_strings(proto, what, shape, numel);
  if (is_low_precision(*dtype)) return read_low_precision(proto, options, what, *dtype, shape, numel);
  Field field = typed_field(*dtype);
  int64_t typed = typed_count(proto, field);
  bool external = proto.data_location() == pb::TensorProto::EXTERNAL;
  int sources = int{proto.has_raw_data()} + int{typed > 0} + int{external};
  if (sources > 1)
    return make_error("{} has its data in more than one place (raw_data, {}, external)", what, field_name(field));
  if (!proto.has_raw_data() && !external && typed != numel)
    return make_error("{} ({}{}) has {} elements but {} holds {}", what, dtype_name(*dtype),
                      fmt::format("[{}]", fmt::join(shape, ", ")), numel, field_name(field), typed);
  if (proto.has_raw_data() && static_cast<int64_t>(proto.raw_data().size()) != nbytes)
    return make_error("{} ({}[{}]) needs {} bytes of raw_data, got {}", what, dtype_name(*dtype),
                      fmt::join(shape, ", "), nbytes, proto.raw_data().size());

  Tensor tensor(*dtype, shape);
  if (external) {
    TESSEL_TRY(read_external(proto, options, what, tensor.type_str(), static_cast<int64_t>(tensor.nbytes()),
                             static_cast<char*>(tensor.raw_data())));
  } else if (proto.has_raw_data()) {
    if (nbytes > 0) std::memcpy(tensor.raw_data(), proto.raw_data().data(), static_cast<size_t>(nbytes));
  } else {
    copy_typed(proto, field, tensor);
  }
  if (*dtype == DType::Bool)
    for (int64_t i = 0; i < numel; ++i) tensor.data<uint8_t>()[i] = tensor.data<uint8_t>()[i] != 0 ? 1 : 0;
  return tensor;
}

void tensor_to_proto(const Tensor& tensor, pb::TensorProto& proto) {
  proto.clear_dims();
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  proto.set_data_type(onnx_from_dtype(tensor.dtype()));
  if (tensor.dtype() == DType::String) {
    proto.clear_string_data();
    for (int64_t i = 0; i < tensor.numel(); ++i) proto.add_string_data(tensor.data<std::string>()[i]);
    return;
  }
  if (is_low_precision(tensor.dtype())) {
    // Pack: element i goes to byte i / per at bit offset (i % per) * bits.
    int64_t per = elements_per_byte(tensor.dtype());
    int bits = static_cast<int>(8 / per);
    unsigned mask = (1u << bits) - 1;
    std::string packed(static_cast<size_t>(packed_bytes(tensor.dtype(), tensor.numel())), '\0');
    for (int64_t i = 0; i < tensor.numel(); ++i)
      packed[i / per] = static_cast<char>(static_cast<unsigned char>(packed[i / per]) |
                                          (tensor.data<uint8_t>()[i] & mask) << (bits * static_cast<int>(i % per)));
    proto.set_raw_data(packed);
    return;
  }
  proto.set_raw_data(tensor.nbytes() == 0 ? std::string()
                                          : std::string(static_cast<const char*>(tensor.raw_data()), tensor.nbytes()));
}

}  // namespace tessel::onnx
