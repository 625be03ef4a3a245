// Prefetches for a schedule's `prefetch=a` (ir/Schedule.h), built into the nest by LowerNest.cpp.
//
// A conv whose weights do not stay in cache between inferences (ResNet's 512-channel stage streams
// 9.4 MB per conv) reads each block of weights -- one iteration of the output-channel loop `oc.o` --
// from memory during the first row `oh` and from L2 during the other rows: the first row waits on
// memory and the others leave it idle. Prefetching block oc.o + 1 while block oc.o runs, 1/Q of it in
// each of the Q iterations of the spatial loops inside oc.o (the "sweep", here the 7 rows), spreads the
// stream over all of oc.o's compute.
//
// A read qualifies when its index depends on the axis' outer variable and on a reduction variable but on
// no sweep variable. With every loop inside the prefetches (register tile, vector lanes, deeper reduction
// loops) at 0, the index is blk + off, where blk (the reduction variables at 0 too) starts the block of
// one iteration and off is the offset of the current reduction step in it. The block of the next
// iteration starts E elements further, E = blk(a + 1) - blk(a), a constant for affine indices. Sweep
// iteration q of Q then prefetches element
//
//   blk + E + (q * E + off) / Q
//
// per step: q's share of the next block, in the order the reduction will read it (weights blocked by the
// register tile, as `layout` stores them). When the steps' offsets span less than E (unblocked weights:
// a step reads one element of each output channel's row; span <= E / 2), off is stretched by E / span
// so the shares still cover the block.
//
// A "step" is one iteration of the deepest reduction loop whose iterations each cover at least
// kMinShareBytes of the share: a 7 x 7 conv's share per kw tap is 18 bytes, so it prefetches once per kh
// (55 bytes) rather than asking three times for most lines. A step whose share is longer than a line
// prefetches each of its lines.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

constexpr int64_t kLineBytes = 64;
/// Lines one step prefetches at most: a step of a long share (few sweep iterations, few steps) would
/// otherwise issue more prefetches than the core keeps in flight.
constexpr int64_t kMaxLinesPerStep = 4;
/// Bytes of its share that one execution of a prefetch should cover at least (see the level below).
constexpr int64_t kMinShareBytes = 32;

void collect_loads(const Expr& e, std::vector<Expr>& out) {
  if (e->kind == ExprKind::Load) out.push_back(e);
  for (const Expr& a : e->args) collect_loads(a, out);
}

void collect_loads(const Stmt& s, std::vector<Expr>& out) {
  for (const Expr& e : s->exprs) collect_loads(e, out);
  for (const Stmt& b : s->body) collect_loads(b, out);
}

bool depends_on_any(const Expr& e, const std::vector<NestLoop>& loops) {
  for (const NestLoop& l : loops)
    if (depends_on(e, l.var)) return true;
  return false;
}

Expr with_zeros(Expr e, const std::vector<std::string>& vars) {
  for (const std::string& v : vars) e = substitute(e, v, int_imm(0));
  return simplify(e);
}

/// The product of the loops' extents, if all are constant.
std::optional<int64_t> trip_count(const std::vector<NestLoop>& loops) {
  int64_t count = 1;
  for (const NestLoop& l : loops) {
    const int64_t* extent = as_int_const(l.extent);
    if (!extent) return std::nullopt;
    count *= *extent;
  }
  return count;
}

void collect_vars(const Expr& e, std::set<std::string>& out) {
  if (e->kind == ExprKind::Var) out.insert(e->name);
  for (const Expr& a : e->args) collect_vars(a, out);
}

/// `e` with the given variables at the given values and every other variable at 0, if that folds to a
/// constant. Indices are affine in the loop variables up to div/mod by the tile sizes that blocked layouts
/// add, which the simplifier does not always see through symbolically; at constants it does.
std::optional<int64_t> value_at(const Expr& e, const std::map<std::string, int64_t>& values) {
  std::set<std::string> vars;
  collect_vars(e, vars);
  Expr folded = e;
  for (const std::string& v : vars) {
    auto it = values.find(v);
    folded = substitute(folded, v, int_imm(it == values.end() ? 0 : it->second));
  }
  folded = simplify(folded);  // as_int_const points into the node: keep it alive
  const int64_t* c = as_int_const(folded);
  return c ? std::optional<int64_t>(*c) : std::nullopt;
}

/// E: how far the block of iteration 1 of `outer` starts after that of iteration 0.
std::optional<int64_t> block_elements(const Expr& block_start, const std::string& outer) {
  auto first = value_at(block_start, {{outer, 0}}), second = value_at(block_start, {{outer, 1}});
  if (!first || !second) return std::nullopt;
  return *second - *first;
}

/// The offsets the reduction steps read span [0, span): the last step's offset + 1 (constant extents).
std::optional<int64_t> step_span(const Expr& offset, const std::vector<NestLoop>& reduction) {
  std::map<std::string, int64_t> last;
  for (const NestLoop& l : reduction) {
    const int64_t* extent = as_int_const(l.extent);
    if (!extent) return std::nullopt;
    last[l.var] = *extent - 1;
  }
  auto at_last = value_at(offset, last);
  if (!at_last) return std::nullopt;
  return *at_last + 1;
}

/// A read that qualifies, with the start and size of its block.
struct Read {
  Expr load;
  Expr step;               ///< the index with the loops inside the reduction (tile, lanes) at 0
  Expr block_start;        ///< `step` with the reduction loops at 0 too
  int64_t block = 0;       ///< E, in elements
  int64_t elem_bytes = 0;  ///< of the buffer's dtype
  int64_t block_bytes() const { return block * elem_bytes; }
};

/// The number of reduction loops around the prefetches: the deepest loop whose iterations each cover
/// kMinShareBytes of the largest block's share (deeper, most prefetches would ask again for a line already
/// asked for, and each takes a load slot), at least the outermost.
size_t prefetch_level(const std::vector<Read>& reads, const std::vector<NestLoop>& reduction, int64_t q_count) {
  const Read& largest = *std::max_element(
      reads.begin(), reads.end(), [](const Read& a, const Read& b) { return a.block_bytes() < b.block_bytes(); });
  size_t level = reduction.size();
  while (level > 1) {
    auto steps = trip_count({reduction.begin(), reduction.begin() + static_cast<long>(level)});
    if (!steps || *steps <= 0 || largest.block_bytes() / (*steps * q_count) >= kMinShareBytes) break;
    --level;
  }
  return level;
}

/// q: the flat iteration index of the sweep loops.
Expr sweep_index(const std::vector<NestLoop>& sweep) {
  Expr q = int_imm(0);
  for (const NestLoop& l : sweep) q = q * l.extent + var(l.var);
  return simplify(q);
}

}  // namespace

Expected<Prefetches> prefetches_for(const Stmt& update, const PrefetchNest& nest, const std::string& axis) {
  auto fail = [&](const std::string& why) { return make_error("schedule prefetch={}: {}", axis, why); };
  auto sweep_count = trip_count(nest.sweep);
  if (!sweep_count)
    return fail("a spatial loop between its loop and the reduction has a symbolic extent")
        .with_hint("order the symbolic axes outside the prefetched axis");
  int64_t q_count = std::max<int64_t>(1, *sweep_count);
  std::vector<std::string> inside;
  for (const NestLoop& l : nest.reduction) inside.push_back(l.var);
  std::vector<Expr> loads;
  collect_loads(update, loads);
  std::vector<Read> reads;
  for (const Expr& load : loads) {
    const Expr& index = load->arg(0);
    if (!depends_on(index, nest.outer_var) || depends_on_any(index, nest.sweep) ||
        !depends_on_any(index, nest.reduction))
      continue;
    Expr step = with_zeros(index, nest.inner_vars);
    Expr block_start = with_zeros(step, inside);
    auto block = block_elements(block_start, nest.outer_var);
    if (block && *block > 0)  // else no next block to find
      reads.push_back({load, step, block_start, *block, static_cast<int64_t>(dtype_size(load->type.elem))});
  }
  if (reads.empty())
    return fail(fmt::format("no read in the reduction depends on '{}' and the reduction but not on the spatial loops "
                            "between them",
                            nest.outer_var))
        .with_hint("prefetch suits an output-channel axis of a conv or gemm whose weights are constant");
  size_t level = prefetch_level(reads, nest.reduction, q_count);
  auto steps = trip_count({nest.reduction.begin(), nest.reduction.begin() + static_cast<long>(level)});
  std::vector<std::string> deeper;  // reduction loops inside the prefetches
  for (size_t i = level; i < nest.reduction.size(); ++i) deeper.push_back(nest.reduction[i].var);

  Prefetches result{level, {}};
  std::set<std::string> seen;
  for (const Read& r : reads) {
    Expr offset = simplify(with_zeros(r.step, deeper) - r.block_start);
    // Steps that read one slice of a block whose other slices the register tile reads (weights not
    // blocked by the tile: each step reads one element per output channel) stretch over the whole block.
    // Blocked weights span all of it but the tile's last vector, which needs no stretching.
    auto span = step_span(simplify(r.step - r.block_start), nest.reduction);
    if (span && *span > 0 && 2 * *span <= r.block) offset = simplify(offset * int_imm(r.block) / int_imm(*span));
    Expr share = q_count == 1 ? offset : (sweep_index(nest.sweep) * int_imm(r.block) + offset) / int_imm(q_count);
    Expr target = simplify(r.block_start + int_imm(r.block) + share);
    int64_t lines = 1;  // those one step's share covers
    if (steps && *steps > 0)
      lines = std::clamp<int64_t>((r.block_bytes() / (*steps * q_count) + kLineBytes - 1) / kLineBytes, 1,
                                  kMaxLinesPerStep);
    for (int64_t k = 0; k < lines; ++k) {
      Expr at = k == 0 ? target : simplify(target + int_imm(k * kLineBytes / r.elem_bytes));
      std::string key = r.load->name + "[" + print(at) + "]";
      if (seen.insert(key).second) result.stmts.push_back(prefetch(r.load->name, at));
    }
  }
  return result;
}

}  // namespace tessel::lower
