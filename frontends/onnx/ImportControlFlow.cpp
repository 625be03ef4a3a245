// Control flow by inlining: If imports the branch its (import-time) condition selects; Loop and Scan
// are unrolled, importing the body once per iteration with the iteration's values bound. This needs the
// condition, the trip count and the scan lengths known at import time -- the usual case for exported
// models with static shapes -- and turns a Loop whose condition is computed at run time into an
// "unsupported" error. Each unrolled body still folds, so loops over shapes usually vanish.
#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

constexpr int64_t kMaxIterations = 1 << 16;

const pb::GraphProto* graph_attr(NodeContext& ctx, const char* name) {
  const pb::AttributeProto* attr = ctx.find_attr(name);
  if (!attr || (attr->type() != pb::AttributeProto::GRAPH && !attr->has_g())) {
    ctx.fail(make_error("{} needs the graph attribute '{}'", ctx.op_type(), name));
    return nullptr;
  }
  return &attr->g();
}

// Imports `graph` inline; null (with the error recorded) when that fails.
std::optional<std::vector<Value*>> inline_graph(NodeContext& ctx, const pb::GraphProto& graph,
                                                const std::vector<Value*>& inputs) {
  auto outputs = import_subgraph(ctx.state(), graph, inputs);
  ctx.b().set_location(ctx.node().name().empty() ? ctx.op_type() : ctx.node().name());
  if (!outputs) {
    ctx.fail(make_error("in subgraph '{}': {}", graph.name(), outputs.error().str()));
    return std::nullopt;
  }
  return std::move(outputs).value();
}

Value* bool_scalar(NodeContext& ctx, bool value) { return ctx.constant(Tensor::of<bool>({}, {value}), "cond"); }

Value* index_slice(NodeContext& ctx, Value* x, int64_t axis, int64_t index) {
  Value* slice = ctx.op(OpKind::Slice, {x},
                        {{"starts", std::vector<int64_t>{index}},
                         {"ends", std::vector<int64_t>{index + 1}},
                         {"axes", std::vector<int64_t>{axis}}});
  return ctx.op(OpKind::Squeeze, {slice}, {{"axes", std::vector<int64_t>{axis}}});
}

// Stacks per-iteration values along a new `axis` (which may be negative, counted in the result's rank).
Value* stack(NodeContext& ctx, const std::vector<Value*>& parts, int64_t axis) {
  if (parts.empty() || !parts[0])
    return ctx.fail_unsupported(make_error("a loop that runs zero times has scan outputs of unknown shape"));
  int64_t rank = parts[0]->type().rank() + 1;
  if (axis < 0) axis += rank;
  std::vector<Value*> expanded;
  for (Value* part : parts)
    expanded.push_back(ctx.op(OpKind::Unsqueeze, {part}, {{"axes", std::vector<int64_t>{axis}}}));
  return expanded.size() == 1 ? expanded[0] : ctx.op(OpKind::Concat, expanded, {{"axis", axis}});
}

// The Scan-9 recurrence over `states` and `inputs` (already without any batch axis).
std::optional<std::vector<Value*>> run_scan(NodeContext& ctx, const pb::GraphProto& body, std::vector<Value*> states,
                                            const std::vector<Value*>& inputs, const std::vector<int64_t>& in_axes,
                                            const std::vector<int64_t>& in_dirs, const std::vector<int64_t>& out_axes,
                                            const std::vector<int64_t>& out_dirs) {
  std::optional<int64_t> length;
  std::vector<int64_t> axes;
  for (size_t j = 0; j < inputs.size(); ++j) {
    int64_t rank = inputs[j]->type().rank();
    int64_t axis = j < in_axes.size() ? in_axes[j] : 0;
    if (axis < 0) axis += rank;
    auto n = axis >= 0 && axis < rank ? inputs[j]->type().shape[axis].as_const() : std::nullopt;
    if (!n) {
      ctx.fail_unsupported(
          make_error("Scan needs a constant length along the scan axis, got {}", inputs[j]->type().str()));
      return std::nullopt;
    }
    if (length && *length != *n) {
      ctx.fail(make_error("Scan inputs have different lengths {} and {}", *length, *n));
      return std::nullopt;
    }
    length = n;
    axes.push_back(axis);
  }
  if (!length || *length > kMaxIterations) {
    ctx.fail_unsupported(make_error("Scan needs at least one scan input and at most {} steps", kMaxIterations));
    return std::nullopt;
  }
  size_t num_states = states.size();
  std::vector<std::vector<Value*>> scans;
  for (int64_t t = 0; t < *length; ++t) {
    std::vector<Value*> args = states;
    for (size_t j = 0; j < inputs.size(); ++j) {
      bool reverse = j < in_dirs.size() && in_dirs[j] != 0;
      args.push_back(index_slice(ctx, inputs[j], axes[j], reverse ? *length - 1 - t : t));
    }
    auto outs = inline_graph(ctx, body, args);
    if (!outs || outs->size() < num_states) return std::nullopt;
    std::copy(outs->begin(), outs->begin() + static_cast<long>(num_states), states.begin());
    scans.resize(outs->size() - num_states);
    for (size_t k = 0; k < scans.size(); ++k) scans[k].push_back((*outs)[num_states + k]);
  }
  std::vector<Value*> results = states;
  for (size_t k = 0; k < scans.size(); ++k) {
    if (k < out_dirs.size() && out_dirs[k] != 0) std::reverse(scans[k].begin(), scans[k].end());
    results.push_back(stack(ctx, scans[k], k < out_axes.size() ? out_axes[k] : 0));
  }
  return results;
}

}  // namespace

void import_if(NodeContext& ctx) {
  auto cond = ctx.require_constant(0, "condition");
  if (!cond) return;
  if (cond->numel() != 1)
    return (void)ctx.fail(make_error("If's condition must hold one value, got {}", cond->type_str()));
  const pb::GraphProto* branch = graph_attr(ctx, cond->get_int(0) != 0 ? "then_branch" : "else_branch");
  if (!branch) return;
  auto outputs = inline_graph(ctx, *branch, {});
  if (!outputs) return;
  if (static_cast<int>(outputs->size()) != ctx.num_outputs())
    return (void)ctx.fail(make_error("the branch has {} outputs, the node {}", outputs->size(), ctx.num_outputs()));
  for (int i = 0; i < ctx.num_outputs(); ++i) ctx.set_output(i, (*outputs)[i]);
}

void import_loop(NodeContext& ctx) {
  const pb::GraphProto* body = graph_attr(ctx, "body");
  if (!body) return;
  std::optional<int64_t> trips;
  if (ctx.has_input(0)) {
    auto m = ctx.require_ints(0, "trip count");
    if (!m) return;
    if (m->size() != 1) return (void)ctx.fail(make_error("the trip count must hold one value"));
    trips = (*m)[0];
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    auto c = ctx.require_constant(1, "condition");
    if (!c) return;
    cond = c->numel() > 0 && c->get_int(0) != 0;
  }
  std::vector<Value*> carried;
  for (int i = 2; i < ctx.num_inputs(); ++i) carried.push_back(ctx.input(i));
  if (ctx.failed()) return;
  size_t num_carried = carried.size();
  if (ctx.num_outputs() < static_cast<int>(num_carried))
    return (void)ctx.fail(make_error("Loop has {} carried values but {} outputs", num_carried, ctx.num_outputs()));
  std::vector<std::vector<Value*>> scans(static_cast<size_t>(ctx.num_outputs()) - num_carried);
  for (int64_t i = 0; (!trips || i < *trips) && cond; ++i) {
    if (i >= kMaxIterations)
      return (void)ctx.fail_unsupported(make_error("Loop runs more than {} iterations", kMaxIterations));
    std::vector<Value*> args{ctx.constant(Tensor::of<int64_t>({}, {i}), "iteration"), bool_scalar(ctx, cond)};
    args.insert(args.end(), carried.begin(), carried.end());
    auto outs = inline_graph(ctx, *body, args);
    if (!outs) return;
    if (outs->size() != 1 + num_carried + scans.size())
      return (void)ctx.fail(
          make_error("Loop body has {} outputs, expected {}", outs->size(), 1 + num_carried + scans.size()));
    const Tensor* next = constant_of((*outs)[0]);
    if (!next)
      return (void)ctx.fail_unsupported(
          make_error("the Loop condition is computed at run time; Tessel unrolls loops whose "
                     "condition is known at import time"));
    cond = next->numel() > 0 && next->get_int(0) != 0;
    std::copy(outs->begin() + 1, outs->begin() + 1 + static_cast<long>(num_carried), carried.begin());
    for (size_t k = 0; k < scans.size(); ++k) scans[k].push_back((*outs)[1 + num_carried + k]);
  }
  for (size_t i = 0; i < num_carried; ++i) ctx.set_output(static_cast<int>(i), carried[i]);
  for (size_t k = 0; k < scans.size(); ++k) ctx.set_output(static_cast<int>(num_carried + k), stack(ctx, scans[k], 0));
}

void import_scan(NodeContext& ctx) {
  const pb::GraphProto* body = graph_attr(ctx, "body");
  if (!body) return;
  int64_t num_scan = ctx.attr_i("num_scan_inputs", 0);
  bool batched = ctx.opset() < 9;  // Scan-8: a leading batch axis on everything, and sequence_lens first
  int first = batched ? 1 : 0;
  int64_t num_states = ctx.num_inputs() - first - num_scan;
  if (num_scan <= 0 || num_states < 0)
    return (void)ctx.fail(make_error("Scan has num_scan_inputs {} for {} inputs", num_scan, ctx.num_inputs()));
  if (batched && ctx.has_input(0))
    return (void)ctx.fail_unsupported(make_error("Scan-8 with sequence_lens is not supported"));
  std::vector<Value*> states, inputs;
  for (int i = first; i < ctx.num_inputs(); ++i) (i - first < num_states ? states : inputs).push_back(ctx.input(i));
  if (ctx.failed()) return;
  std::vector<int64_t> in_axes = ctx.attr_ints("scan_input_axes"), out_axes = ctx.attr_ints("scan_output_axes");
  std::vector<int64_t> in_dirs = ctx.attr_ints(batched ? "directions" : "scan_input_directions");
  std::vector<int64_t> out_dirs = ctx.attr_ints("scan_output_directions");
  if (!batched) {
    auto results = run_scan(ctx, *body, states, inputs, in_axes, in_dirs, out_axes, out_dirs);
    if (!results) return;
    for (size_t i = 0; i < results->size(); ++i) ctx.set_output(static_cast<int>(i), (*results)[i]);
    return;
  }
  // Scan-8: run the recurrence per batch entry, then stack the results along the batch axis.
  for (Value* v : states)
    if (v->type().rank() == 0)
      return (void)ctx.fail(make_error("Scan-8 states need a batch axis, got {}", v->type().str()));
  for (Value* v : inputs)
    if (v->type().rank() < 2)
      return (void)ctx.fail(make_error("Scan-8 inputs need batch and scan axes, got {}", v->type().str()));
  auto batch = (states.empty() ? inputs[0] : states[0])->type().shape[0].as_const();
  if (!batch) return (void)ctx.fail_unsupported(make_error("Scan-8 needs a constant batch size"));
  std::vector<std::vector<Value*>> per_output;
  for (int64_t b = 0; b < *batch; ++b) {
    std::vector<Value*> s, in;
    for (Value* v : states) s.push_back(index_slice(ctx, v, 0, b));
    for (Value* v : inputs) in.push_back(index_slice(ctx, v, 0, b));
    auto results = run_scan(ctx, *body, s, in, {}, in_dirs, {}, {});
    if (!results) return;
    per_output.resize(results->size());
    for (size_t k = 0; k < results->size(); ++k) per_output[k].push_back((*results)[k]);
  }
  for (size_t k = 0; k < per_output.size(); ++k) ctx.set_output(static_cast<int>(k), stack(ctx, per_output[k], 0));
}

}  // namespace tessel::onnx
