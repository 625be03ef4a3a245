// plan-memory: liveness-based arena planning for @main (see MemoryPlan.h).
//
// Expects: @main holds only `const` and `kernel` ops (run `fuse` first); otherwise it changes nothing.
// Guarantees: every kernel op carries `arena_offsets` (per result: its byte offset in the arena, a
// multiple of 64, or -1 for a function output, which the caller owns) and `inplace` (per result: the
// operand it overwrites, or -1). Two arena buffers whose lifetimes overlap never overlap in bytes, except
// an in-place result and the operand it replaces, which die and start at the same kernel. A slot is
// reused only when its size is provably at least the new buffer's (equal expressions, or a difference
// with no negative term). Results are unchanged: only attributes are added.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "passes/FusionRules.h"
#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

Function* main_function(const Module& module) {
  return module.function("main") ? module.function("main") : module.entry();
}

// Steps, buffers and lifetimes, without offsets.
MemoryPlan liveness(const Function& function) {
  MemoryPlan plan;
  std::unordered_set<const Value*> outputs(function.outputs().begin(), function.outputs().end());
  std::unordered_map<const Value*, size_t> buffer_of;
  for (const Op* op : function.ops()) {
    if (op->kind() == OpKind::Const) continue;
    int step = static_cast<int>(plan.steps.size());
    plan.steps.push_back(op);
    for (const Value* operand : op->operands()) {
      auto it = operand ? buffer_of.find(operand) : buffer_of.end();
      if (it != buffer_of.end()) plan.buffers[it->second].last_use = step;
    }
    for (const Value* result : op->results()) {
      BufferPlan buffer;
      buffer.value = result;
      buffer.step = buffer.last_use = step;
      buffer.in_arena = !outputs.count(result);
      buffer.bytes = aligned_bytes(result->type());
      buffer.raw_bytes =
          shape_numel(result->type().shape) * Dim(static_cast<int64_t>(dtype_size(result->type().dtype)));
      buffer_of[result] = plan.buffers.size();
      plan.buffers.push_back(std::move(buffer));
    }
  }
  return plan;
}

// An op that computes each output element from the same-index elements of its full-shape inputs.
bool is_elementwise_step(const Op& op) {
  if (op.kind() != OpKind::Kernel) return fusion::op_class(op) == fusion::OpClass::Elementwise;
  const Module* module = op.parent() ? op.parent()->module() : nullptr;
  const Function* body = module ? module->function(op.attr().s("body")) : nullptr;
  if (!body) return false;
  std::vector<Op*> ops = body->ops();  // ops() returns a fresh vector: keep one
  return std::all_of(ops.begin(), ops.end(), [](const Op* inner) {
    fusion::OpClass cls = fusion::op_class(*inner);
    return cls == fusion::OpClass::Const || cls == fusion::OpClass::Elementwise;
  });
}

struct Slot {
  Dim offset;
  Dim size;           // aligned
  Dim raw_size;       // before alignment, of the buffer that opened the slot
  int occupant = -1;  // buffer index, or -1 when free

  // Rounding up is monotonic, so raw sizes prove it too: 144*N >= 12*N although their aligned forms
  // 64*((144*N+63)/64) and 64*((12*N+63)/64) do not compare textually.
  bool holds(const Dim& bytes, const Dim& raw) const { return provably_ge(size, bytes) || provably_ge(raw_size, raw); }
};

class Allocator {
 public:
  explicit Allocator(MemoryPlan& plan) : plan_(plan) {}

  void run() {
    for (size_t step = 0; step < plan_.steps.size(); ++step) {
      const Op& op = *plan_.steps[step];
      for (size_t b = 0; b < plan_.buffers.size(); ++b)
        if (plan_.buffers[b].step == static_cast<int>(step) && plan_.buffers[b].in_arena) place(op, b);
      Dim live = 0;
      for (const Slot& slot : slots_)
        if (slot.occupant >= 0) live = live + plan_.buffers[slot.occupant].bytes;
      plan_.peak_bytes.add(live);
      for (Slot& slot : slots_)
        if (slot.occupant >= 0 && plan_.buffers[slot.occupant].last_use <= static_cast<int>(step)) slot.occupant = -1;
    }
    plan_.arena_bytes = end_;
  }

 private:
  void place(const Op& op, size_t b) {
    BufferPlan& buffer = plan_.buffers[b];
    if (take_in_place(op, b)) return;
    int best = -1;
    for (size_t s = 0; s < slots_.size(); ++s) {
      if (slots_[s].occupant >= 0 || !slots_[s].holds(buffer.bytes, buffer.raw_bytes)) continue;
      if (best < 0 || slots_[best].holds(slots_[s].size, slots_[s].raw_size)) best = static_cast<int>(s);
    }
    if (best < 0) {
      best = static_cast<int>(slots_.size());
      slots_.push_back(Slot{end_, buffer.bytes, buffer.raw_bytes, -1});
      end_ = end_ + buffer.bytes;
    }
    slots_[best].occupant = static_cast<int>(b);
    buffer.offset = slots_[best].offset;
  }

  bool take_in_place(const Op& op, size_t b) {
    BufferPlan& buffer = plan_.buffers[b];
    if (op.num_results() != 1 || !is_elementwise_step(op)) return false;
    for (size_t i = 0; i < op.num_operands(); ++i) {
      const Value* operand = op.operand(i);
      if (!operand || operand->type() != buffer.value->type()) continue;
      for (Slot& slot : slots_) {
        if (slot.occupant < 0) continue;
        const BufferPlan& old = plan_.buffers[slot.occupant];
        if (old.value != operand || old.last_use != buffer.step) continue;
        slot.occupant = static_cast<int>(b);
        buffer.offset = slot.offset;
        buffer.inplace_operand = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

  MemoryPlan& plan_;
  std::vector<Slot> slots_;
  Dim end_ = 0;
};

// Arena and peak bytes from offsets already assigned (recorded ones, for memory_stats).
void measure(const MemoryPlan& plan, DimMax& arena, DimMax& peak) {
  for (const BufferPlan& buffer : plan.buffers)
    if (buffer.in_arena) arena.add(buffer.offset + buffer.bytes);
  for (size_t step = 0; step < plan.steps.size(); ++step) {
    std::map<Dim, Dim> by_offset;  // an in-place pair shares one offset and counts once
    for (const BufferPlan& buffer : plan.buffers)
      if (buffer.in_arena && buffer.step <= static_cast<int>(step) && static_cast<int>(step) <= buffer.last_use)
        by_offset.emplace(buffer.offset, buffer.bytes);
    Dim live = 0;
    for (const auto& [offset, bytes] : by_offset) live = live + bytes;
    peak.add(live);
  }
}

}  // namespace

bool provably_ge(const Dim& a, const Dim& b) {
  if (a == b) return true;
  Dim difference = a - b;
  if (auto value = difference.as_const()) return *value >= 0;
  // Canonical text prints every negative coefficient or constant with '-'; without one, the difference is
  // a sum of products of non-negative constants, symbols, floor-divisions and remainders.
  return difference.str().find('-') == std::string::npos;
}

void DimMax::add(const Dim& value) {
  for (const Dim& candidate : candidates_)
    if (provably_ge(candidate, value)) return;
  std::erase_if(candidates_, [&](const Dim& candidate) { return provably_ge(value, candidate); });
  candidates_.push_back(value);
}

std::string DimMax::str() const {
  if (candidates_.empty()) return "0";
  if (candidates_.size() == 1) return candidates_.front().str();
  std::vector<std::string> parts;
  for (const Dim& candidate : candidates_) parts.push_back(candidate.str());
  return fmt::format("max({})", fmt::join(parts, ", "));
}

Dim aligned_bytes(const TensorType& type) {
  Dim bytes = shape_numel(type.shape) * Dim(static_cast<int64_t>(dtype_size(type.dtype)));
  if (auto blocks = bytes.divide_exact(Dim(kArenaAlignment))) return *blocks * Dim(kArenaAlignment);
  return (bytes + Dim(kArenaAlignment - 1)).floordiv(kArenaAlignment) * Dim(kArenaAlignment);
}

Expected<MemoryPlan> compute_memory_plan(const Function& function) {
  MemoryPlan plan = liveness(function);
  Allocator(plan).run();
  return plan;
}

Expected<bool> plan_memory(Module& module, PassContext& context) {
  Function* main = main_function(module);
  if (!main) return false;
  // The plan is recorded on kernel ops; an unfused @main has nowhere to record it, so the pass leaves it
  // unchanged (it runs alone in the numerics guard; --stats still plans unfused modules on the fly).
  for (const Op* op : main->ops())
    if (op->kind() != OpKind::Const && op->kind() != OpKind::Kernel) {
      if (context.log && context.options.verbose)
        *context.log << "plan-memory: @" << main->name() << " holds a '" << op->name()
                     << "' op outside any kernel; nothing planned (run fuse first)\n";
      return false;
    }
  TESSEL_ASSIGN(MemoryPlan plan, compute_memory_plan(*main));
  std::unordered_map<const Value*, const BufferPlan*> by_value;
  for (const BufferPlan& buffer : plan.buffers) by_value[buffer.value] = &buffer;
  bool changed = false;
  for (Op* op : main->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    Shape offsets;
    std::vector<int64_t> inplace;
    for (const Value* result : op->results()) {
      const BufferPlan& buffer = *by_value.at(result);
      offsets.push_back(buffer.in_arena ? buffer.offset : Dim(-1));
      inplace.push_back(buffer.inplace_operand);
    }
    auto set = [&](const std::string& name, Attr value) {
      auto it = op->attrs().find(name);
      if (it != op->attrs().end() && it->second == value) return;
      op->set_attr(name, std::move(value));
      changed = true;
    };
    set("arena_offsets", Attr(std::move(offsets)));
    set("inplace", Attr(std::move(inplace)));
  }
  if (context.log && context.options.verbose)
    *context.log << "plan-memory: arena " << plan.arena_bytes.str() << " bytes, peak " << plan.peak_bytes.str() << "\n";
  return changed;
}

Expected<MemoryStats> memory_stats(const Module& module) {
  MemoryStats stats;
  Function* main = main_function(module);
  if (!main) return stats;
  bool recorded = true;
  for (const Op* op : main->ops()) {
    if (op->kind() == OpKind::Kernel) ++stats.kernels;
    if (op->kind() == OpKind::Kernel && !op->attrs().count("arena_offsets")) recorded = false;
    if (op->kind() != OpKind::Kernel && op->kind() != OpKind::Const) recorded = false;
  }
  if (stats.kernels == 0 || !recorded) {
    TESSEL_ASSIGN(MemoryPlan plan, compute_memory_plan(*main));
    stats.arena_bytes.add(plan.arena_bytes);
    stats.peak_bytes = plan.peak_bytes;
    return stats;
  }
  MemoryPlan plan = liveness(*main);
  for (BufferPlan& buffer : plan.buffers) {
    const Op* op = buffer.value->producer();
    const Shape& offsets = op->attr().dims("arena_offsets");
    if (offsets.size() != op->num_results())
      return make_error("memory_stats: kernel '{}' records {} arena offsets for {} results", op->attr().s("body"),
                        offsets.size(), op->num_results());
    buffer.offset = offsets[buffer.value->index()];
    buffer.in_arena = buffer.offset != Dim(-1);
  }
  measure(plan, stats.arena_bytes, stats.peak_bytes);
  return stats;
}

std::string format_memory_stats(const MemoryStats& stats) {
  return fmt::format("kernels: {}\narena bytes: {}\npeak bytes: {}\n", stats.kernels, stats.arena_bytes.str(),
                     stats.peak_bytes.str());
}

}  // namespace tessel
