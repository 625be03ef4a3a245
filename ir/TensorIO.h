// Reading and writing tensors as NumPy `.npy` files (format versions 1.0-3.0,
// little-endian, C order), the ecosystem's interchange format for inputs and
// outputs of `tessel run`.
#pragma once

#include <string>

#include "ir/Error.h"
#include "ir/Tensor.h"

namespace tessel {

Expected<Tensor> read_npy(const std::string& path);
Expected<Tensor> parse_npy(std::string_view bytes, const std::string& name_for_errors = "<npy>");
Status write_npy(const std::string& path, const Tensor& tensor);
std::string serialize_npy(const Tensor& tensor);

}  // namespace tessel
