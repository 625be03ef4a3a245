// Shared-memory staging (schedule field `shared=[...]`, passes/LowerShared.h): kernels lowered for CUDA
// with staged inputs must compute what the tensor interpreter computes (run in the loop evaluator, which
// executes the copy nest and the compute nest of each block in order), print the shared allocations and
// the cooperative copy loops, round-trip through the loop IR's text form, and refuse what cannot be
// staged with a message naming the kernel, the input and the reason. The CUDA scheduler stages the inputs
// that the threads of a block re-read.
#include <cstring>
#include <filesystem>
#include <iostream>

#include "frontends/onnx/Importer.h"
#include "passes/LowerShared.h"
#include "passes/PassManager.h"
#include "passes/ScheduleKernels.h"
#include "tests/unit/LowerTestUtil.h"
#include "tests/unit/NodeSuiteUtil.h"

namespace tessel {
namespace {

using lower_test::check;
using lower_test::random_tensor;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kMatmulTiles = "tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j]";

Expected<loop::Kernel> lower_cuda(const Module& m, const std::string& schedule) {
  auto s = parse_schedule(schedule);
  if (!s) return s.error();
  return lower_kernel(*m.entry(), *s, *parse_target("cuda-sm90"));
}

std::string lowered_text(const Module& m, const std::string& schedule) {
  auto kernel = lower_cuda(m, schedule);
  EXPECT_TRUE(kernel.ok()) << kernel.error().str();
  return kernel.ok() ? loop::print(*kernel) : "";
}

/// relu(x @ w + bias) with a symbolic batch.
void build_matmul(Module& m, Dim k, int64_t n) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), k}});
  Value* w = b.input("w", {DType::F32, {k, n}});
  Value* bias = b.input("bias", {DType::F32, {n}});
  b.output(b.relu(b.add(b.matmul(x, w), bias)));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
}

TEST(GpuStaging, MatMulOperandsMatchTheInterpreter) {
  Module m;
  build_matmul(m, 40, 20);
  std::string tiles = kMatmulTiles;
  // 17 rows and 20 columns: the edge blocks copy only the rows and columns inside x and w.
  for (int64_t rows : {5, 17})
    check(m, {tiles + " shared=[x,w]", tiles + " shared=[x]", tiles + " shared=[w,bias]"},
          {random_tensor(DType::F32, {rows, 40}, 1), random_tensor(DType::F32, {40, 20}, 2),
           random_tensor(DType::F32, {20}, 3)},
          "cuda-sm90");
}

TEST(GpuStaging, MatMulPrintsSharedAllocationsAndCopyLoops) {
  Module m;
  build_matmul(m, 40, 20);
  std::string text = lowered_text(m, std::string(kMatmulTiles) + " shared=[x,w]");
  // Footprints per block: 16 rows of x by all 40 k; all 40 rows of w by 16 columns.
  EXPECT_THAT(text, HasSubstr("allocate x_shared: f32[640] shared {"));
  EXPECT_THAT(text, HasSubstr("allocate w_shared: f32[640] shared {"));
  // 640 elements over 16 x 16 threads: 3 rounds, the last guarded.
  EXPECT_THAT(text, HasSubstr("gpu_thread for (stage.t0, 0, 16) {"));
  EXPECT_THAT(text, HasSubstr("gpu_thread for (stage.t1, 0, 16) {"));
  EXPECT_THAT(text, HasSubstr("for (x_shared.c, 0, 3) {"));
  EXPECT_THAT(text, HasSubstr("for (w_shared.c, 0, 3) {"));
  // Element e of the copy: x's 16 rows are whole rows, one range from the block's first row (edge blocks
  // stop at N rows); w's rows are 16 of 20 columns (edge blocks stop at the 800 elements of w).
  EXPECT_THAT(text, HasSubstr("((x_shared.c * 256) + ((stage.t0 * 16) + stage.t1))"));
  EXPECT_THAT(text, HasSubstr("= x[((i.o * 640) + "));
  EXPECT_THAT(text, HasSubstr("< (N * 40)"));
  EXPECT_THAT(text, HasSubstr("< 800)"));
  // The compute reads the copies, rebased to the block: row i.i of the block, column k.
  EXPECT_THAT(text, HasSubstr("(acc[0] + (x_shared[(k + (i.i * 40))] * w_shared[(j.i + (k * 16))]))"));
  EXPECT_THAT(text, Not(HasSubstr("(x[")));
  EXPECT_THAT(text, Not(HasSubstr("* w[")));
  EXPECT_THAT(text, Not(HasSubstr("bias_shared")));
}

TEST(GpuStaging, StagedKernelTextRoundTrips) {
  Module m;
  build_matmul(m, 40, 20);
  for (const char* shared : {" shared=[x,w]", " shared=[bias]"}) {
    auto kernel = lower_cuda(m, std::string(kMatmulTiles) + shared);
    ASSERT_TRUE(kernel.ok()) << kernel.error().str();
    std::string text = loop::print(*kernel);
    auto parsed = loop::parse_kernel(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().str() << "\n" << text;
    EXPECT_EQ(loop::print(*parsed), text);
    // The parsed kernel computes the same: 3 x 40 @ 40 x 20.
    std::vector<Tensor> in = {random_tensor(DType::F32, {3, 40}, 4), random_tensor(DType::F32, {40, 20}, 5),
                              random_tensor(DType::F32, {20}, 6)};
    auto a = loop::run_kernel(*kernel, in), b = loop::run_kernel(*parsed, in);
    ASSERT_TRUE(a.ok() && b.ok());
    lower_test::expect_close((*b)[0], (*a)[0], "parsed kernel");
  }
}

/// relu(conv(x, w) + bias), padded: the block's taps read clamped input positions.
void build_conv(Module& m, std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> dilations,
                int64_t group) {
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 4, 11, 12}});
  Value* w = b.input("w", {DType::F32, {6, 4 / group, 3, 3}});
  Value* bias = b.constant(random_tensor(DType::F32, {6}, 7), "b");
  Value* y = b.op(OpKind::Conv, {x, w, bias},
                  {{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"group", group}});
  b.output(b.relu(y));
  ASSERT_TRUE(b.status().ok()) << b.status().error().str();
}

TEST(GpuStaging, ConvInputWindowAndWeightsMatchTheInterpreter) {
  struct Case {
    std::vector<int64_t> strides, pads, dilations;
    int64_t group;
  };
  std::vector<Case> cases = {
      {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}, {{2, 1}, {1, 0, 2, 1}, {1, 2}, 2}, {{1, 1}, {0, 0, 0, 0}, {1, 1}, 1}};
  for (const Case& c : cases) {
    Module m;
    build_conv(m, c.strides, c.pads, c.dilations, c.group);
    std::string tiles = "tile=[oh:4,ow:8] gpu_blocks=[oh,ow] gpu_threads=[oh,ow]";
    // The last schedule orders the batch and channel loops inside the blocks: the copy goes inside them.
    check(m,
          {tiles + " shared=[x,w]", tiles + " shared=[x]", "tile=[ow:16] gpu_blocks=[ow] gpu_threads=[ow] shared=[x]",
           "order=[oh,ow,n,oc,ic,kh,kw] " + tiles + " shared=[x,w]"},
          {random_tensor(DType::F32, {2, 4, 11, 12}, 8), random_tensor(DType::F32, {6, 4 / c.group, 3, 3}, 9)},
          "cuda-sm90");
  }
}

TEST(GpuStaging, ConvFootprintCoversTheWindow) {
  Module m;
  build_conv(m, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
  std::string text = lowered_text(m, "tile=[oh:4,ow:8] gpu_blocks=[oh,ow] gpu_threads=[oh,ow] shared=[x,w]");
  // x: 4 channels x (4 + 2) rows x (8 + 2) columns around the block's 4 x 8 outputs; w: the 4 x 3 x 3 taps
  // of the block's output channel.
  EXPECT_THAT(text, HasSubstr("allocate x_shared: f32[240] shared {"));
  EXPECT_THAT(text, HasSubstr("allocate w_shared: f32[36] shared {"));
  // Rows are clamped at the image's edges: the copy starts at the clamped first row of the block's window.
  EXPECT_THAT(text, HasSubstr("max(min(((oh.o * 4) + -1), 10), 0)"));
  // With the batch and channel loops inside the blocks, the copies are made inside them, before the threads.
  std::string inner = lowered_text(m,
                                   "order=[oh,ow,n,oc,ic,kh,kw] tile=[oh:4,ow:8] gpu_blocks=[oh,ow] "
                                   "gpu_threads=[oh,ow] shared=[x,w]");
  EXPECT_THAT(inner, HasSubstr("for (oc, 0, 6) {\n          allocate x_shared: f32[240] shared {"));
}

TEST(GpuStaging, ElementwiseBroadcastOperandsMatchTheInterpreter) {
  Module m;
  Builder b(m.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 37}});
  Value* row = b.input("row", {DType::F32, {37}});
  Value* col = b.input("col", {DType::F32, {Dim::symbol("N"), 1}});
  b.output(b.mul(b.add(x, row), col));
  ASSERT_TRUE(b.status().ok());
  std::string tiles = "tile=[d0:4,d1:16] gpu_blocks=[d0,d1] gpu_threads=[d0,d1]";
  for (int64_t n : {3, 9})
    check(m, {tiles + " shared=[row,col]", tiles + " shared=[x,row,col]"},
          {random_tensor(DType::F32, {n, 37}, 10), random_tensor(DType::F32, {37}, 11),
           random_tensor(DType::F32, {n, 1}, 12)},
          "cuda-sm90");
  std::string text = lowered_text(m, tiles + " shared=[row,col]");
  // 16 columns of the row vector and 4 rows of the column vector per block: one round of 64 threads, the
  // threads past the footprint idle.
  EXPECT_THAT(text, HasSubstr("allocate row_shared: f32[16] shared {"));
  EXPECT_THAT(text, HasSubstr("allocate col_shared: f32[4] shared {"));
  EXPECT_THAT(text, HasSubstr("row_shared[d1.i]"));
  EXPECT_THAT(text, HasSubstr("col_shared[d0.i]"));
}

TEST(GpuStaging, RefusesSymbolicFootprints) {
  Module m;
  build_matmul(m, Dim::symbol("K"), 16);
  auto w = lower_cuda(m, std::string(kMatmulTiles) + " shared=[w]");
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.error().str(), HasSubstr("lower: kernel main: cannot stage 'w' in shared memory: the footprint is "
                                         "symbolic: loop 'k' runs K times"));
  auto x = lower_cuda(m, std::string(kMatmulTiles) + " shared=[x]");
  ASSERT_FALSE(x.ok());
  EXPECT_THAT(x.error().str(), HasSubstr("cannot stage 'x' in shared memory"));
  EXPECT_THAT(x.error().str(), HasSubstr("scales a loop variable by a value that is not constant"));
}

TEST(GpuStaging, RefusesFootprintsLargerThanSharedMemory) {
  Module m;
  build_matmul(m, 1024, 64);
  auto k = lower_cuda(m, std::string(kMatmulTiles) + " shared=[x,w]");
  ASSERT_FALSE(k.ok());
  // 16 x 1024 f32 of each: 2 x 65536 bytes.
  EXPECT_THAT(k.error().str(), HasSubstr("staging in shared memory takes 131072 bytes per block (x: 16384 x f32, "
                                         "w: 16384 x f32) but cuda-sm90 allows 49152"));
  EXPECT_THAT(k.error().str(), HasSubstr("smaller GPU tiles"));
}

TEST(GpuStaging, RefusesWhatCannotBeStaged) {
  Module m;
  build_matmul(m, 40, 20);
  auto not_input = lower_cuda(m, std::string(kMatmulTiles) + " shared=[y]");
  ASSERT_FALSE(not_input.ok());
  EXPECT_THAT(not_input.error().str(),
              HasSubstr("shared names 'y', which is not an input of the kernel (inputs: x, w, bias)"));
  auto no_blocks = lower_cuda(m, "shared=[x]");
  ASSERT_FALSE(no_blocks.ok());
  EXPECT_THAT(no_blocks.error().str(), HasSubstr("shared names 'x', which no gpu_block loop reads"));
  auto cpu = lower_kernel(*m.entry(), *parse_schedule("shared=[x]"), *parse_target("x86-64-v3"));
  ASSERT_FALSE(cpu.ok());
  EXPECT_THAT(cpu.error().str(), HasSubstr("needs a GPU target, not x86-64-v3"));
  auto vector = lower_cuda(m, "tile=[j:16] vectorize=j:4 gpu_blocks=[i] shared=[w]");
  ASSERT_FALSE(vector.ok());
  EXPECT_THAT(vector.error().str(), HasSubstr("is a vector (a vectorized loop)"));

  // A gathered index is read from a buffer: not affine in the loop variables.
  Module g;
  Builder b(g.add_function("main"));
  Value* data = b.input("data", {DType::F32, {10, 8}});
  Value* idx = b.input("idx", {DType::I64, {6}});
  b.output(b.op(OpKind::Gather, {data, idx}, {{"axis", int64_t{0}}}));
  ASSERT_TRUE(b.status().ok());
  auto gather = lower_cuda(g, "tile=[d0:2,d1:8] gpu_blocks=[d0,d1] gpu_threads=[d0,d1] shared=[data]");
  ASSERT_FALSE(gather.ok());
  EXPECT_THAT(gather.error().str(), HasSubstr("cannot stage 'data' in shared memory: the index"));
  EXPECT_THAT(gather.error().str(), HasSubstr("reads a buffer"));
  // idx itself is read at an affine index.
  check(g, {"tile=[d0:2,d1:8] gpu_blocks=[d0,d1] gpu_threads=[d0,d1] shared=[idx]"},
        {random_tensor(DType::F32, {10, 8}, 13), Tensor::of<int64_t>({6}, {0, 9, 3, 3, 7, 1})}, "cuda-sm90");
}

TEST(GpuStaging, SchedulerStagesReReadInputsThatFit) {
  auto target = *parse_target("cuda-sm90");
  Module m;
  build_matmul(m, 40, 20);
  auto s = choose_schedule(*m.entry(), target);
  ASSERT_TRUE(s.ok()) << s.error().str();
  // x and w are read 16 times per element in a 16 x 16 block; bias 16 times (once per row of threads).
  EXPECT_EQ(s->str(), "tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j] shared=[x,w,bias]");

  // With k = 1024 neither operand fits in 48 KiB; bias still does.
  Module big;
  build_matmul(big, 1024, 64);
  auto sb = choose_schedule(*big.entry(), target);
  ASSERT_TRUE(sb.ok()) << sb.error().str();
  EXPECT_EQ(sb->str(), "tile=[i:16,j:16] gpu_blocks=[i,j] gpu_threads=[i,j] shared=[bias]");

  // Elementwise without broadcasting: each element is read by one thread, nothing is staged.
  Module e;
  Builder b(e.add_function("main"));
  Value* x = b.input("x", {DType::F32, {Dim::symbol("N"), 37}});
  Value* y = b.input("y", {DType::F32, {Dim::symbol("N"), 37}});
  b.output(b.add(x, y));
  ASSERT_TRUE(b.status().ok());
  auto se = choose_schedule(*e.entry(), target);
  ASSERT_TRUE(se.ok()) << se.error().str();
  EXPECT_EQ(se->str(), "tile=[d0:16,d1:16] gpu_blocks=[d0,d1] gpu_threads=[d0,d1]");

  // A row sum reads each element once (the nest's edge copy is an alternative, not a second read).
  Module r;
  Builder rb(r.add_function("main"));
  rb.output(rb.reduce(OpKind::ReduceSum, rb.input("x", {DType::F32, {Dim::symbol("N"), 8}}), {1}));
  ASSERT_TRUE(rb.status().ok());
  auto sr = choose_schedule(*r.entry(), target);
  ASSERT_TRUE(sr.ok()) << sr.error().str();
  EXPECT_TRUE(sr->shared.empty()) << sr->str();
  EXPECT_FALSE(sr->gpu_blocks.empty()) << sr->str();

  // The chosen schedule lowers and computes what the interpreter does.
  check(m, {s->str()},
        {random_tensor(DType::F32, {18, 40}, 14), random_tensor(DType::F32, {40, 20}, 15),
         random_tensor(DType::F32, {20}, 16)},
        "cuda-sm90");
}

/// Random inputs of `body`'s types with every symbol bound to 2 (as LowerNodeSuiteTest), or nullopt.
std::optional<std::vector<Tensor>> suite_inputs(const Function& body) {
  SymbolEnv env;
  std::vector<Tensor> inputs;
  uint32_t seed = 7;
  for (const Value* input : body.inputs()) {
    std::vector<int64_t> shape;
    for (const Dim& dim : input->type().shape) {
      std::set<std::string> symbols;
      dim.collect_symbols(symbols);
      for (const std::string& symbol : symbols) env.emplace(symbol, 2);
      auto value = dim.evaluate(env);
      if (!value || *value < 0) return std::nullopt;
      shape.push_back(*value);
    }
    if (input->type().dtype == DType::String) return std::nullopt;
    inputs.push_back(random_tensor(input->type().dtype, shape, seed++, -2, 2));
    Tensor& t = inputs.back();
    if (is_integer(input->type().dtype))
      for (int64_t i = 0; i < t.numel(); ++i) t.set_int(i, t.get_int(i) % 3);
  }
  return inputs;
}

// Named LowerNodeSuite.* so that it runs with the conformance tests (minutes), not with the unit tests.
// Staging only changes where loads read from: every kernel of the ONNX node suite that the CUDA scheduler
// stages must give bit for bit the results of the same schedule without staging.
TEST(LowerNodeSuite, CudaStagingChangesNoResult) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs = node_suite::model_dirs();
  if (dirs.empty()) GTEST_SKIP() << "no ONNX node tests at " << node_suite::node_dir();
  int checked = 0;
  for (const fs::path& dir : dirs) {
    std::string name = dir.filename().string();
    auto module = onnx::import_file((dir / "model.onnx").string());
    if (!module || !(*module)->entry()) continue;
    PassContext context;
    context.target = *parse_target("cuda-sm90");
    PassManager manager(context);
    manager.add_pipeline(3);
    if (!manager.run(**module)) continue;  // LowerNodeSuite lists the models -O3 refuses
    const Module& m = **module;
    for (const Op* op : m.entry()->ops()) {
      if (op->kind() != OpKind::Kernel) continue;
      auto schedule = parse_schedule(op->attr().s("schedule"));
      ASSERT_TRUE(schedule.ok()) << name;
      if (schedule->shared.empty()) continue;
      auto body = kernel_body(m, *op);
      ASSERT_TRUE(body.ok()) << name;
      auto inputs = suite_inputs(**body);
      if (!inputs) continue;
      Schedule plain = *schedule;
      plain.shared.clear();
      auto staged = lower_kernel(**body, *schedule, context.target);
      auto unstaged = lower_kernel(**body, plain, context.target);
      ASSERT_TRUE(staged.ok() && unstaged.ok()) << name << ": " << (staged.ok() ? "" : staged.error().str());
      if (loop::print(*staged).size() > 100000) continue;  // too slow to evaluate (see LowerNodeSuite)
      auto want = loop::run_kernel(*unstaged, *inputs, m.constants());
      if (!want) continue;  // random indices out of range: the interpreter fails on them too
      auto got = loop::run_kernel(*staged, *inputs, m.constants());
      ASSERT_TRUE(got.ok()) << name << ": " << got.error().str() << "\n" << loop::print(*staged);
      ASSERT_EQ(got->size(), want->size());
      ++checked;
      for (size_t o = 0; o < want->size(); ++o) {
        const Tensor &a = (*want)[o], &b = (*got)[o];
        EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0)
            << name << " @" << (*body)->name() << " output " << o << " schedule '" << schedule->str() << "'";
      }
    }
  }
  std::cout << "CUDA staging over the node suite: " << checked << " staged kernels checked\n";
  EXPECT_GE(checked, 700);
}
}  // namespace
}  // namespace tessel
