// Schedules: how a kernel's iteration domain becomes loops. A schedule names axes of the domain (which
// the kernel's anchor op defines, see docs/loop-ir.md) and says, in a text form that round-trips:
//
//   order=[n,oc,oh,ow,ic,kh,kw] tile=[oh:4,ow:16] vectorize=ow:16 parallel=n unroll=kw:3 prefetch=oc
//   gpu_blocks=[i,j] gpu_threads=[i,j] shared=[a,b]
//
// - order: loop nesting, outermost first; axes left out follow in domain order.
// - tile=[a:T]: splits a into a.o (at a's place in the order) and a.i (extent T), placed innermost:
//   reduction tiles first, then spatial tiles -- the register/cache block that an accumulator covers.
// - vectorize=a:W: the innermost W elements of a become one W-lane vector (W a power of two); a ragged
//   end runs as a scalar tail.
// - parallel=a (or [a,b]): a's outermost loop runs on the thread pool.
// - unroll=a:F (or a list): a's innermost scalar loop is unrolled by F.
// - prefetch=a (or a list): while one iteration of a's outer loop runs, the reduction's reads of buffers
//   that depend on a but not on the spatial loops inside it (a conv's weights) are prefetched for a's
//   next iteration, a 1/Q share in each of the Q iterations of those spatial loops
//   (passes/LowerPrefetch.cpp).
// - gpu_blocks / gpu_threads: the outer parts / tile parts of those axes map to blocks / threads;
//   shared lists kernel inputs staged in shared memory per block.
// Every field is optional; the empty text is the empty schedule (domain order, all serial).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/Dim.h"
#include "ir/Error.h"

namespace tessel {

/// An axis name with a factor: a tile size, a vector width or an unroll factor.
struct AxisFactor {
  std::string axis;
  int64_t factor = 1;
  bool operator==(const AxisFactor& other) const = default;
};

struct Schedule {
  std::vector<std::string> order;
  std::vector<AxisFactor> tile;
  std::vector<AxisFactor> vectorize;  ///< at most one entry
  std::vector<std::string> parallel;
  std::vector<AxisFactor> unroll;
  std::vector<std::string> prefetch;
  std::vector<std::string> gpu_blocks;
  std::vector<std::string> gpu_threads;
  std::vector<std::string> shared;

  bool empty() const;
  /// Canonical text (fields in the order above, lists without spaces); "" for the empty schedule.
  std::string str() const;
  bool operator==(const Schedule& other) const = default;

  /// The tile factor of `axis`, or 0.
  int64_t tile_of(const std::string& axis) const;
  /// The vector width if `axis` is vectorized, or 0.
  int64_t vector_width_of(const std::string& axis) const;
  int64_t unroll_of(const std::string& axis) const;
};

/// Parses the text form; errors say where ("schedule:1:12") and what was expected.
Expected<Schedule> parse_schedule(std::string_view text);

/// One axis of a kernel's iteration domain: spatial (an output dim) or a reduction.
struct DomainAxis {
  std::string name;
  Dim extent;
  bool reduction = false;
  /// The anchor reads its operands contiguously along this spatial axis (a conv's output channels when the
  /// `layout` pass stored its weights channel-last): the scheduler vectorizes it instead of the last axis.
  bool prefer_vector = false;
};

/// Checks a schedule against a domain: known axes, no duplicates, vector widths powers of two that
/// divide the axis' tile, parallel/vector/GPU axes spatial, GPU threads only on tiled axes. Legal
/// oddities (a tile or vector wider than a constant extent) are appended to `notes` when given.
Status validate_schedule(const Schedule& schedule, const std::vector<DomainAxis>& domain,
                         std::vector<std::string>* notes = nullptr);

/// "[n: N, oc: 64, ..., ic: 3 (reduction)]", for messages and dumps.
std::string domain_str(const std::vector<DomainAxis>& domain);

}  // namespace tessel
