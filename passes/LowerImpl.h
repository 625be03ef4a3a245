// Private to the lowering (passes/Lower*.cpp): the value inliner that turns elementwise and injective
// tensor ops into expressions at an index, the anchor description (iteration domain, accumulators,
// update and finalize) that each anchor family provides, the staged ops (softmax, layer_norm, ...) that
// read reduction buffers computed before them, and the loop-nest builder that applies a schedule to an
// anchor.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/Module.h"
#include "ir/Schedule.h"
#include "ir/Type.h"
#include "ir/loop/LoopIR.h"
#include "passes/Target.h"

namespace tessel::lower {

using loop::Expr;
using loop::Stmt;

/// f32 for f16/bf16 (which compute in float and round per op), the dtype itself otherwise.
DType compute_dtype(DType dtype);
/// `value` (in compute_dtype(dtype)) rounded to `dtype` and back: the per-op rounding of f16/bf16.
Expr round_to(DType dtype, const Expr& value);
/// Row-major flat index of `index` in `shape`.
Expr flat_index(const std::vector<Expr>& index, const Shape& shape);
/// The index in `shape` of row-major flat offset `flat`.
std::vector<Expr> unflatten(Expr flat, const Shape& shape);
/// The index in `to` of the element at `index` in `from` (same element count, row-major): dims map group
/// by group where runs of dims have equal sizes (a split or merge of channels keeps the others' indices
/// as they are), else through the flat offset.
std::vector<Expr> reshape_index(const std::vector<Expr>& index, const Shape& from, const Shape& to);
/// "lower: op 'x' ..." errors.
Error op_error(const Op& op, const std::string& message);

/// Immediates of compute dtype `c`: 0, the lowest value (-inf for floats) and the highest (+inf).
Expr zero_of(DType c);
Expr lowest_of(DType c);
Expr highest_of(DType c);

/// Expressions for tensor values at an index. Function inputs, constants and materialized values are
/// loads from buffers; elementwise ops are inlined; injective ops remap the index; staged ops read
/// their statistics buffers.
class Inliner {
 public:
  explicit Inliner(const Module* module) : module_(module) {}

  /// The value of `v` at `index` (one i64 expression per dim), in compute_dtype(v's dtype).
  Expected<Expr> value_at(const Value* v, const std::vector<Expr>& index);

  /// Reads `v` from buffer `name` from now on.
  void bind_buffer(const Value* v, std::string name) { buffers_[v] = std::move(name); }
  /// Reads `v` from buffer `name` at the flat offset `offset(index)` (a packed copy) until unbound.
  using OffsetFn = std::function<Expr(const std::vector<Expr>& index)>;
  void bind_packed(const Value* v, std::string name, OffsetFn offset) {
    packed_[v] = {std::move(name), std::move(offset)};
  }
  void unbind_packed(const Value* v) { packed_.erase(v); }
  /// Uses `e` for `v` (only valid at the index of the nest being built: a fused anchor's value).
  void substitute(const Value* v, Expr e) { subst_[v] = std::move(e); }
  void clear_substitute(const Value* v) { subst_.erase(v); }
  /// Reads the next statistic of staged op `op` (stage_types(op) order) from buffer `name`.
  void bind_stat(const Op* op, std::string name) { stats_[op].push_back(std::move(name)); }
  /// Statistic `k` of staged op `op` at `index` (in the statistic's shape), in its compute dtype.
  Expected<Expr> stat_at(const Op& op, size_t k, const std::vector<Expr>& index);

  /// Constant buffers the kernel needs: buffer name -> module constant name.
  const std::map<std::string, std::string>& constant_buffers() const { return constant_buffers_; }
  /// Makes module constant `constant` a constant buffer of the kernel named `buffer` (tree tables).
  void bind_constant_buffer(std::string buffer, std::string constant) {
    constant_buffers_[std::move(buffer)] = std::move(constant);
  }

 private:
  Expected<Expr> op_at(const Op& op, const Value* v, const std::vector<Expr>& index);
  Expected<Expr> unary_at(const Op& op, const std::vector<Expr>& index);
  Expected<Expr> binary_at(const Op& op, const std::vector<Expr>& index);
  Expected<Expr> shape_op_at(const Op& op, const Value* v, const std::vector<Expr>& index);
  Expected<Expr> range_at(const Op& op, const Expr& i);
  Expected<Expr> constant_at(const Op& op, const std::vector<Expr>& index);
  Expected<Expr> staged_at(const Op& op, const Value* v, const std::vector<Expr>& index);
  /// Value of operand `i` of `op` read with numpy broadcasting into the result's `index`.
  Expected<Expr> broadcast_operand(const Op& op, size_t i, const std::vector<Expr>& index);

  const Module* module_;
  std::map<const Value*, std::string> buffers_;
  std::map<const Value*, Expr> subst_;
  std::map<const Value*, std::pair<std::string, OffsetFn>> packed_;
  std::map<const Op*, std::vector<std::string>> stats_;
  std::map<std::string, std::string> constant_buffers_;
};

/// A loop of a nest: its variable and extent.
struct NestLoop {
  std::string var;
  Expr extent;
};

/// Where a schedule's prefetch=a sits in a nest (passes/LowerPrefetch.cpp).
struct PrefetchNest {
  std::string outer_var;                ///< a's outermost loop (oc.o)
  std::vector<NestLoop> sweep;          ///< the spatial loops between it and the reduction (oh)
  std::vector<NestLoop> reduction;      ///< the reduction loops around the prefetches (ic, kh, kw)
  std::vector<std::string> inner_vars;  ///< the loops inside them (register tile, vector lanes)
};

/// Prefetches that run at the start of each iteration of the first `level` reduction loops' innermost one.
struct Prefetches {
  size_t level = 0;
  std::vector<Stmt> stmts;
};

/// The prefetches of schedule prefetch=a: for each read of `update` that depends on a's outer loop and the
/// reduction but not the sweep, its share of the next iteration of a, issued in the deepest reduction
/// loop whose iterations each cover half a cache line or more of it. An error names the axis when no read
/// qualifies or a sweep loop has a symbolic extent.
Expected<Prefetches> prefetches_for(const Stmt& update, const PrefetchNest& nest, const std::string& axis);

/// A reduction-style accumulator of an anchor.
struct Accumulator {
  DType dtype;
  Expr init;
};

/// What lowering needs from an anchor op (or from an output computed without one).
struct Anchor {
  std::vector<DomainAxis> axes;  ///< spatial axes (one per result dim, in order), then reduction axes
  size_t num_spatial = 0;
  std::vector<Accumulator> accs;
  /// Initial accumulator values at the spatial index, when they are not the constants in `accs`.
  std::function<Expected<std::vector<Expr>>(const std::vector<Expr>& spatial)> init_at;
  /// New accumulator values from the axis variables (spatial then reduction) and the current ones.
  std::function<Expected<std::vector<Expr>>(const std::vector<Expr>& axes, const std::vector<Expr>& accs)> update;
  /// The anchor's result (compute dtype) at the spatial index, from the final accumulator values.
  std::function<Expected<Expr>(const std::vector<Expr>& spatial, const std::vector<Expr>& accs)> finalize;
  /// Set by anchors whose nest is not a reduction (tree_ensemble, pairwise_coupling): builds the whole
  /// nest under the schedule, storing each result element through the store function; `axes` are the
  /// result dims and the other members are unused.
  std::function<Expected<Stmt>(const Schedule& schedule,
                               const std::function<Expected<Stmt>(const std::vector<Expr>&, const Expr&)>& store)>
      custom;
};

/// Whether `op` is an anchor (matmul, gemm, conv, pool, reduction) rather than an inlinable op.
bool is_anchor(const Op& op);
/// Whether `op` is staged: inlined at its result's index from statistics (row maxima, sums, means)
/// that nests run before it computes: softmax, log_softmax, layer_norm, reduce_log_sum_exp.
bool is_staged(const Op& op);
/// Checks that lowering knows the op; the error names it and says what to do.
Status check_lowerable(const Op& op);
/// The anchor description of `v` (a result of an anchor op), reading operands through `inliner`.
Expected<Anchor> make_anchor(const Value* v, Inliner& inliner);
/// An anchor-less nest that computes `v` elementwise over its shape.
Anchor elementwise_anchor(const Value* v, Inliner& inliner);

/// The statistics of staged op `op`, in the order their nests run.
Expected<std::vector<TensorType>> stage_types(const Op& op);
/// The nest computing statistic `k` of `op` (statistics before `k` are bound in `inliner`).
Expected<Anchor> stage_anchor(const Op& op, size_t k, Inliner& inliner);

/// The domain of a reduction of `in` over the `reduced` axes: the result dims d0.. (size-1 dims in
/// place of reduced axes with `keepdims`), then r<a> per reduced axis a.
Anchor reduction_domain(const Shape& in, const std::vector<bool>& reduced, bool keepdims);
/// The input index of point `ax` (spatial then reduction variables) of a reduction domain.
std::vector<Expr> reduction_input_index(const std::vector<bool>& reduced, bool keepdims, size_t num_spatial,
                                        const std::vector<Expr>& ax);

/// Conv and pool anchors (passes/LowerWindow.cpp).
Expected<Anchor> conv_anchor(const Op& op, Inliner& inliner);
Expected<Anchor> conv_transpose_anchor(const Op& op, Inliner& inliner);
Expected<Anchor> pool_anchor(const Value* v, Inliner& inliner);
/// tree_ensemble (passes/LowerTrees.cpp) and pairwise_coupling (passes/LowerCoupling.cpp): custom nests.
Expected<Anchor> tree_ensemble_anchor(const Op& op, Inliner& inliner);
Expected<Anchor> pairwise_coupling_anchor(const Op& op, Inliner& inliner);

/// Packing of a 2-D matmul's B (a kernel input) into column panels (passes/LowerPack.cpp).
/// Panels pay only when B's rows are long (1 KiB and more alias in caches) and there are many rows of A.
constexpr int64_t kPackMinColumns = 256;
constexpr int64_t kPackMinRows = 16;
struct PackPlan {
  const Value* b;
  int64_t tile;  ///< the schedule's tile of j: the panel width
  Dim k;
  int64_t n;
  Expr rows;  ///< rows of A, tested at run time against kPackMinRows
};
/// The packing plan for the nest of `anchor` under `schedule`, if B is worth packing.
std::optional<PackPlan> plan_b_packing(const Value* anchor, const Schedule& schedule);
/// The offset of B[index] (k, j) in the packed copy: ((j / T) * K + k) * T + j % T.
Expr packed_offset(const PackPlan& plan, const std::vector<Expr>& index);
/// The nest that copies buffer `source` (B) into buffer `packed`.
Stmt pack_nest(const PackPlan& plan, const std::string& source, const std::string& packed);
/// The schedule of the packed path: `schedule` plus prefetch=i -- each block of rows prefetches the next
/// block's rows of A -- unless it prefetches already or orders a spatial axis after the reduction.
Schedule with_row_prefetch(const Schedule& schedule);

/// Whether pad `op` can be lowered as a border fill plus stores into its interior: constant, nothing negative
/// (cropping), in a dtype that computes as itself (not bool).
bool is_border_filled_pad(const Op& op);
/// The fill of the border of `out` (a pad with is_border_filled_pad) in buffer `buffer`: serial boxes, two
/// per padded axis (passes/LowerPad.cpp).
Expected<Stmt> pad_border(const Value* out, const std::string& buffer, const Target& target);
/// A kernel output `out` that is a constant pad, as a fill of buffer `buffer` under `schedule` (the
/// output's domain) and a copy of the pad's input into its interior (passes/LowerPad.cpp); nullopt when
/// `out` is no such pad or the target is a GPU (whose threads read the generic form without gathers).
Expected<std::optional<Stmt>> pad_as_fill_and_copy(const Value* out, const std::string& buffer,
                                                   const Schedule& schedule, const Target& target, Inliner& inliner);

/// Stores the final value of a nest at its spatial index.
using StoreFn = std::function<Expected<Stmt>(const std::vector<Expr>& spatial, const Expr& value)>;

/// The loop nest computing `anchor` under `schedule` (validated by the caller), storing through `store`.
Expected<Stmt> build_nest(const Anchor& anchor, const Schedule& schedule, const StoreFn& store);

}  // namespace tessel::lower
