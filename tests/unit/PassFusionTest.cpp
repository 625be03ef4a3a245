// The fuse and plan-memory passes: kernel grouping on small models built with the Builder, identical
// interpreter results before and after, and arena plans checked by an independent overlap checker.
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "frontends/builder/Nn.h"
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"
#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Grouping = std::vector<std::vector<std::string>>;

// The non-const op names of each kernel body, in @main's kernel order.
Grouping kernel_groups(const Module& module) {
  Grouping groups;
  for (const Op* op : module.function("main")->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    std::vector<std::string> names;
    for (const Op* inner : module.function(op->attr().s("body"))->ops())
      if (inner->kind() != OpKind::Const) names.emplace_back(inner->name());
    groups.push_back(names);
  }
  return groups;
}

Tensor random_tensor(DType dtype, std::vector<int64_t> shape, uint64_t seed) {
  nn::WeightInit init(seed);
  Tensor tensor(dtype, shape);
  std::vector<double> values(static_cast<size_t>(tensor.numel()));
  for (double& value : values) value = 4 * init.next_unit() - 2;
  return Tensor::from_doubles(dtype, std::move(shape), values);
}

// Runs `passes` on `module` and checks: verification, @main holds only consts and kernels, every compute
// op landed in exactly one body, and the interpreter's outputs are bit-identical to those before.
void fuse_and_compare(Module& module, const std::vector<Tensor>& inputs, bool plan = false) {
  ASSERT_TRUE(verify(module).ok());
  Function* main = module.function("main");
  size_t compute_ops = 0;
  for (const Op* op : main->ops()) compute_ops += op->kind() != OpKind::Const;
  auto before = interpret(*main, inputs);
  ASSERT_TRUE(before.ok()) << before.error().str();
  PassContext context;
  auto changed = fuse(module, context);
  ASSERT_TRUE(changed.ok()) << changed.error().str();
  EXPECT_TRUE(*changed);
  if (plan) {
    auto planned = plan_memory(module, context);
    ASSERT_TRUE(planned.ok()) << planned.error().str();
  }
  auto status = verify(module);
  ASSERT_TRUE(status.ok()) << status.error().str() << "\n" << print_module(module);
  size_t fused_ops = 0;
  for (const Op* op : main->ops()) EXPECT_TRUE(op->kind() == OpKind::Const || op->kind() == OpKind::Kernel);
  for (const auto& group : kernel_groups(module)) fused_ops += group.size();
  EXPECT_EQ(fused_ops, compute_ops);  // nothing duplicated, nothing lost
  auto after = interpret(*main, inputs);
  ASSERT_TRUE(after.ok()) << after.error().str();
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < before->size(); ++i) {
    ASSERT_EQ((*after)[i].shape(), (*before)[i].shape());
    for (int64_t j = 0; j < (*before)[i].numel(); ++j)
      ASSERT_EQ((*after)[i].get_double(j), (*before)[i].get_double(j)) << "output " << i << " element " << j;
  }
  // A second run finds nothing left to fuse.
  auto again = fuse(module, context);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

// ---- Grouping ---------------------------------------------------------------------------------------

void build_seed_cnn(Module& module, bool decomposed_softmax) {
  Builder b(module.add_function("main"));
  nn::WeightInit init(7);
  Value* x = b.input("image", {DType::F32, {Dim::symbol("N"), 1, 28, 28}});
  x = b.relu(nn::conv2d(b, init, x, 8, 3, 1, 0, "conv1"));  // [N, 8, 26, 26]
  x = b.max_pool(x, {2, 2}, {2, 2});                        // [N, 8, 13, 13]
  x = b.flatten(x);
  x = b.relu(nn::dense(b, init, x, 16, "fc1"));
  x = nn::dense(b, init, x, 10, "fc2");
  if (decomposed_softmax) {
    Value* e = b.exp(b.sub(x, b.reduce(OpKind::ReduceMax, x, {-1})));
    x = b.div(e, b.reduce(OpKind::ReduceSum, e, {1}));
  } else {
    x = b.softmax(x);
  }
  b.output(x, "probs");
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
}

TEST(PassFusionTest, SeedCnnBecomesFourKernels) {
  Module module;
  build_seed_cnn(module, false);
  fuse_and_compare(module, {random_tensor(DType::F32, {2, 1, 28, 28}, 1)});
  EXPECT_THAT(kernel_groups(module),
              ElementsAre(ElementsAre("conv", "relu", "max_pool", "reshape"), ElementsAre("gemm", "relu"),
                          ElementsAre("gemm"), ElementsAre("softmax")));
  EXPECT_EQ(module.function("main")->ops().back()->attr().s("body"), "main.k3");
}

TEST(PassFusionTest, DecomposedSoftmaxIsOneKernel) {
  Module module;
  build_seed_cnn(module, true);
  fuse_and_compare(module, {random_tensor(DType::F32, {3, 1, 28, 28}, 2)});
  Grouping groups = kernel_groups(module);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_THAT(groups[3], ElementsAre("reduce_max", "sub", "exp", "reduce_sum", "div"));
}

TEST(PassFusionTest, DenseWithBiasAndActivation) {
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 8}});
  Value* w = b.constant(random_tensor(DType::F32, {8, 4}, 3));
  Value* bias = b.constant(random_tensor(DType::F32, {4}, 4));
  b.output(b.relu(b.add(b.matmul(x, w), bias)), "y");
  fuse_and_compare(module, {random_tensor(DType::F32, {5, 8}, 5)});
  EXPECT_THAT(kernel_groups(module), ElementsAre(ElementsAre("matmul", "add", "relu")));
}

TEST(PassFusionTest, DecomposedLayerNormIsOneKernelWithItsScalarInside) {
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 6}});
  Value* mean = b.reduce(OpKind::ReduceMean, x, {-1});
  Value* centered = b.sub(x, mean);
  Value* var = b.reduce(OpKind::ReduceMean, b.mul(centered, centered), {1});
  Value* norm = b.div(centered, b.op(OpKind::Sqrt, {b.add(var, b.scalar(1e-5))}));
  Value* gamma = b.constant(random_tensor(DType::F32, {6}, 6));
  b.output(b.add(b.mul(norm, gamma), b.constant(random_tensor(DType::F32, {6}, 7))), "y");
  fuse_and_compare(module, {random_tensor(DType::F32, {4, 6}, 8)});
  EXPECT_THAT(kernel_groups(module),
              ElementsAre(ElementsAre("reduce_mean", "sub", "mul", "reduce_mean", "add", "sqrt", "div", "mul", "add")));
  // The epsilon scalar is copied into the body; gamma and beta are kernel operands.
  const Op* kernel = module.function("main")->ops().back();
  EXPECT_EQ(kernel->num_operands(), 3u);
  int body_consts = 0;
  for (const Op* op : module.function("main.k0")->ops()) body_consts += op->kind() == OpKind::Const;
  EXPECT_EQ(body_consts, 1);
}

TEST(PassFusionTest, ResidualAddJoinsTheSecondConv) {
  Module module;
  Builder b(module.add_function("main"));
  nn::WeightInit init(9);
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 2, 6, 6}});
  Value* h = b.relu(nn::conv2d(b, init, x, 2, 3, 1, 1, "c1"));
  Value* y = b.relu(b.add(nn::conv2d(b, init, h, 2, 3, 1, 1, "c2"), h));
  Value* pooled = b.max_pool(y, {3, 3}, {1, 1});  // overlapping windows: not fused into the conv
  b.output(pooled, "y");
  fuse_and_compare(module, {random_tensor(DType::F32, {2, 2, 6, 6}, 10)});
  EXPECT_THAT(kernel_groups(module),
              ElementsAre(ElementsAre("conv", "relu"), ElementsAre("conv", "add", "relu"), ElementsAre("max_pool")));
}

TEST(PassFusionTest, DiamondThroughAnOpaqueOpDoesNotFormACycle) {
  // a = exp(x); s = scatter(a, ...); out = a + s. Putting the add with exp would make
  // {exp, add} -> scatter -> {exp, add}: a cycle. The add must get its own kernel.
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {2, 3}});
  Value* a = b.exp(x);
  Value* indices = b.constant(Tensor::of<int64_t>({1, 3}, {1, 0, 1}));
  Value* updates = b.constant(Tensor::of<float>({1, 3}, {7, 8, 9}));
  Value* s = b.op(OpKind::ScatterElements, {a, indices, updates}, {{"axis", int64_t{0}}});
  b.output(b.add(a, s), "out");
  fuse_and_compare(module, {random_tensor(DType::F32, {2, 3}, 11)});
  EXPECT_THAT(kernel_groups(module),
              ElementsAre(ElementsAre("exp"), ElementsAre("scatter_elements"), ElementsAre("add")));
}

TEST(PassFusionTest, SharedProducersAreNeverDuplicated) {
  // t = transpose(x) feeds two matmuls: it is materialized once in its own kernel. u = transpose(y)
  // feeds one matmul only: it becomes that kernel's prologue. tanh(x) before a matmul stays out (an
  // elementwise prologue would be recomputed in the matmul's inner loop).
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {4, 3}});
  Value* y = b.input("y", {DType::F32, {4, 3}});
  Value* w = b.constant(random_tensor(DType::F32, {4, 4}, 12));
  Value* t = b.transpose(x, {1, 0});
  Value* m1 = b.matmul(t, w);
  Value* m2 = b.matmul(t, b.op(OpKind::Tanh, {w}));
  Value* m3 = b.matmul(b.transpose(y, {1, 0}), w);
  b.output(b.add(b.add(m1, m2), m3), "out");
  fuse_and_compare(module, {random_tensor(DType::F32, {4, 3}, 13), random_tensor(DType::F32, {4, 3}, 14)});
  EXPECT_THAT(kernel_groups(module),
              ElementsAre(ElementsAre("transpose"), ElementsAre("matmul"), ElementsAre("tanh"),
                          ElementsAre("transpose", "matmul"), ElementsAre("matmul", "add", "add")));
}

// ---- Memory planning ----------------------------------------------------------------------------------

// An independent check of a recorded plan at concrete symbol values: offsets aligned, and no two arena
// buffers live at the same kernel overlap in bytes (except an in-place result and the operand it replaces).
void check_plan(const Module& module, const SymbolEnv& env) {
  struct Buffer {
    const Value* value;
    int def, last;
    int64_t offset, bytes;
    const Value* replaces;
  };
  std::vector<Buffer> buffers;
  std::map<const Value*, size_t> index;
  int step = 0;
  for (const Op* op : module.function("main")->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    for (const Value* operand : op->operands())
      if (index.count(operand)) buffers[index[operand]].last = step;
    const auto& offsets = op->attr().dims("arena_offsets");
    const auto& inplace = op->attr().ints("inplace");
    ASSERT_EQ(offsets.size(), op->num_results());
    for (size_t i = 0; i < op->num_results(); ++i) {
      int64_t offset = *offsets[i].evaluate(env);
      if (offset == -1) continue;
      const TensorType& type = op->result(i)->type();
      int64_t bytes = *shape_numel(type.shape).evaluate(env) * static_cast<int64_t>(dtype_size(type.dtype));
      EXPECT_EQ(offset % 64, 0) << offsets[i].str();
      index[op->result(i)] = buffers.size();
      buffers.push_back(
          {op->result(i), step, step, offset, bytes, inplace[i] >= 0 ? op->operand(inplace[i]) : nullptr});
    }
    ++step;
  }
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const Buffer &a = buffers[i], &b = buffers[j];
      bool live_together = a.def <= b.last && b.def <= a.last;
      bool inplace_pair = b.replaces == a.value && a.last == b.def;
      bool disjoint = a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset;
      if (!live_together || inplace_pair) continue;
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " overlap";
    }
}

// x -> matmul -> softmax -> matmul -> softmax: four kernels, three f32[N, 16] intermediates (64*N bytes).
void build_chain(Module& module) {
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 16}});
  Value* w = b.constant(random_tensor(DType::F32, {16, 16}, 15));
  Value* h = b.softmax(b.matmul(x, w));
  b.output(b.softmax(b.matmul(h, w)), "y");
  ASSERT_TRUE(b.status().ok());
}

TEST(PassFusionTest, PlanReusesDeadBuffersWithSymbolicSizes) {
  Module module;
  build_chain(module);
  fuse_and_compare(module, {random_tensor(DType::F32, {3, 16}, 16)}, /*plan=*/true);
  std::vector<std::string> offsets;
  for (const Op* op : module.function("main")->ops())
    if (op->kind() == OpKind::Kernel) offsets.push_back(attr_value_str(Attr(op->attr().dims("arena_offsets"))));
  // k0's result dies at k1, so k2 reuses its slot; k3's result is the function output.
  EXPECT_THAT(offsets, ElementsAre("[0]", "[64*N]", "[0]", "[-1]"));
  auto stats = memory_stats(module);
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_EQ(format_memory_stats(*stats), "kernels: 4\narena bytes: 128*N\npeak bytes: 128*N\n");
  for (int64_t n : {1, 3, 8}) check_plan(module, {{"N", n}});
}

TEST(PassFusionTest, ElementwiseKernelWritesInPlace) {
  // s = scatter(x) (opaque: nothing fuses with it), e = exp(s) in its own kernel: s dies at e and has
  // e's type, so e overwrites s.
  Module module;
  Builder b(module.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 3}});
  Value* indices = b.constant(Tensor::of<int64_t>({1, 3}, {0, 0, 0}));
  Value* updates = b.constant(Tensor::of<float>({1, 3}, {1, 2, 3}));
  Value* s = b.op(OpKind::ScatterElements, {x, indices, updates}, {{"axis", int64_t{0}}});
  Value* w = b.constant(random_tensor(DType::F32, {3, 2}, 17));
  b.output(b.matmul(b.exp(s), w), "y");
  fuse_and_compare(module, {random_tensor(DType::F32, {2, 3}, 18)}, /*plan=*/true);
  std::vector<const Op*> kernels;
  for (const Op* op : module.function("main")->ops())
    if (op->kind() == OpKind::Kernel) kernels.push_back(op);
  ASSERT_EQ(kernels.size(), 3u);
  EXPECT_EQ(kernels[1]->attr().ints("inplace"), std::vector<int64_t>{0});
  EXPECT_EQ(kernels[1]->attr().dims("arena_offsets"), kernels[0]->attr().dims("arena_offsets"));
  auto stats = memory_stats(module);
  ASSERT_TRUE(stats.ok());
  // One slot of 12*N bytes rounded up to 64: (12*N+63)/64*64.
  EXPECT_EQ(stats->arena_bytes.str(), aligned_bytes({DType::F32, {Dim::symbol("N"), 3}}).str());
  for (int64_t n : {0, 1, 6}) check_plan(module, {{"N", n}});
}

TEST(PassFusionTest, SeedCnnPlanHasNoOverlaps) {
  Module module;
  build_seed_cnn(module, true);
  fuse_and_compare(module, {random_tensor(DType::F32, {2, 1, 28, 28}, 19)}, /*plan=*/true);
  for (int64_t n : {1, 2, 5}) check_plan(module, {{"N", n}});
  // k0's f32[N, 1352] result (5408*N bytes) dies at k1; k2's f32[N, 10] (40*N, aligned to
  // 64*((40*N+63)/64)) provably fits in its slot because 5408*N >= 40*N, so it reuses offset 0.
  std::vector<std::string> offsets;
  for (const Op* op : module.function("main")->ops())
    if (op->kind() == OpKind::Kernel) offsets.push_back(attr_value_str(Attr(op->attr().dims("arena_offsets"))));
  EXPECT_THAT(offsets, ElementsAre("[0]", "[64*((5408*N+63)/64)]", "[0]", "[-1]"));
  auto stats = memory_stats(module);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->kernels, 4);
}

TEST(PassFusionTest, StatsWithoutKernelsPlanTheUnfusedOps) {
  Module module;
  build_chain(module);
  auto stats = memory_stats(module);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(format_memory_stats(*stats), "kernels: 0\narena bytes: 128*N\npeak bytes: 128*N\n");
}

TEST(PassFusionTest, PlanMemoryLeavesUnfusedModulesAlone) {
  Module module;
  build_chain(module);
  std::string before = print_module(module);
  std::ostringstream log;
  PassContext context;
  context.log = &log;
  context.options.verbose = true;
  auto planned = plan_memory(module, context);
  ASSERT_TRUE(planned.ok()) << planned.error().str();
  EXPECT_FALSE(*planned);
  EXPECT_EQ(print_module(module), before);
  EXPECT_THAT(log.str(), HasSubstr("plan-memory: @main holds a 'matmul' op outside any kernel; nothing planned"));
}

TEST(PassFusionTest, ProvableComparisons) {
  Dim n = Dim::symbol("N"), m = Dim::symbol("M");
  EXPECT_TRUE(provably_ge(n * 128, n * 64));
  EXPECT_FALSE(provably_ge(n * 64, n * 128));
  EXPECT_TRUE(provably_ge(n + 1, n));
  EXPECT_FALSE(provably_ge(n, m));
  EXPECT_TRUE(provably_ge(n * m + n, n * m));
  DimMax max;
  max.add(n * 64);
  max.add(n * 32);
  EXPECT_EQ(max.str(), "64*N");
  max.add(m);
  EXPECT_EQ(max.str(), "max(64*N, M)");
  EXPECT_EQ(aligned_bytes({DType::F32, {n, 16}}).str(), "64*N");
  EXPECT_EQ(aligned_bytes({DType::F32, {3}}).str(), "64");
}

}  // namespace
}  // namespace tessel
