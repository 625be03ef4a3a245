/* Arithmetic helpers that generated kernels call instead of inlining rare, branchy code. */
#include "runtime/tessel_runtime.h"

int64_t tessel_ipow(int64_t base, int64_t exponent, int32_t exponent_signed) {
  if (exponent_signed && exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
    return 0;
  }
  uint64_t result = 1, b = (uint64_t)base;
  for (uint64_t e = (uint64_t)exponent; e != 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return (int64_t)result;
}
