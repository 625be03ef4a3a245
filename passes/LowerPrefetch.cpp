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
// no sweep variable. With every loop inside the prefetches (register tile, vector lanes) at 0, the
// index is blk + off, where blk (the reduction variables at 0 too) starts the block of one iteration
// and off is the offset of the current reduction step in it. The block of the next iteration starts E
// elements further, E = blk(a + 1) - blk(a), a constant for affine indices. Sweep iteration q of Q then
// prefetches element
//
//   blk + E + (q * E + off) / Q
//
// in each reduction step: q's share of the next block, in the order the reduction will read it (weights
// blocked by the register tile, as `layout` stores them). When the steps' offsets span less than E
// (unblocked weights: a step reads one element of each output channel's row; span <= E / 2), off is
// stretched by E / span so the shares still cover the block. When a step's share is longer than a cache line, the step
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
  const int64_t* c = as_int_const(simplify(folded));
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

/// q: the flat iteration index of the sweep loops.
Expr sweep_index(const std::vector<NestLoop>& sweep) {
  Expr q = int_imm(0);
  for (const NestLoop& l : sweep) q = q * l.extent + var(l.var);
  return simplify(q);
}

}  // namespace

Expected<std::vector<Stmt>> prefetches_for(const Stmt& update, const PrefetchNest& nest, const std::string& axis) {
  auto fail = [&](const std::string& why) { return make_error("schedule prefetch={}: {}", axis, why); };
  auto sweep_count = trip_count(nest.sweep);
  if (!sweep_count)
    return fail("a spatial loop between its loop and the reduction has a symbolic extent")
        .with_hint("order the symbolic axes outside the prefetched axis");
  std::vector<std::string> inside;
  for (const NestLoop& l : nest.reduction) inside.push_back(l.var);
  std::vector<Expr> loads;
  collect_loads(update, loads);
  std::vector<Stmt> result;
  std::set<std::string> seen;
  for (const Expr& load : loads) {
    const Expr& index = load->arg(0);
    if (!depends_on(index, nest.outer_var) || depends_on_any(index, nest.sweep) ||
        !depends_on_any(index, nest.reduction))
      continue;
    Expr step = with_zeros(index, nest.inner_vars);
    Expr block_start = with_zeros(step, inside);
    auto block = block_elements(block_start, nest.outer_var);
    if (!block || *block <= 0) continue;  // no next block to find
    Expr offset = simplify(step - block_start);
    // Steps that read one slice of a block whose other slices the register tile reads (weights not
    // blocked by the tile: each step reads one element per output channel) stretch over the whole block.
    // Blocked weights span all of it but the tile's last vector, which needs no stretching.
    auto span = step_span(offset, nest.reduction);
    if (span && *span > 0 && 2 * *span <= *block) offset = simplify(offset * int_imm(*block) / int_imm(*span));
    int64_t q_count = std::max<int64_t>(1, *sweep_count);
    Expr share = q_count == 1 ? offset : (sweep_index(nest.sweep) * int_imm(*block) + offset) / int_imm(q_count);
    Expr target = simplify(block_start + int_imm(*block) + share);
    // Elements the share advances per reduction step, and the lines that covers.
    auto steps = trip_count(nest.reduction);
    auto elem_bytes = static_cast<int64_t>(dtype_size(load->type.elem));
    int64_t lines = 1;
    if (steps && *steps > 0) {
      int64_t share_bytes = *block * elem_bytes / (*steps * q_count);
      lines = std::clamp<int64_t>((share_bytes + kLineBytes - 1) / kLineBytes, 1, kMaxLinesPerStep);
    }
    for (int64_t k = 0; k < lines; ++k) {
      Expr at = k == 0 ? target : simplify(target + int_imm(k * kLineBytes / elem_bytes));
      std::string key = load->name + "[" + print(at) + "]";
      if (seen.insert(key).second) result.push_back(prefetch(load->name, at));
    }
  }
  if (result.empty())
    return fail(fmt::format("no read in the reduction depends on '{}' and the reduction but not on the spatial loops "
                            "between them",
                            nest.outer_var))
        .with_hint("prefetch suits an output-channel axis of a conv or gemm whose weights are constant");
  return result;
}

}  // namespace tessel::lower
