// Private to shared-memory staging (passes/LowerShared.cpp): the footprint of a buffer's loads in one GPU
// block body -- a box per block, found from the loads' affine indices with the block's loop variables
// fixed -- and the rewrite of those loads onto a staged copy of the box. passes/SharedFootprint.cpp says
// how indices are read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/loop/LoopIR.h"

namespace tessel::shared {

/// Saturation bound of element and load counts.
constexpr int64_t kHuge = int64_t{1} << 40;

struct Range {
  int64_t lo = 0, hi = 0;  ///< inclusive
};
using Ranges = std::map<std::string, Range>;

/// One dim of a footprint box: [origin, origin + extent), origin fixed for the block.
struct BoxDim {
  int64_t extent = 1;
  loop::Expr origin;
};

/// The elements a block reads of a buffer: box point p is the buffer's flat element
/// outer + sum_d (dims[d].origin + p_d) * strides[d].
struct Footprint {
  loop::Expr outer;
  std::vector<int64_t> strides;  ///< the buffer's, per dim
  std::vector<BoxDim> dims;
  int64_t elements = 1;  ///< product of the extents
  int64_t loads = 0;     ///< loads of the buffer one block runs
};

/// The footprint of `b`'s loads in block body `body`, nullopt if it reads none; an error (the reason,
/// for a message naming the buffer) when an index is not affine or the footprint is symbolic.
Expected<std::optional<Footprint>> footprint_of(const loop::Stmt& body, const loop::Buffer& b);

/// A buffer staged in a block: its shared copy and the footprint the copy holds.
struct Staged {
  const loop::Buffer* buffer;
  std::string shared;
  Footprint fp;
};

/// `body` with the loads of the staged buffers reading their copies, at indices rebased to the boxes.
Expected<loop::Stmt> rebase_loads(const loop::Stmt& body, const std::vector<Staged>& staged);

/// The range of an index expression over `ranges`, if every variable in it has one.
std::optional<Range> interval(const loop::Expr& e, const Ranges& ranges);

}  // namespace tessel::shared
