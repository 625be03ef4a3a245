// Memory planning for @main: every intermediate tensor (a result that is not a function output) gets a
// byte offset in one arena, chosen by liveness over @main's op order so that buffers whose lifetimes do not
// overlap share space; an elementwise kernel may write its result over an input that dies there (in place).
// Sizes and offsets are Dims: they stay symbolic where shapes are (e.g. 128*N). The `plan-memory` pass
// records the plan on kernel ops (`arena_offsets`, `inplace`); `memory_stats` reads it back for --stats.
// Format and rules: docs/passes-fusion.md.
#pragma once

#include <string>
#include <vector>

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel {

/// Every buffer is aligned to (and its size rounded up to) this many bytes.
inline constexpr int64_t kArenaAlignment = 64;

/// a >= b for every value of the symbols (symbols are dims, so >= 0), proven from the canonical form:
/// a == b, or a - b has no negative coefficient or constant. False when not provable.
bool provably_ge(const Dim& a, const Dim& b);

/// The maximum of Dims, kept exact where comparable: the candidates none of which is provably below another.
class DimMax {
 public:
  void add(const Dim& value);
  const std::vector<Dim>& candidates() const { return candidates_; }
  /// "0" when empty; the single value; else "max(A, B)".
  std::string str() const;

 private:
  std::vector<Dim> candidates_;
};

/// Bytes of a tensor of `type`, rounded up to kArenaAlignment.
Dim aligned_bytes(const TensorType& type);

/// One result of one step (a non-const op of @main, in order).
struct BufferPlan {
  const Value* value = nullptr;
  int step = 0;              ///< index of the defining op among @main's non-const ops
  int last_use = 0;          ///< last step that reads it (== step when unread)
  bool in_arena = false;     ///< false for function outputs: the caller owns those
  Dim bytes;                 ///< aligned size
  Dim raw_bytes;             ///< numel * dtype size, before alignment (alignment is monotonic: compare these)
  Dim offset = Dim(-1);      ///< arena offset, or -1 when not in the arena
  int inplace_operand = -1;  ///< operand index of the defining op whose buffer this one overwrites
};

struct MemoryPlan {
  std::vector<const Op*> steps;
  std::vector<BufferPlan> buffers;
  Dim arena_bytes;    ///< sum of the arena's slot sizes
  DimMax peak_bytes;  ///< most bytes of arena buffers live at one step
};

/// Plans `function` (any op kinds: each non-const op is one step). In place: a single-result step that
/// is elementwise (an elementwise op, or a kernel whose body is only elementwise ops) writes over an arena
/// operand of the same type whose last use is this step.
Expected<MemoryPlan> compute_memory_plan(const Function& function);

/// What `--stats` prints.
struct MemoryStats {
  int64_t kernels = 0;
  DimMax arena_bytes;
  DimMax peak_bytes;
};

/// Kernels in @main, and the arena and peak bytes: read from the recorded plan when every kernel carries
/// one (`plan-memory` ran), else computed by compute_memory_plan without changing the module.
Expected<MemoryStats> memory_stats(const Module& module);

/// Exactly three lines: "kernels: K", "arena bytes: B", "peak bytes: P" (each ending in a newline).
std::string format_memory_stats(const MemoryStats& stats);

}  // namespace tessel
