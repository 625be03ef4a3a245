// The target description: the machine facts that schedules are derived from.
// A plain struct, detected for the host or parsed from `--target`
// (host | x86-64 | x86-64-v3 | x86-64-v4 | cuda-sm80 | cuda-sm90 ...).
#pragma once

#include <string>

#include "ir/Error.h"

namespace tessel {

enum class TargetArch { X86_64, Cuda };

struct Target {
  std::string name = "x86-64-v4";  ///< as given to --target, or the detected level
  TargetArch arch = TargetArch::X86_64;
  bool host = false;  ///< detected for this machine: code generators may use every feature of its CPU
  // CPU.
  int vector_bits = 512;  ///< widest SIMD register used (128 SSE, 256 AVX2, 512 AVX-512)
  bool has_fma = true;
  int cores = 1;
  int l1d_bytes = 48 * 1024;
  int l2_bytes = 1024 * 1024;
  int l3_bytes = 32 * 1024 * 1024;
  // GPU (arch == Cuda).
  int sm_version = 0;  ///< 90 for sm_90
  int sm_count = 0;
  int warp_size = 32;
  int max_threads_per_block = 1024;
  int shared_bytes_per_block = 48 * 1024;

  /// f32 lanes in one vector register.
  int f32_lanes() const { return vector_bits / 32; }
  /// "x86-64-v4 (avx512, fma, 2 cores, L1d 48K, L2 1M, L3 32M)".
  std::string str() const;
};

/// The host CPU: vector width and FMA from cpuid, caches and cores from the OS.
Target detect_host_target();

/// "host", "x86-64" (SSE), "x86-64-v3" (AVX2+FMA), "x86-64-v4" (AVX-512), "cuda-smNN"; cache sizes and
/// core counts of named targets come from the host. Unknown names give an error listing the known ones.
Expected<Target> parse_target(std::string_view name);

}  // namespace tessel
