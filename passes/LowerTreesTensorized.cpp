// The tensorized tree traversal: every tree walks the full depth of the ensemble level by level, the
// trees of a level in the inner loop, with the nodes read from tables (module constants that
// choose-tree-strategy made, named by the op's `tree_tables` prefix) instead of being code:
//
//   allocate tree_node i64[trees] local {
//     for t: node[t] = roots[t]
//     for level < depth: for t: let k = node[t] in node[t] = cond(k) ? true[k] : false[k]
//     for t: let leaf = node[t] in for j < T: acc[j] (+)= values[leaf * T + j]   (hits[..] under MIN/MAX)
//   }
//
// Leaves point at themselves, so a short path just stays at its leaf. There are no data-dependent
// jumps, and the inner loop runs over independent trees, so their loads overlap. Adding a leaf's
// absent targets as 0 leaves SUM and AVERAGE unchanged; MIN and MAX read the `hits` table.
// "tensorized-quantized" first codes the row's features (LowerTreesQuantize.cpp) into `tree_codes`,
// and nodes compare those u16 codes with their threshold's code instead of f32 values.
#include <set>

#include <fmt/format.h>

#include "passes/LowerTrees.h"

namespace tessel::lower {

using namespace loop;  // NOLINT
using trees::Mode;

Expected<std::map<std::string, std::string>> bind_tree_tables(const Op& op, Inliner& inliner,
                                                              const std::vector<std::string>& suffixes,
                                                              const std::map<std::string, int64_t>& sizes) {
  std::string prefix = op.attr().s("tree_tables");
  std::string strategy = op.attr().s("tree_strategy");
  if (prefix.empty())
    return op_error(op, fmt::format("has tree_strategy \"{}\" but no node tables (tree_tables is empty)", strategy))
        .with_hint("run the choose-tree-strategy pass, which makes them");
  const Module* module = op.parent()->module();
  std::map<std::string, std::string> names;
  for (const std::string& suffix : suffixes) {
    std::string name = prefix + "_" + suffix;
    const Tensor* table = module->constant(name);
    int64_t want = sizes.at(suffix);
    if (!table || table->rank() != 1 || table->numel() != want)
      return op_error(op, fmt::format("needs the node table @{} with {} elements (tree_tables = \"{}\"); {}", name,
                                      want, prefix, table ? "it has " + table->type_str() : "the module has none"))
          .with_hint("run choose-tree-strategy again after changing the ensemble");
    inliner.bind_constant_buffer(name, name);
    names[suffix] = name;
  }
  return names;
}

Expected<Expr> table_condition(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                               const std::map<std::string, std::string>& tables, const Expr& k) {
  const Value* x_value = op.operand(0);
  TESSEL_ASSIGN(Expr x, tree_feature(x_value, inliner, row, load(tables.at("feature"), DType::I64, k)));
  Expr threshold = load(tables.at("threshold"), DType::F32, k);
  if (x->type.elem != DType::F32) threshold = cast(Type{DType::F64}, threshold);
  std::set<Mode> modes;
  bool missing = false;
  for (const trees::Node& node : model.nodes) {
    if (node.mode == Mode::Leaf) continue;
    modes.insert(node.mode);
    missing = missing || node.missing_true;
  }
  Expr cond = bool_imm(false);
  if (modes.size() == 1) {
    cond = tree_compare(*modes.begin(), x, threshold);
  } else {
    Expr mode = load(tables.at("mode"), DType::I64, k);
    for (Mode m : modes) cond = select(eq(mode, int_imm(static_cast<int64_t>(m))), tree_compare(m, x, threshold), cond);
  }
  if (is_float(x_value->type().dtype) && (missing || modes.count(Mode::Neq)))
    cond = select(call(Intrinsic::IsNan, {x}), load(tables.at("missing"), DType::Bool, k), cond);
  return cond;
}

namespace {

/// The branch condition of node `k` comparing the row's feature codes (quantized thresholds).
Expr quantized_condition(const trees::Model& model, const std::map<std::string, std::string>& tables,
                         const std::string& codes, const Expr& k, bool x_float) {
  Expr xq = load(codes, DType::U16, load(tables.at("feature"), DType::I64, k));
  Expr tq = load(tables.at("qcodes"), DType::U16, k);
  std::set<Mode> modes;
  for (const trees::Node& node : model.nodes)
    if (node.mode != Mode::Leaf) modes.insert(node.mode);
  Expr cond = bool_imm(false);
  if (modes.size() == 1) {
    cond = tree_compare(*modes.begin(), xq, tq);
  } else {
    Expr mode = load(tables.at("mode"), DType::I64, k);
    for (Mode m : modes) cond = select(eq(mode, int_imm(static_cast<int64_t>(m))), tree_compare(m, xq, tq), cond);
  }
  if (!x_float) return cond;
  return select(eq(xq, int_imm(trees::kNanCode, DType::U16)), load(tables.at("missing"), DType::Bool, k), cond);
}

}  // namespace

Expected<Stmt> tensorized_traversal(const Op& op, const trees::Model& model, Inliner& inliner, const TreeRow& row,
                                    bool quantized) {
  int64_t nodes = static_cast<int64_t>(model.nodes.size());
  std::map<std::string, int64_t> sizes;
  for (const char* suffix : trees::kTableSuffixes) sizes[suffix] = nodes;
  sizes["roots"] = static_cast<int64_t>(model.roots.size());
  sizes["values"] = sizes["hits"] = nodes * model.n_targets;
  std::vector<std::string> suffixes(std::begin(trees::kTableSuffixes), std::end(trees::kTableSuffixes));
  if (quantized) {
    auto quantization = trees::make_quantized_tables(model);
    if (!quantization) return op_error(op, quantization.error().str());
    for (const auto& [suffix, table] : *quantization) {
      suffixes.push_back(suffix);
      sizes[suffix] = table.numel();
    }
  }
  TESSEL_ASSIGN(auto tables, bind_tree_tables(op, inliner, suffixes, sizes));
  const std::string node = "tree_node";
  int64_t trees_count = static_cast<int64_t>(model.roots.size()), targets = model.n_targets;
  Expr t = var("tree_t"), k = var("tree_k"), j = var("tree_j");
  auto over_trees = [&](Stmt body) {
    return for_loop("tree_t", int_imm(0), int_imm(trees_count), ForKind::Serial, body);
  };

  Stmt start = over_trees(store(node, t, load(tables.at("roots"), DType::I64, t)));
  const std::string codes = "tree_codes";
  Expr cond;
  if (quantized) {
    cond = quantized_condition(model, tables, codes, k, is_float(op.operand(0)->type().dtype));
  } else {
    TESSEL_ASSIGN(cond, table_condition(op, model, inliner, row, tables, k));
  }
  Expr next = select(cond, load(tables.at("true"), DType::I64, k), load(tables.at("false"), DType::I64, k));
  Stmt step = over_trees(let_stmt("tree_k", load(node, DType::I64, t), store(node, t, next)));
  Stmt levels = for_loop("tree_level", int_imm(0), int_imm(model.depth), ForKind::Serial, step);

  bool min_max = model.aggregate == trees::Aggregate::Min || model.aggregate == trees::Aggregate::Max;
  Expr slot = k * int_imm(targets) + j;
  Expr has = min_max ? load(tables.at("hits"), DType::Bool, slot) : nullptr;
  Stmt add = tree_accumulate(model, row, j, load(tables.at("values"), DType::F64, slot), has);
  Stmt leaves = over_trees(let_stmt("tree_k", load(node, DType::I64, t),
                                    for_loop("tree_j", int_imm(0), int_imm(targets), ForKind::Serial, add)));
  Stmt walk = allocate(node, DType::I64, int_imm(trees_count), MemoryKind::Local, block({start, levels, leaves}));
  if (!quantized) return walk;
  return quantized_codes(op, model, inliner, row, tables, codes, walk);
}

}  // namespace tessel::lower
