// lower_kernel: plans which anchors fuse into an output's store and which are materialized, builds one
// loop nest per materialized anchor, per statistic of a staged op (softmax, layer_norm, ...) and per
// output, and cleans the result up (simplify, vectorize, simplify), then stages the schedule's `shared`
// inputs in GPU shared memory (LowerShared.h) and shares common subexpressions. Anchors are results, not
// ops: the two results of max_pool (values, indices) are two anchors, each with its own nest. See
// LowerKernel.h for the contract.
#include "passes/LowerKernel.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "ir/loop/RangeSimplify.h"
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"
#include "passes/LowerShared.h"
#include "passes/ScheduleKernels.h"

namespace tessel {

using namespace loop;  // NOLINT
using lower::Anchor;
using lower::Inliner;

namespace {

std::string sanitize(const std::string& name, const std::string& fallback, std::set<std::string>& used) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = fallback + out;
  std::string unique = out;
  for (int i = 1; used.count(unique); ++i) unique = fmt::format("{}_{}", out, i);
  used.insert(unique);
  return unique;
}

bool is_elementwise(const Op& op) {
  switch (op_info(op.kind()).family) {
    case OpFamily::Unary:
    case OpFamily::Binary:
    case OpFamily::Select:
    case OpFamily::Cast: return true;
    default: return false;
  }
}

/// A nest that runs before the outputs': a materialized anchor, or the statistics of a staged op.
struct Step {
  const Value* anchor = nullptr;
  const Op* staged = nullptr;
};

/// Which anchors fuse into which output, and the nests that run first.
struct Plan {
  std::vector<const Value*> fused;  ///< per output: the anchor computed in its nest, or null
  std::vector<Step> steps;          ///< in function order
};

class Planner {
 public:
  Expected<Plan> run(const Function& body) {
    for (const Op* op : body.ops()) TESSEL_TRY(lower::check_lowerable(*op));
    const auto& outputs = body.outputs();
    std::vector<std::map<const Value*, bool>> per_output(outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      std::set<std::pair<const Value*, int>> seen;
      permuted_.clear();
      output_ = outputs[k];
      walk(outputs[k], true, false, per_output[k], seen);
      output_ = nullptr;
      for (auto& [anchor, aligned] : per_output[k]) ++roots_[anchor];
    }
    // Anchors read by other anchors' operands are reached from those roots too.
    std::vector<const Value*> work;
    for (auto& [anchor, count] : roots_) work.push_back(anchor);
    std::set<const Value*> expanded;
    while (!work.empty()) {
      const Value* anchor = work.back();
      work.pop_back();
      if (!expanded.insert(anchor).second) continue;
      std::map<const Value*, bool> found;
      std::set<std::pair<const Value*, int>> seen;
      permuted_.clear();
      for (const Value* operand : anchor->producer()->operands())
        if (operand) walk(operand, false, false, found, seen);
      for (auto& [a, aligned] : found) {
        ++roots_[a];
        work.push_back(a);
      }
    }
    Plan plan;
    std::set<const Value*> fused;
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Value* f = nullptr;
      if (per_output[k].size() == 1) {
        auto [anchor, aligned] = *per_output[k].begin();
        if (aligned && roots_[anchor] == 1) f = anchor;
      }
      plan.fused.push_back(f);
      if (f) fused.insert(f);
    }
    for (const Op* op : body.ops()) {
      if (staged_.count(op)) plan.steps.push_back({nullptr, op});
      for (const Value* result : op->results())
        if (roots_.count(result) && !fused.count(result)) plan.steps.push_back({result, nullptr});
    }
    return plan;
  }

 private:
  /// Records the anchors reachable from `v` through inlinable ops; `aligned` while every op on the path
  /// is elementwise without broadcasting that operand, a view (reshape, squeeze, unsqueeze), a transpose or
  /// the output's own constant pad (its border is filled apart), so that the anchor's nest visits each
  /// output element at most once. An anchor reached on two paths of which one moves the index (transpose,
  /// pad) is not aligned: the paths would store its elements at different places.
  void walk(const Value* v, bool aligned, bool permuted, std::map<const Value*, bool>& found,
            std::set<std::pair<const Value*, int>>& seen) {
    if (!seen.insert({v, int{aligned} + 2 * int{permuted}}).second) return;
    const Op* op = v->producer();
    if (!op) return;
    if (lower::is_anchor(*op)) {
      auto [it, inserted] = found.emplace(v, aligned);
      if (!inserted) it->second = it->second && aligned && !permuted && !permuted_.count(v);
      if (permuted) permuted_.insert(v);
      return;
    }
    if (lower::is_staged(*op)) staged_.insert(op);
    bool view = op->kind() == OpKind::Reshape || op->kind() == OpKind::Squeeze || op->kind() == OpKind::Unsqueeze;
    bool moves = op->kind() == OpKind::Transpose || (v == output_ && lower::is_border_filled_pad(*op));
    for (const Value* operand : op->operands()) {
      if (!operand) continue;
      bool same = operand->type().shape == v->type().shape;
      walk(operand, aligned && (view || moves || (is_elementwise(*op) && same)), permuted || moves, found, seen);
    }
  }

  std::map<const Value*, int> roots_;
  std::set<const Op*> staged_;       ///< staged ops the outputs read
  std::set<const Value*> permuted_;  ///< anchors reached through a transpose or pad, by the current walk
  const Value* output_ = nullptr;    ///< the output being walked: its own pad may move the anchor's index
};

/// The ops of `body` that read `v`, and whether a function output is `v`.
std::vector<const Op*> users_of(const Function& body, const Value* v, bool& is_output) {
  std::vector<const Op*> users;
  for (const Op* op : body.ops())
    for (const Value* operand : op->operands())
      if (operand == v) {
        users.push_back(op);
        break;
      }
  is_output = std::find(body.outputs().begin(), body.outputs().end(), v) != body.outputs().end();
  return users;
}

/// Whether computing `v` reads an anchor or a staged op (through the inlinable ops that lead to it).
bool reads_an_anchor(const Value* v) {
  const Op* op = v->producer();
  if (!op) return false;
  if (lower::is_anchor(*op) || lower::is_staged(*op)) return true;
  for (const Value* operand : op->operands())
    if (operand && reads_an_anchor(operand)) return true;
  return false;
}

/// The end of the chain of elementwise ops of `anchor`'s shape that read it (or the previous link) as
/// their only user, e.g. the bias add and relu between a conv and the pool that reads it: a materialized
/// anchor stores that value, so the consumer does not recompute the chain at every read. The chain's
/// other operands are inlined at the stored index: they must read no anchor (which may not be
/// materialized yet) and not the chain's own values.
const Value* elementwise_epilogue(const Function& body, const Value* anchor) {
  const Value* end = anchor;
  while (true) {
    bool is_output = false;
    std::vector<const Op*> users = users_of(body, end, is_output);
    if (is_output || users.size() != 1) return end;
    const Op* next = users[0];
    if (!is_elementwise(*next) || next->num_results() != 1 || next->result()->type().shape != anchor->type().shape)
      return end;
    int reads = 0;
    for (const Value* operand : next->operands()) {
      if (operand == end) {
        ++reads;
      } else if (operand && reads_an_anchor(operand)) {
        return end;  // e.g. a division by another reduction, which may not be materialized yet
      }
    }
    if (reads != 1) return end;
    end = next->result();
  }
}

/// What moves an anchor's elements on their way to an output.
struct Route {
  bool permuted = false;  ///< a transpose: the output's contiguous axis may be another anchor axis
  bool shifted = false;   ///< a border-filled pad: the anchor's nest stores only the interior
};

/// The index of `v` at which the element of `anchor` at `at_anchor` lands, following the first operand
/// that leads to `anchor` through elementwise ops, views, transposes and a border-filled pad (the
/// Planner's aligned paths), noting on `route` what moved it. Nullopt when no operand leads to it.
std::optional<std::vector<Expr>> index_at(const Value* v, const Value* anchor, const std::vector<Expr>& at_anchor,
                                          Route& route) {
  if (v == anchor) return at_anchor;
  const Op* op = v->producer();
  if (!op || lower::is_anchor(*op)) return std::nullopt;
  for (const Value* operand : op->operands()) {
    if (!operand) continue;
    auto index = index_at(operand, anchor, at_anchor, route);
    if (!index) continue;
    switch (op->kind()) {
      case OpKind::Reshape:
      case OpKind::Squeeze:
      case OpKind::Unsqueeze: return lower::reshape_index(*index, operand->type().shape, v->type().shape);
      case OpKind::Transpose: {
        route.permuted = true;
        std::vector<Expr> out;
        for (int64_t p : op->attr().ints("perm")) out.push_back((*index)[static_cast<size_t>(p)]);
        return out;
      }
      case OpKind::Pad: {
        route.shifted = true;
        const auto& pads = op->attr().ints("pads");
        for (size_t d = 0; d < index->size(); ++d) (*index)[d] = simplify((*index)[d] + int_imm(pads[d]));
        return index;
      }
      default: return index;
    }
  }
  return std::nullopt;
}

/// When a transpose moves the anchor's elements (a channel-blocked output, [N, C / B, H, W, B]), the spatial
/// axis that alone indexes the output's last dim is the one whose stores are contiguous: the scheduler
/// vectorizes it (a pool's channels rather than its output row).
void prefer_contiguous_store(Anchor& anchor, const Value* out, const Value* fused) {
  std::vector<Expr> sp;
  for (size_t a = 0; a < anchor.num_spatial; ++a) sp.push_back(var(anchor.axes[a].name));
  Route route;
  auto index = index_at(out, fused, sp, route);
  if (!route.permuted || !index || index->empty()) return;
  Expr last = simplify(index->back());
  std::vector<size_t> axes;
  for (size_t a = 0; a < anchor.num_spatial; ++a)
    if (depends_on(last, anchor.axes[a].name)) axes.push_back(a);
  if (axes.size() != 1) return;
  for (size_t a = 0; a < anchor.num_spatial; ++a) anchor.axes[a].prefer_vector = a == axes[0];
}

Expr to_storage(const Expr& value, DType dtype) {
  if (value->type.elem == dtype) return value;
  return cast(Type{dtype, value->type.lanes}, value);
}

Expected<Anchor> output_anchor(const Plan& plan, const Function& body, size_t k, Inliner& inliner) {
  if (plan.fused[k]) return lower::make_anchor(plan.fused[k], inliner);
  return lower::elementwise_anchor(body.outputs()[k], inliner);
}

}  // namespace

Expected<std::vector<DomainAxis>> iteration_domain(const Function& body) {
  if (body.outputs().empty()) return make_error("lower: function @{} has no outputs", body.name());
  TESSEL_ASSIGN(Plan plan, Planner().run(body));
  Inliner inliner(body.module());
  TESSEL_ASSIGN(Anchor anchor, output_anchor(plan, body, 0, inliner));
  if (plan.fused[0]) prefer_contiguous_store(anchor, body.outputs()[0], plan.fused[0]);
  return anchor.axes;
}

Expected<loop::Kernel> lower_kernel(const Function& body, const Schedule& schedule, const Target& target) {
  if (body.outputs().empty()) return make_error("lower: function @{} has no outputs", body.name());
  TESSEL_ASSIGN(Plan plan, Planner().run(body));
  if (target.arch != TargetArch::Cuda && !schedule.gpu_blocks.empty())
    return make_error("lower: schedule maps GPU blocks but the target {} is a CPU", target.name);
  Inliner inliner(body.module());
  Kernel kernel;
  std::set<std::string> used;
  kernel.name = sanitize(body.name(), "k", used);
  std::map<const Value*, std::string> input_buffers;
  for (size_t i = 0; i < body.inputs().size(); ++i) {
    const Value* in = body.inputs()[i];
    std::string name = sanitize(in->name(), "in", used);
    input_buffers[in] = name;
    kernel.buffers.push_back({name, in->type().dtype, in->type().shape, BufferRole::Input, {}});
    inliner.bind_buffer(in, name);
  }
  std::vector<std::string> out_names;
  for (size_t k = 0; k < body.outputs().size(); ++k) {
    const Value* out = body.outputs()[k];
    std::string hint = k < body.output_names().size() ? body.output_names()[k] : "";
    out_names.push_back(sanitize(hint.empty() ? fmt::format("out{}", k) : hint, "out", used));
    kernel.buffers.push_back({out_names.back(), out->type().dtype, out->type().shape, BufferRole::Output, {}});
  }

  std::vector<Stmt> nests;
  std::vector<std::pair<std::string, TensorType>> temps;
  // A nest storing `anchor` into a new heap buffer of `type`, scheduled by the CPU rules (serial on GPUs,
  // where one thread would run it); returns the buffer's name.
  // With `epilogue` (a value computed elementwise from `anchor_value` alone), the nest stores the epilogue's
  // value instead: an anchor read many times by a consumer anchor gets its activation applied once.
  auto materialize = [&](const Anchor& anchor, const TensorType& type, const Value* anchor_value = nullptr,
                         const Value* epilogue = nullptr) -> Expected<std::string> {
    std::string name = sanitize(fmt::format("t{}", temps.size()), "t", used);
    auto store_fn = [&](const std::vector<Expr>& sp, const Expr& value) -> Expected<Stmt> {
      Expr result = value;
      if (epilogue) {
        inliner.substitute(anchor_value, value);
        auto applied = inliner.value_at(epilogue, sp);
        inliner.clear_substitute(anchor_value);
        if (!applied) return applied.error();
        result = *applied;
      }
      return store(name, lower::flat_index(sp, type.shape), to_storage(result, type.dtype));
    };
    Schedule own =
        target.arch == TargetArch::Cuda || anchor.custom ? Schedule{} : cpu_schedule(anchor.axes, type.dtype, target);
    TESSEL_ASSIGN(Stmt nest, lower::build_nest(anchor, own, store_fn));
    nests.push_back(nest);
    temps.emplace_back(name, type);
    return name;
  };
  for (const auto& step : plan.steps) {
    if (step.anchor) {
      TESSEL_ASSIGN(Anchor anchor, lower::make_anchor(step.anchor, inliner));
      const Value* stored = elementwise_epilogue(body, step.anchor);
      TESSEL_ASSIGN(std::string name,
                    materialize(anchor, stored->type(), step.anchor, stored == step.anchor ? nullptr : stored));
      inliner.bind_buffer(stored, name);
      continue;
    }
    TESSEL_ASSIGN(std::vector<TensorType> stats, lower::stage_types(*step.staged));
    for (size_t k = 0; k < stats.size(); ++k) {
      TESSEL_ASSIGN(Anchor anchor, lower::stage_anchor(*step.staged, k, inliner));
      TESSEL_ASSIGN(std::string name, materialize(anchor, stats[k]));
      inliner.bind_stat(step.staged, name);
    }
  }
  for (size_t k = 0; k < body.outputs().size(); ++k) {
    const Value* out = body.outputs()[k];
    const Value* fused = plan.fused[k];
    TESSEL_ASSIGN(Anchor anchor, output_anchor(plan, body, k, inliner));
    if (k == 0) {
      std::vector<std::string> notes;
      Status valid = validate_schedule(schedule, anchor.axes, &notes);
      if (!valid.ok()) return valid.error().at("kernel " + kernel.name + " " + domain_str(anchor.axes));
    }
    auto store_fn = [&](const std::vector<Expr>& sp, const Expr& value) -> Expected<Stmt> {
      Expr result = value;
      std::vector<Expr> out_index = sp;
      Route route;
      bool moved = false;
      if (fused) {
        // The anchor's nest runs over the anchor's shape; views after it keep the flat offset, transposes
        // (a channel-blocked output) and the output's pad move it.
        const Shape& anchor_shape = fused->type().shape;
        auto mapped = index_at(out, fused, sp, route);
        moved = mapped && (route.permuted || route.shifted);
        if (moved) {
          out_index = *mapped;
        } else if (anchor_shape != out->type().shape) {
          out_index = lower::unflatten(lower::flat_index(sp, anchor_shape), out->type().shape);
        }
        // A border-filled pad stores its operand's value: the nest covers only the interior.
        const Value* stored = route.shifted ? out->producer()->operand(0) : out;
        std::vector<Expr> stored_index = out_index;
        if (route.shifted) {
          Route inner;
          stored_index = *index_at(stored, fused, sp, inner);
        }
        inliner.substitute(fused, value);
        auto epilogue = inliner.value_at(stored, stored_index);
        inliner.clear_substitute(fused);
        if (!epilogue) return epilogue.error();
        result = *epilogue;
      }
      Expr flat = !fused  ? lower::flat_index(sp, out->type().shape)
                  : moved ? lower::flat_index(out_index, out->type().shape)
                          : lower::flat_index(sp, fused->type().shape);
      return store(out_names[k], flat, to_storage(result, out->type().dtype));
    };
    if (fused && out->producer() && lower::is_border_filled_pad(*out->producer())) {
      TESSEL_ASSIGN(Stmt border, lower::pad_border(out, out_names[k], target));
      nests.push_back(border);
    }
    if (!fused) {
      TESSEL_ASSIGN(std::optional<Stmt> padded,
                    lower::pad_as_fill_and_copy(out, out_names[k], k == 0 ? schedule : Schedule{}, target, inliner));
      if (padded) {
        nests.push_back(*padded);
        continue;
      }
    }
    auto pack =
        k == 0 && fused && target.arch != TargetArch::Cuda ? lower::plan_b_packing(fused, schedule) : std::nullopt;
    if (pack && input_buffers.count(pack->b)) {
      // Many rows: copy B into column panels and read those; few rows: read B as it is.
      std::string packed = sanitize("packed_" + input_buffers[pack->b], "packed", used);
      inliner.bind_packed(pack->b, packed,
                          [plan = *pack](const std::vector<Expr>& index) { return lower::packed_offset(plan, index); });
      auto fast = lower::build_nest(anchor, lower::with_row_prefetch(schedule), store_fn);
      inliner.unbind_packed(pack->b);
      if (!fast) return fast.error();
      TESSEL_ASSIGN(Stmt direct, lower::build_nest(anchor, schedule, store_fn));
      Expr size = simplify(dim_expr(pack->k) * int_imm(pack->n));
      Stmt packed_path = allocate(packed, pack->b->type().dtype, size, MemoryKind::Heap,
                                  block({lower::pack_nest(*pack, input_buffers[pack->b], packed), *fast}));
      nests.push_back(if_then_else(pack->rows >= int_imm(lower::kPackMinRows), packed_path, direct));
      continue;
    }
    TESSEL_ASSIGN(Stmt nest, lower::build_nest(anchor, k == 0 ? schedule : Schedule{}, store_fn));
    nests.push_back(nest);
  }
  Stmt stmt = block(nests);
  for (size_t t = temps.size(); t-- > 0;)
    stmt = allocate(temps[t].first, temps[t].second.dtype, dim_expr(shape_numel(temps[t].second.shape)),
                    MemoryKind::Heap, stmt);
  for (const auto& [buffer, constant] : inliner.constant_buffers()) {
    const Tensor* tensor = body.module()->constant(constant);
    kernel.buffers.push_back({buffer, tensor->dtype(), to_shape(tensor->shape()), BufferRole::Constant, constant});
  }
  // Divisions by constants that the loop ranges split exactly go first: the vectorizer then sees affine indices.
  kernel.body = simplify(vectorize_loops(simplify_div_mod(simplify(stmt))));
  // Staging reads the final indices: affine once the divisions are split.
  if (!schedule.shared.empty()) {
    TESSEL_ASSIGN(Stmt staged, stage_shared(kernel, schedule.shared, target));
    kernel.body = simplify(staged);
  }
  // CSE last: a let-bound index would hide its ramp and affine form from the vectorizer, codegen and staging.
  kernel.body = cse(kernel.body);
  return kernel;
}

}  // namespace tessel
