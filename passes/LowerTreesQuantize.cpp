// Quantized thresholds for the tensorized tree strategy ("tensorized-quantized"). Per feature, the
// ensemble's distinct thresholds t_0 < ... < t_{m-1} (as f32, the values nodes compare with); a row's
// value x of that feature is coded once, before the traversal, as
//
//   code(x) = 2 * #{k : t_k < x} + (x == some t_k)        (NaN: kNanCode)
//
// and a node comparing with t_k compares code(x) with code(t_k) = 2k + 1 under its own mode. code is
// non-decreasing in x and equals 2k + 1 exactly at t_k, so x < t_k <=> code(x) < 2k + 1, x == t_k <=>
// code(x) == 2k + 1, and likewise for <=, >, >=, != : the decisions are the float decisions, +-inf
// included. NaN keeps its own code and routes by the node's missing flag, as before. The code of a
// feature is found by a binary search of ceil(log2(m + 1)) fixed steps (the loop IR has no early exit).
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "passes/LowerTrees.h"

namespace tessel::trees {
namespace {

/// Per feature, its distinct thresholds, ascending (only features some branch reads have any).
std::vector<std::vector<float>> feature_thresholds(const Model& model) {
  std::vector<std::set<float>> sets(static_cast<size_t>(model.features));
  for (const Node& node : model.nodes)
    if (node.mode != Mode::Leaf) sets[static_cast<size_t>(node.feature)].insert(node.threshold);
  std::vector<std::vector<float>> out;
  for (const auto& set : sets) out.emplace_back(set.begin(), set.end());
  return out;
}

}  // namespace

std::string quantize_refusal(const Model& model) {
  for (const Node& node : model.nodes)
    if (node.mode != Mode::Leaf && std::isnan(node.threshold)) return "a node's threshold is NaN";
  auto thresholds = feature_thresholds(model);
  for (size_t f = 0; f < thresholds.size(); ++f)
    if (2 * static_cast<int64_t>(thresholds[f].size()) + 1 >= kNanCode)
      return fmt::format("feature {} has {} distinct thresholds, more than u16 codes can hold", f,
                         thresholds[f].size());
  return {};
}

Expected<std::vector<std::pair<std::string, Tensor>>> make_quantized_tables(const Model& model) {
  std::string refusal = quantize_refusal(model);
  if (!refusal.empty()) return make_error("tree thresholds cannot be quantized: {}", refusal);
  auto thresholds = feature_thresholds(model);
  int64_t total = 0;
  for (const auto& list : thresholds) total += static_cast<int64_t>(list.size());
  Tensor offsets(DType::I64, {model.features + 1}), values(DType::F32, {total + 1}),
      codes(DType::U16, {static_cast<int64_t>(model.nodes.size())});
  int64_t at = 0;
  for (size_t f = 0; f < thresholds.size(); ++f) {
    offsets.data<int64_t>()[f] = at;
    for (float t : thresholds[f]) values.data<float>()[at++] = t;
  }
  offsets.data<int64_t>()[model.features] = at;
  values.data<float>()[at] = 0;  // padding: the search may read one past a feature's list
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    const Node& node = model.nodes[i];
    int64_t code = 0;
    if (node.mode != Mode::Leaf) {
      const auto& list = thresholds[static_cast<size_t>(node.feature)];
      code = 2 * (std::lower_bound(list.begin(), list.end(), node.threshold) - list.begin()) + 1;
    }
    codes.data<uint16_t>()[i] = static_cast<uint16_t>(code);
  }
  return std::vector<std::pair<std::string, Tensor>>{{"qoffsets", offsets}, {"qthresholds", values}, {"qcodes", codes}};
}

}  // namespace tessel::trees

namespace tessel::lower {

using namespace loop;  // NOLINT

Expected<Stmt> quantized_codes(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                               const std::map<std::string, std::string>& tables, const std::string& codes, Stmt body) {
  const std::string state = "tree_qstate";
  int64_t widest = 0;
  for (int64_t f = 0; f < model.features; ++f) {
    const Tensor* offsets = op.parent()->module()->constant(tables.at("qoffsets"));
    widest = std::max(widest, offsets->data<int64_t>()[f + 1] - offsets->data<int64_t>()[f]);
  }
  int64_t steps = 0;
  while ((int64_t{1} << steps) < widest + 1) ++steps;  // ceil(log2(m + 1)) halvings empty [0, m]

  Expr f = var("tree_f"), lo = var("tree_lo"), hi = var("tree_hi");
  Expr offset = load(tables.at("qoffsets"), DType::I64, f);
  Expr count = load(tables.at("qoffsets"), DType::I64, f + int_imm(1)) - offset;
  TESSEL_ASSIGN(Expr x, tree_feature(op.operand(0), inliner, row, f));
  auto threshold_at = [&](const Expr& k) {  // in range: the table has one padding value after the last list
    Expr t = load(tables.at("qthresholds"), DType::F32, offset + k);
    return x->type.elem == DType::F32 ? t : cast(Type{DType::F64}, t);
  };
  Expr mid = (lo + hi) / int_imm(2);
  Expr open = lo < hi, less = threshold_at(mid) < x;
  Stmt step =
      let_stmt("tree_lo", load(state, DType::I64, int_imm(0)),
               let_stmt("tree_hi", load(state, DType::I64, int_imm(1)),
                        block({store(state, int_imm(0), select(open && less, mid + int_imm(1), lo)),
                               store(state, int_imm(1), select(open && call(Intrinsic::Not, {less}), mid, hi))})));
  Expr found = load(state, DType::I64, int_imm(0));
  Expr equal = found < count && eq(threshold_at(found), x);
  Expr code = int_imm(2) * found + select(equal, int_imm(1), int_imm(0));
  if (is_float(op.operand(0)->type().dtype)) code = select(call(Intrinsic::IsNan, {x}), int_imm(trees::kNanCode), code);
  Stmt per_feature = block({store(state, int_imm(0), int_imm(0)), store(state, int_imm(1), count),
                            for_loop("tree_step", int_imm(0), int_imm(steps), ForKind::Serial, step),
                            store(codes, f, cast(Type{DType::U16}, code))});
  Stmt fill = for_loop("tree_f", int_imm(0), int_imm(model.features), ForKind::Serial, per_feature);
  Stmt stmt = allocate(state, DType::I64, int_imm(2), MemoryKind::Local, block({fill, std::move(body)}));
  return allocate(codes, DType::U16, int_imm(std::max<int64_t>(model.features, 1)), MemoryKind::Local, stmt);
}

}  // namespace tessel::lower
