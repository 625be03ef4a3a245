// Reading and writing tensors as NumPy `.npy` files (format versions 1.0-3.0,
// little-endian, C order), the ecosystem's interchange format for inputs and
// outputs of `tessel run`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ir/Error.h"
#include "ir/Tensor.h"

namespace tessel {

/// Reads a `.npy` file. Malformed or unsupported files (big-endian, Fortran order, structured
/// dtypes, truncated data) give an Error whose location is `path`; sizes are checked against the
/// file's length before anything is allocated.
Expected<Tensor> read_npy(const std::string& path);
/// Parses the bytes of a `.npy` file; errors carry `name_for_errors` as their location.
Expected<Tensor> parse_npy(std::string_view bytes, const std::string& name_for_errors = "<npy>");
/// Writes `tensor` as a `.npy` file laid out exactly as `numpy.save` would write it. bf16 has no
/// npy dtype and is an error.
Status write_npy(const std::string& path, const Tensor& tensor);
/// The bytes of `tensor` as a `.npy` file, or an error for bf16 (which numpy cannot represent).
Expected<std::string> encode_npy(const Tensor& tensor);
/// encode_npy for tensors known to have an npy dtype; returns an empty string (which no reader
/// accepts) for bf16. Prefer encode_npy where the dtype is not known.
std::string serialize_npy(const Tensor& tensor);

/// The npy type string ("<f4", "|b1") for `dtype`; nullopt for bf16.
std::optional<std::string> npy_descr(DType dtype);

}  // namespace tessel
