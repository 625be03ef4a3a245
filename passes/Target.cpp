// Host detection and the named targets of `--target`.
#include "passes/Target.h"

#include <unistd.h>

#include <fmt/format.h>

namespace tessel {
namespace {

int cache_bytes(int name, int fallback) {
  long bytes = sysconf(name);
  return bytes > 0 ? static_cast<int>(bytes) : fallback;
}

std::string kib(int bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return fmt::format("{}M", bytes / (1024 * 1024));
  return fmt::format("{}K", bytes / 1024);
}

// Cache sizes and cores are the host's for every CPU target: the named level only fixes the ISA.
Target host_memory_facts() {
  Target target;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  target.cores = cores > 0 ? static_cast<int>(cores) : 1;
  target.l1d_bytes = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, target.l1d_bytes);
  target.l2_bytes = cache_bytes(_SC_LEVEL2_CACHE_SIZE, target.l2_bytes);
  target.l3_bytes = cache_bytes(_SC_LEVEL3_CACHE_SIZE, target.l3_bytes);
  return target;
}

Target cpu_level(const std::string& name, int vector_bits, bool fma) {
  Target target = host_memory_facts();
  target.name = name;
  target.vector_bits = vector_bits;
  target.has_fma = fma;
  return target;
}

}  // namespace

std::string Target::str() const {
  if (arch == TargetArch::Cuda)
    return fmt::format("{} (sm_{}, warp {}, {} threads/block, {}B shared/block)", name, sm_version, warp_size,
                       max_threads_per_block, shared_bytes_per_block);
  std::string isa = vector_bits >= 512 ? "avx512" : vector_bits >= 256 ? "avx2" : "sse";
  return fmt::format("{} ({}{}, {} cores, L1d {}, L2 {}, L3 {})", name, isa, has_fma ? ", fma" : "", cores,
                     kib(l1d_bytes), kib(l2_bytes), kib(l3_bytes));
}

Target detect_host_target() {
  __builtin_cpu_init();
  Target target = cpu_level("x86-64", 128, false);
  if (__builtin_cpu_supports("avx512f"))
    target = cpu_level("x86-64-v4", 512, true);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    target = cpu_level("x86-64-v3", 256, true);
  target.host = true;
  return target;
}

Expected<Target> parse_target(std::string_view name) {
  if (name == "host") return detect_host_target();
  if (name == "x86-64") return cpu_level("x86-64", 128, false);
  if (name == "x86-64-v3") return cpu_level("x86-64-v3", 256, true);
  if (name == "x86-64-v4") return cpu_level("x86-64-v4", 512, true);
  if (name.starts_with("cuda-sm")) {
    int sm = 0;
    std::string digits(name.substr(7));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || (sm = std::stoi(digits)) < 70)
      return make_error("unknown GPU target '{}'", name).with_hint("use cuda-smNN with NN >= 70, e.g. cuda-sm90");
    Target target;
    target.name = std::string(name);
    target.arch = TargetArch::Cuda;
    target.vector_bits = 0;
    target.sm_version = sm;
    target.sm_count = sm >= 90 ? 132 : 108;
    target.shared_bytes_per_block = 48 * 1024;
    return target;
  }
  return make_error("unknown target '{}'", name)
      .with_hint("known targets: host, x86-64, x86-64-v3, x86-64-v4, cuda-sm80, cuda-sm90");
}

}  // namespace tessel
