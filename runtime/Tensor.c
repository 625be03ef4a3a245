/* Tensor descriptor and dtype helpers. The descriptor mirrors DLPack's
 * DLTensor field for field (checked below), so a tessel_tensor* can be handed
 * to any DLPack consumer as a DLTensor* and back. Helpers validate rather
 * than trust: descriptors come from user code. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "runtime/tessel_runtime.h"

/* DLTensor's layout on LP64 targets: data, device {type, id}, ndim, dtype {code, bits, lanes},
 * shape, strides, byte_offset. */
_Static_assert(sizeof(tessel_device) == 8, "tessel_device must match DLDevice");
_Static_assert(sizeof(tessel_dtype) == 4, "tessel_dtype must match DLDataType");
_Static_assert(offsetof(tessel_tensor, device) == sizeof(void*), "DLTensor layout");
_Static_assert(offsetof(tessel_tensor, ndim) == sizeof(void*) + 8, "DLTensor layout");
_Static_assert(offsetof(tessel_tensor, dtype) == sizeof(void*) + 12, "DLTensor layout");
_Static_assert(offsetof(tessel_tensor, shape) % sizeof(void*) == 0, "DLTensor layout");
_Static_assert(offsetof(tessel_tensor, byte_offset) == offsetof(tessel_tensor, strides) + sizeof(void*),
               "DLTensor layout");

/* Element count, or -1 for an invalid descriptor or an overflowing count. */
int64_t tessel_tensor_numel(const tessel_tensor* tensor) {
  if (!tensor || tensor->ndim < 0 || (tensor->ndim > 0 && !tensor->shape)) return -1;
  int has_zero = 0;
  for (int32_t i = 0; i < tensor->ndim; ++i) {
    if (tensor->shape[i] < 0) return -1;
    if (tensor->shape[i] == 0) has_zero = 1;
  }
  if (has_zero) return 0;
  int64_t count = 1;
  for (int32_t i = 0; i < tensor->ndim; ++i) {
    if (count > INT64_MAX / tensor->shape[i]) return -1;
    count *= tensor->shape[i];
  }
  return count;
}

uint64_t tessel_tensor_nbytes(const tessel_tensor* tensor) {
  int64_t count = tessel_tensor_numel(tensor);
  if (count < 0) return 0;
  uint64_t element = tessel_dtype_bytes(tensor->dtype);
  if (element && (uint64_t)count > UINT64_MAX / element) return 0;
  return (uint64_t)count * element;
}

int tessel_tensor_is_contiguous(const tessel_tensor* tensor) {
  int64_t count = tessel_tensor_numel(tensor);
  if (count < 0) return 0;
  if (!tensor->strides || count == 0) return 1;
  int64_t expected = 1;
  for (int32_t i = tensor->ndim - 1; i >= 0; --i) {
    /* A dim of 1 is never stepped over, so its stride does not matter (as in DLPack and numpy). */
    if (tensor->shape[i] != 1 && tensor->strides[i] != expected) return 0;
    expected *= tensor->shape[i];
  }
  return 1;
}

tessel_status tessel_tensor_check(const tessel_tensor* tensor, const char* what) {
  if (!what) what = "tensor";
  if (!tensor) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: NULL tensor descriptor", what);
  if (tensor->ndim < 0)
    return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: ndim is %" PRId32 ", must be >= 0", what, tensor->ndim);
  if (tensor->ndim > 0 && !tensor->shape)
    return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: NULL shape with ndim %" PRId32, what, tensor->ndim);
  for (int32_t i = 0; i < tensor->ndim; ++i) {
    if (tensor->shape[i] < 0)
      return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: dim %" PRId32 " is %" PRId64 ", must be >= 0", what,
                              i, tensor->shape[i]);
  }
  if (tensor->dtype.bits == 0 || tensor->dtype.lanes == 0)
    return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: dtype has %u bits and %u lanes, both must be > 0", what,
                            (unsigned)tensor->dtype.bits, (unsigned)tensor->dtype.lanes);
  int64_t count = tessel_tensor_numel(tensor);
  if (count < 0) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: element count overflows int64", what);
  if (count > 0 && !tensor->data)
    return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "%s: NULL data for %" PRId64 " elements", what, count);
  return TESSEL_OK;
}

void* tessel_tensor_first(const tessel_tensor* tensor) {
  if (!tensor || !tensor->data) return NULL;
  return (char*)tensor->data + tensor->byte_offset;
}

/* ---- dtypes ---------------------------------------------------------------------------------- */

typedef struct {
  const char* name;
  uint8_t code;
  uint8_t bits;
} dtype_entry;

static const dtype_entry k_dtypes[] = {
    {"f32", TESSEL_DTYPE_FLOAT, 32}, {"f16", TESSEL_DTYPE_FLOAT, 16}, {"bf16", TESSEL_DTYPE_BFLOAT, 16},
    {"f64", TESSEL_DTYPE_FLOAT, 64}, {"i8", TESSEL_DTYPE_INT, 8},     {"i16", TESSEL_DTYPE_INT, 16},
    {"i32", TESSEL_DTYPE_INT, 32},   {"i64", TESSEL_DTYPE_INT, 64},   {"u8", TESSEL_DTYPE_UINT, 8},
    {"u16", TESSEL_DTYPE_UINT, 16},  {"u32", TESSEL_DTYPE_UINT, 32},  {"u64", TESSEL_DTYPE_UINT, 64},
    {"bool", TESSEL_DTYPE_BOOL, 8},
};
enum { k_num_dtypes = sizeof(k_dtypes) / sizeof(k_dtypes[0]) };

tessel_dtype tessel_dtype_make(uint8_t code, uint8_t bits) {
  tessel_dtype dtype = {code, bits, 1};
  return dtype;
}

int tessel_dtype_equal(tessel_dtype a, tessel_dtype b) {
  return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

size_t tessel_dtype_bytes(tessel_dtype dtype) { return ((size_t)dtype.bits * dtype.lanes + 7) / 8; }

const char* tessel_dtype_name(tessel_dtype dtype) {
  if (dtype.lanes != 1) return NULL;
  for (int i = 0; i < k_num_dtypes; ++i)
    if (k_dtypes[i].code == dtype.code && k_dtypes[i].bits == dtype.bits) return k_dtypes[i].name;
  return NULL;
}

tessel_status tessel_dtype_parse(const char* name, tessel_dtype* out) {
  if (!out) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "tessel_dtype_parse: NULL output");
  for (int i = 0; name && i < k_num_dtypes; ++i) {
    if (strcmp(k_dtypes[i].name, name) == 0) {
      *out = tessel_dtype_make(k_dtypes[i].code, k_dtypes[i].bits);
      return TESSEL_OK;
    }
  }
  return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT,
                          "unknown dtype '%s' (expected f32 f16 bf16 f64 i8 i16 i32 i64 u8 u16 u32 u64 bool)",
                          name ? name : "(null)");
}
