// fuse: groups the ops of @main into kernels.
//
// Expects: a verified module with a function @main (else the entry function is used).
// Guarantees: every op of @main except `const` ops and sealed ops (existing kernels, ops on string or
// low-precision tensors, which kernels cannot take) is moved into exactly one kernel body, a new function
// `@main.kN` of the module; @main keeps its consts and calls the bodies through `kernel` ops, in an order
// that respects every dependency. Each group is convex (no path leaves it and comes back), so the kernel
// graph has no cycle; no op is duplicated; results are those of the unfused module, op for op. Scalar
// constants are copied into the bodies that read them (so code generators see their values); larger ones
// are kernel operands. The rules (FusionRules.h, docs/passes-fusion.md): at most one anchor per kernel,
// elementwise and injective ops join their producer's kernel as epilogue, or an anchor's kernel as
// prologue when the anchor class allows it and the anchor's kernel consumes everything they produce; a
// `pad` joins an anchor's kernel only as its last epilogue op, on CPUs, when it alone reads what it pads.
// A kernel op carries its anchor's location (else its first op's): profiles and errors name it so.
#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "passes/FusionRules.h"
#include "passes/LowerImpl.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

using fusion::OpClass;

struct Group {
  std::vector<int> members;  // op indices in @main, sorted
  const Op* anchor = nullptr;
  OpClass anchor_class = OpClass::Elementwise;
  bool has_pool = false;      // a pool fused after the conv anchor
  bool pad_epilogue = false;  // ends with a pad epilogue: nothing joins after it
  bool sealed = false;
};

// Forms the groups over @main's ops: greedy, in program order, each op first trying its latest producer's
// group. Every merge is checked against the rules and for convexity.
class Grouping {
 public:
  Grouping(const Function& function, bool pad_epilogues)
      : ops_(function.ops()), group_of_(ops_.size(), -1), pad_epilogues_(pad_epilogues) {
    for (size_t i = 0; i < ops_.size(); ++i) {
      index_[ops_[i]] = static_cast<int>(i);
      for (const Value* operand : ops_[i]->operands())
        if (operand) users_[operand].push_back(static_cast<int>(i));
    }
    outputs_.insert(function.outputs().begin(), function.outputs().end());
  }

  void run() {
    for (size_t i = 0; i < ops_.size(); ++i) place(static_cast<int>(i));
  }

  /// The groups as op lists, in an order where every group comes after the groups it reads from.
  Expected<std::vector<std::vector<Op*>>> ordered_groups() const;

 private:
  int producer_index(const Value* value) const {
    if (!value || !value->producer()) return -1;
    auto it = index_.find(value->producer());
    return it == index_.end() ? -1 : it->second;
  }

  void place(int i) {
    const Op& op = *ops_[i];
    OpClass cls = fusion::op_class(op);
    if (cls == OpClass::Const) return;
    Group group;
    group.members = {i};
    group.sealed = cls == OpClass::Sealed;
    if (fusion::is_anchor(cls)) {
      group.anchor = &op;
      group.anchor_class = cls;
    }
    group_of_[i] = static_cast<int>(groups_.size());
    groups_.push_back(std::move(group));
    if (groups_.back().sealed) return;
    // Latest producer first: it is the one that can take this op without a detour through another group.
    std::vector<int> producers;
    for (const Value* operand : op.operands()) {
      int p = producer_index(operand);
      if (p >= 0 && group_of_[p] >= 0) producers.push_back(group_of_[p]);
    }
    std::sort(producers.begin(), producers.end(),
              [&](int a, int b) { return groups_[a].members.back() > groups_[b].members.back(); });
    producers.erase(std::unique(producers.begin(), producers.end()), producers.end());
    for (int producer : producers) {
      int current = group_of_[i];
      if (producer != current && can_merge(producer, current) && !creates_cycle(producer, current))
        merge(producer, current);
    }
  }

  // Whether every value defined in `a` is read only by ops of `a` or `b` (and is no function output).
  bool consumed_within(int a, int b) const {
    for (int i : groups_[a].members)
      for (const Value* result : ops_[i]->results()) {
        if (outputs_.count(result)) return false;
        auto it = users_.find(result);
        if (it == users_.end()) continue;
        for (int user : it->second)
          if (group_of_[user] != a && group_of_[user] != b) return false;
      }
    return true;
  }

  // A pool joins a conv kernel only alone, reading a value that nothing else reads.
  bool pool_joins_conv(const Group& conv, const Group& pool) const {
    if (conv.has_pool || pool.members.size() != 1 || !fusion::pool_fusable_after_conv(*pool.anchor)) return false;
    const Value* input = pool.anchor->operand(0);
    auto it = users_.find(input);
    return !outputs_.count(input) && it != users_.end() && it->second.size() == 1;
  }

  // A pad joins no anchor's kernel as a conv's or pool's prologue: it would put a bounds test on every tap
  // (the `layout` pass pads their inputs so). As an epilogue, see pad_joins_as_epilogue.
  bool has_pad(const Group& group) const {
    return std::any_of(group.members.begin(), group.members.end(),
                       [&](int i) { return ops_[i]->kind() == OpKind::Pad; });
  }

  // On CPUs a constant pad joins its producer's anchor kernel as the last epilogue op when it alone reads
  // the value it pads and pads nothing negative: the anchor's nest stores into the pad's interior and
  // the border is filled apart (LowerKernel), so the padded copy of a conv's result -- the next conv's
  // input -- costs no kernel and no second pass over memory. Elsewhere a pad epilogue would make the
  // anchor's result a heap temporary.
  bool pad_joins_as_epilogue(int a, const Group& pad_group) const {
    if (!pad_epilogues_ || pad_group.members.size() != 1) return false;
    const Op& pad = *ops_[pad_group.members[0]];
    if (!lower::is_border_filled_pad(pad)) return false;  // the lowering fills its border apart
    const Value* padded = pad.operand(0);
    int producer = producer_index(padded);
    auto it = users_.find(padded);
    return producer >= 0 && group_of_[producer] == a && !outputs_.count(padded) && it != users_.end() &&
           it->second.size() == 1;
  }

  // `a` produces values that `b` reads.
  bool can_merge(int a, int b) const {
    const Group& A = groups_[a];
    const Group& B = groups_[b];
    if (A.sealed || B.sealed) return false;
    if (A.anchor && B.anchor) {
      if (A.anchor_class == OpClass::Reduction && B.anchor_class == OpClass::Reduction)
        return fusion::same_reduction_domain(*A.anchor, *B.anchor);
      return A.anchor_class == OpClass::Conv && B.anchor_class == OpClass::Pool && pool_joins_conv(A, B);
    }
    if (A.pad_epilogue) return false;  // its output nest stores the pad: the group takes nothing more
    if (A.anchor) {                    // b is an epilogue
      if (A.anchor_class == OpClass::Opaque) return false;
      return !has_pad(B) || pad_joins_as_epilogue(a, B);
    }
    if (B.anchor) {  // a is a prologue
      if ((B.anchor_class == OpClass::Conv || B.anchor_class == OpClass::Pool) && has_pad(A)) return false;
      for (int i : A.members)
        if (!fusion::allows_prologue(B.anchor_class, *ops_[i])) return false;
      return consumed_within(a, b);
    }
    return true;
  }

  std::vector<int> successors(int g) const {
    std::vector<int> out;
    for (int i : groups_[g].members)
      for (const Value* result : ops_[i]->results()) {
        auto it = users_.find(result);
        if (it == users_.end()) continue;
        // Users not placed yet (-1) come later than every placed op and cannot lead back into a group.
        for (int user : it->second)
          if (group_of_[user] != g && group_of_[user] >= 0) out.push_back(group_of_[user]);
      }
    return out;
  }

  // Merging a and b makes a cycle iff some other group is reachable from one of them and reaches one of them.
  bool creates_cycle(int a, int b) const {
    std::vector<char> seen(groups_.size(), 0);
    std::vector<int> stack;
    for (int g : {a, b})
      for (int next : successors(g))
        if (next != a && next != b) stack.push_back(next);
    while (!stack.empty()) {
      int g = stack.back();
      stack.pop_back();
      if (seen[g]) continue;
      seen[g] = 1;
      for (int next : successors(g)) {
        if (next == a || next == b) return true;
        stack.push_back(next);
      }
    }
    return false;
  }

  void merge(int a, int b) {
    Group& into = groups_[b];
    Group& from = groups_[a];
    if (from.anchor && into.anchor_class == OpClass::Pool) into.has_pool = true;  // conv takes the pool
    if (from.anchor) {
      into.anchor = from.anchor;
      into.anchor_class = from.anchor_class;
    }
    into.has_pool = into.has_pool || from.has_pool;
    if (from.anchor && has_pad(into)) into.pad_epilogue = true;
    into.pad_epilogue = into.pad_epilogue || from.pad_epilogue;
    for (int i : from.members) group_of_[i] = b;
    into.members.insert(into.members.end(), from.members.begin(), from.members.end());
    std::sort(into.members.begin(), into.members.end());
    from.members.clear();
  }

  std::vector<Op*> ops_;
  std::unordered_map<const Op*, int> index_;
  std::unordered_map<const Value*, std::vector<int>> users_;
  std::unordered_set<const Value*> outputs_;
  std::vector<int> group_of_;  // -1 for const ops
  std::vector<Group> groups_;  // merged-away groups are left empty
  bool pad_epilogues_;         // pads may join anchor kernels as epilogues (CPU targets)
};

Expected<std::vector<std::vector<Op*>>> Grouping::ordered_groups() const {
  // Kahn's algorithm over the group graph, earliest first op first (keeps the program order readable).
  std::vector<int> pending(groups_.size(), 0);
  std::vector<std::vector<int>> next(groups_.size());
  size_t live = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].members.empty()) continue;
    ++live;
    std::vector<int> succ = successors(static_cast<int>(g));
    std::sort(succ.begin(), succ.end());
    succ.erase(std::unique(succ.begin(), succ.end()), succ.end());
    for (int s : succ) ++pending[s];
    next[g] = std::move(succ);
  }
  auto later = [&](int a, int b) { return groups_[a].members.front() > groups_[b].members.front(); };
  std::priority_queue<int, std::vector<int>, decltype(later)> ready(later);
  for (size_t g = 0; g < groups_.size(); ++g)
    if (!groups_[g].members.empty() && pending[g] == 0) ready.push(static_cast<int>(g));
  std::vector<std::vector<Op*>> order;
  while (!ready.empty()) {
    int g = ready.top();
    ready.pop();
    std::vector<Op*> members;
    for (int i : groups_[g].members) members.push_back(ops_[i]);
    order.push_back(std::move(members));
    for (int s : next[g])
      if (--pending[s] == 0) ready.push(s);
  }
  if (order.size() != live) return make_error("fuse: internal error: the kernel graph has a cycle");
  return order;
}

bool is_scalar_const(const Value* value) {
  if (!value->producer() || value->producer()->kind() != OpKind::Const) return false;
  auto shape = static_shape(value->type().shape);
  return shape && shape_numel(value->type().shape) == Dim(1);
}

std::string unique_function_name(const Module& module, const std::string& base, int& counter) {
  std::string name;
  do name = base + ".k" + std::to_string(counter++);
  while (module.function(name));
  return name;
}

// Every symbol in the body's types must be bound by its inputs, or the body could not run on its own.
Status check_symbols_bound(const Function& body) {
  std::set<std::string> bound;
  for (const Value* input : body.inputs())
    for (const Dim& dim : input->type().shape) dim.collect_symbols(bound);
  for (const Op* op : body.ops())
    for (const Value* result : op->results()) {
      std::set<std::string> used;
      for (const Dim& dim : result->type().shape) dim.collect_symbols(used);
      for (const std::string& symbol : used)
        if (!bound.count(symbol))
          return make_error("fuse: kernel @{} would compute {} of type {}, but no input binds symbol '{}'", body.name(),
                            op->name(), result->type().str(), symbol);
    }
  return Status::success();
}

// Symbols that the body's values use but none of its inputs binds (an expand of a scalar to [2, N, 32], as
// exporters write zero initial states) are bound by an extra operand: a @main input whose shape names the
// symbol. The body reads it only for its shape.
void add_symbol_witnesses(const Function& main, Function& body, std::vector<Value*>& operands) {
  std::set<std::string> bound, used;
  for (const Value* input : body.inputs())
    for (const Dim& dim : input->type().shape) dim.collect_symbols(bound);
  for (const Op* op : body.ops())
    for (const Value* result : op->results())
      for (const Dim& dim : result->type().shape) dim.collect_symbols(used);
  for (const std::string& symbol : used) {
    if (bound.count(symbol)) continue;
    for (Value* input : main.inputs()) {
      const Shape& shape = input->type().shape;
      if (std::none_of(shape.begin(), shape.end(), [&](const Dim& d) { return d.as_symbol() == symbol; })) continue;
      operands.push_back(input);
      body.add_input(input->name().empty() ? "shape_of_" + symbol : input->name(), input->type());
      for (const Dim& dim : shape) dim.collect_symbols(bound);
      break;
    }
  }
}

// Moves one group into a new body function and appends the kernel op that calls it to `main`.
Status build_kernel(Function& main, const std::vector<Op*>& members, const std::string& body_name) {
  Module& module = *main.module();
  Function* body = module.add_function(body_name);
  std::unordered_set<const Op*> inside(members.begin(), members.end());
  std::unordered_map<const Value*, Value*> mapped;  // @main value -> body value
  std::vector<Value*> operands;
  auto body_value = [&](Value* value) -> Value* {
    if (!value) return nullptr;
    if (auto it = mapped.find(value); it != mapped.end()) return it->second;
    if (is_scalar_const(value)) {
      const Op* producer = value->producer();
      Op* copy = body->append(OpKind::Const, {}, {value->type()}, producer->attrs(), producer->location());
      copy->result()->set_name(value->name());
      return mapped[value] = copy->result();
    }
    std::string name = value->name().empty() ? "in" + std::to_string(operands.size()) : value->name();
    operands.push_back(value);
    return mapped[value] = body->add_input(name, value->type());
  };
  for (Op* op : members) {
    std::vector<Value*> args;
    for (Value* operand : op->operands()) args.push_back(body_value(operand));
    std::vector<TensorType> types;
    for (const Value* result : op->results()) types.push_back(result->type());
    Op* copy = body->append(op->kind(), std::move(args), std::move(types), op->attrs(), op->location());
    for (size_t i = 0; i < op->num_results(); ++i) {
      copy->result(i)->set_name(op->result(i)->name());
      mapped[op->result(i)] = copy->result(i);
    }
  }
  // Results: values defined here and read by another op or returned by @main.
  std::unordered_set<const Value*> used_outside(main.outputs().begin(), main.outputs().end());
  for (const Op* op : main.ops())
    if (!inside.count(op))
      for (const Value* operand : op->operands()) used_outside.insert(operand);
  std::vector<Value*> results, body_outputs;
  std::vector<std::string> output_names;
  for (const Op* op : members)
    for (Value* result : op->results())
      if (used_outside.count(result)) {
        results.push_back(result);
        body_outputs.push_back(mapped.at(result));
        output_names.push_back(result->name().empty() ? "out" + std::to_string(results.size() - 1) : result->name());
      }
  if (results.empty()) {  // a group of dead ops: keep its last result so the kernel is well formed
    results.push_back(members.back()->result(0));
    body_outputs.push_back(mapped.at(results.back()));
    output_names.push_back("out0");
  }
  body->set_outputs(body_outputs, output_names);
  add_symbol_witnesses(main, *body, operands);
  TESSEL_TRY(check_symbols_bound(*body));
  std::vector<TensorType> types;
  for (const Value* result : results) types.push_back(result->type());
  // The kernel is named by its anchor's location (profiles and errors label kernels so), else its first op's.
  auto anchor = std::find_if(members.begin(), members.end(),
                             [](const Op* op) { return fusion::is_anchor(fusion::op_class(*op)); });
  const std::string& location = (anchor != members.end() ? *anchor : members.front())->location();
  Op* kernel = main.append(OpKind::Kernel, operands, types, {{"body", body_name}}, location);
  for (size_t i = 0; i < results.size(); ++i) {
    kernel->result(i)->set_name(results[i]->name());
    main.replace_all_uses(results[i], kernel->result(i));
  }
  return Status::success();
}

// Re-appends a sealed op at the end of `main` so that it follows the kernels it may read.
void move_to_end(Function& main, Op* op) {
  std::vector<TensorType> types;
  for (const Value* result : op->results()) types.push_back(result->type());
  Op* copy = main.append(op->kind(), op->operands(), std::move(types), op->attrs(), op->location());
  for (size_t i = 0; i < op->num_results(); ++i) {
    copy->result(i)->set_name(op->result(i)->name());
    main.replace_all_uses(op->result(i), copy->result(i));
  }
}

// Scalar const ops whose every reader moved into a body (that copied the scalar) are dropped.
void erase_unused_consts(Function& main, const std::unordered_set<const Op*>& candidates) {
  std::unordered_set<const Value*> used(main.outputs().begin(), main.outputs().end());
  for (const Op* op : main.ops())
    for (const Value* operand : op->operands()) used.insert(operand);
  for (Op* op : main.ops())
    if (candidates.count(op) && !used.count(op->result())) main.erase(op);
}

}  // namespace

Expected<bool> fuse(Module& module, PassContext& context) {
  Function* main = module.function("main") ? module.function("main") : module.entry();
  if (!main) return false;
  Grouping grouping(*main, context.target.arch != TargetArch::Cuda);
  grouping.run();
  TESSEL_ASSIGN(auto groups, grouping.ordered_groups());
  auto sealed = [](const std::vector<Op*>& members) { return fusion::op_class(*members.front()) == OpClass::Sealed; };
  if (std::all_of(groups.begin(), groups.end(), sealed)) return false;
  // Rebuild @main's op list in group order behind the consts: each group becomes a kernel appended at the
  // end (sealed ops are re-appended as they are); the old ops go once everything reads the new values.
  std::unordered_set<const Op*> scalar_consts;
  for (const Op* op : main->ops())
    if (op->kind() == OpKind::Const && is_scalar_const(op->result())) scalar_consts.insert(op);
  int counter = 0;
  for (const auto& members : groups) {
    if (sealed(members)) {
      move_to_end(*main, members.front());
      continue;
    }
    std::string name = unique_function_name(module, main->name(), counter);
    TESSEL_TRY(build_kernel(*main, members, name));
    if (context.log && context.options.verbose)
      *context.log << "fuse: kernel @" << name << " holds " << members.size() << " ops\n";
  }
  for (auto it = groups.rbegin(); it != groups.rend(); ++it)
    for (auto op = it->rbegin(); op != it->rend(); ++op) main->erase(*op);
  erase_unused_consts(*main, scalar_consts);
  return true;
}

}  // namespace tessel
