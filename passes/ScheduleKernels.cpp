// The `schedule` pass: gives every `kernel` op of @main a `schedule` attribute chosen from the target,
// unless the input already has one (a user's schedule), which is kept and validated against the
// kernel's iteration domain. Expects kernels made by `fuse`; guarantees every kernel has a schedule
// that lowers (docs/loop-ir.md).
//
// CPU rules: vectorize the last spatial (output) axis -- the contiguous one -- or the axis the anchor
// prefers (a conv's output channels over channel-last weights) by the target's lanes for the output
// dtype (narrower, down to 4 lanes, where that takes fewer steps); with a reduction, tile it by two vectors
// (one when it is shorter) and the innermost other spatial axis (matmul i, conv ow) by up to 8 rows
// (AVX-512; 4 otherwise; a divisor of a constant extent when one exists) for a register block of rows x 2
// vector accumulators, also when its extent is symbolic (full tiles run without guards); parallelize the
// outermost spatial axis with at least max(4, 2 x cores) iterations -- vector chunks for the vectorized
// axis -- (else the outermost); unroll a last reduction axis of extent <= 8; prefetch the next block of weights
// along the parallel vector axis when they outgrow L2 and each weight feeds few outputs (weight_prefetch).
// CUDA rules: tile the last two spatial axes 16 x 16 (or the last by 256) and map the outer parts to
// blocks and the tiles to threads; stage in shared memory the inputs the block's threads re-read, while
// they fit (passes/LowerShared.h).
#include "passes/ScheduleKernels.h"

#include <algorithm>
#include <optional>
#include <set>

#include "passes/LowerKernel.h"
#include "passes/LowerShared.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

bool const_at_least(const Dim& d, int64_t n) {
  auto c = d.as_const();
  return c && *c >= n;
}

Schedule gpu_tiles(const std::vector<DomainAxis>& domain) {
  std::vector<std::string> spatial;
  for (const DomainAxis& a : domain)
    if (!a.reduction && !(a.extent == Dim(1))) spatial.push_back(a.name);
  Schedule s;
  if (spatial.empty()) return s;
  if (spatial.size() >= 2) {
    const std::string &y = spatial[spatial.size() - 2], &x = spatial.back();
    s.tile = {{y, 16}, {x, 16}};
    s.gpu_blocks = {y, x};
    s.gpu_threads = {y, x};
    return s;
  }
  s.tile = {{spatial.back(), 256}};
  s.gpu_blocks = {spatial.back()};
  s.gpu_threads = {spatial.back()};
  return s;
}

/// The CUDA schedule: blocks and threads from gpu_tiles, and in shared memory the inputs that the block's threads
/// re-read (at least two loads per footprint element: matmul's A and B rows and columns, conv's input
/// window and weights, a broadcast bias), most re-read first, while they fit in the target's shared memory.
Schedule gpu_schedule(const Function& body, const std::vector<DomainAxis>& domain, const Target& target) {
  Schedule s = gpu_tiles(domain);
  if (s.gpu_blocks.empty()) return s;
  // A body that does not lower keeps the plain mapping; lower-loops reports why it does not lower.
  auto kernel = lower_kernel(body, s, target);
  if (!kernel) return s;
  std::vector<StagingCandidate> candidates = staging_candidates(*kernel);
  auto reuse = [](const StagingCandidate& c) { return static_cast<double>(c.loads) / static_cast<double>(c.elements); };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const StagingCandidate& a, const StagingCandidate& b) { return reuse(a) > reuse(b); });
  std::set<std::string> chosen;
  int64_t bytes = 0;
  for (const StagingCandidate& c : candidates) {
    if (c.loads < 2 * c.elements || bytes + c.bytes > target.shared_bytes_per_block) continue;
    chosen.insert(c.buffer);
    bytes += c.bytes;
  }
  for (const loop::Buffer& b : kernel->buffers)
    if (chosen.count(b.name)) s.shared.push_back(b.name);
  return s;
}

/// The rows of a register block on an axis: for a constant extent the largest count from `max_rows` down
/// to 4 that divides it (no edge tiles: 56 -> 8, 28 -> 7), else `max_rows` (full tiles run unguarded, the
/// edge tile row by row).
int64_t block_rows(const Dim& extent, int64_t max_rows) {
  auto c = extent.as_const();
  if (!c) return max_rows;
  for (int64_t rows = max_rows; rows >= 4; --rows)
    if (*c % rows == 0) return rows;
  return max_rows;
}

/// The vectorized axis: one the anchor prefers (contiguous loads) when it fills a vector, else the last
/// spatial axis that is not 1.
const DomainAxis* vector_axis(const std::vector<const DomainAxis*>& spatial, int64_t lanes) {
  for (const DomainAxis* a : spatial)
    if (a->prefer_vector && const_at_least(a->extent, lanes)) return a;
  for (auto it = spatial.rbegin(); it != spatial.rend(); ++it)
    if (!((*it)->extent == Dim(1))) return *it;
  return nullptr;
}

/// The axis whose rows join the register block: the innermost spatial axis besides `vec` that is symbolic
/// or at least 4 long (matmul: i; conv with channels vectorized: ow).
const DomainAxis* row_axis(const std::vector<const DomainAxis*>& spatial, const DomainAxis* vec) {
  for (auto it = spatial.rbegin(); it != spatial.rend(); ++it)
    if (*it != vec && (!(*it)->extent.is_const() || const_at_least((*it)->extent, 4))) return *it;
  return nullptr;
}

/// The lanes for a vectorized axis: the target's, or narrower (down to 4) when that runs a constant extent
/// in fewer vector-or-scalar steps: 10 outputs of a linear model as 8 + 2 scalars, a 26-wide conv row as
/// 3 x 8 + 2 rather than 16 + 10 scalars; 56 as 7 x 8 rather than 3 x 16 + 8.
int64_t vector_width(const Dim& extent, int64_t lanes) {
  auto c = extent.as_const();
  if (!c) return lanes;
  int64_t best = lanes;
  auto steps = [&](int64_t w) { return *c / w + *c % w; };
  for (int64_t w = lanes / 2; w >= 4; w /= 2)
    if (steps(w) < steps(best)) best = w;
  return best;
}

}  // namespace

/// The longest last reduction axis the CPU schedule unrolls: a conv's kw taps up to 7 x 7. Unrolled, a row
/// of register tiles shares the window's input loads between taps (a 7-tap, stride-2 row of 8 reads 21
/// inputs instead of 56): ResNet-18's stem conv ran about 10% faster unrolled than with kw a loop.
constexpr int64_t kMaxUnrolledTaps = 8;

Schedule cpu_schedule(const std::vector<DomainAxis>& domain, DType dtype, const Target& target) {
  Schedule s;
  std::vector<const DomainAxis*> spatial, reduction;
  for (const DomainAxis& a : domain) (a.reduction ? reduction : spatial).push_back(&a);
  int64_t lanes = target.vector_bits / (8 * static_cast<int64_t>(dtype_size(dtype)));
  const DomainAxis* vec = vector_axis(spatial, lanes);
  if (!reduction.empty())
    for (const DomainAxis& a : domain) s.order.push_back(a.name);
  int64_t width = vec ? vector_width(vec->extent, lanes) : lanes;
  bool vectorized = vec && width >= 2 && (!vec->extent.is_const() || const_at_least(vec->extent, width));
  bool block = vectorized && !reduction.empty() && const_at_least(vec->extent, width);
  // Two vectors per row when that leaves no longer scalar tail than one (56 lanes: 3 x 16 + 8, not 32 + 24).
  auto extent = vec ? vec->extent.as_const() : std::nullopt;
  bool two = block && (!extent || (*extent >= 2 * width && *extent % (2 * width) == *extent % width));
  int64_t per_row = two ? 2 * width : width;
  const DomainAxis* rows = block ? row_axis(spatial, vec) : nullptr;
  int64_t enough = std::max<int64_t>(4, 2 * target.cores);
  // In a contraction (one reduction axis) with enough vector chunks, the vectorized axis' blocks go
  // outside the row axis (matmul order j, i, k):
  // one block of B columns then serves every row block while it is in cache, and the blocks share the
  // work among the threads also when there are few rows (a batch of 1).
  std::vector<const DomainAxis*> outer = spatial;
  auto at = [&](const DomainAxis* a) { return std::find(outer.begin(), outer.end(), a); };
  if (rows && reduction.size() == 1 && const_at_least(vec->extent, enough * per_row) && at(rows) < at(vec)) {
    outer.erase(at(vec));
    outer.insert(at(rows), vec);
    s.order.clear();
    for (const DomainAxis* a : outer) s.order.push_back(a->name);
    for (const DomainAxis* a : reduction) s.order.push_back(a->name);
  }
  // The parallel axis: the outermost whose loop has work for every thread twice over (the vectorized
  // axis counts its vector chunks) or that is the symbolic row axis (matmul's i: many rows is where the
  // work is, and one fork per kernel beats one per row block), else the outermost.
  const DomainAxis* par = nullptr;
  for (const DomainAxis* a : outer) {
    if (par) break;
    if (a != vec && (const_at_least(a->extent, enough) || (a == rows && !a->extent.is_const()))) par = a;
    if (a == vec && const_at_least(a->extent, enough * per_row)) par = a;
  }
  if (!par && !spatial.empty() && spatial[0] != vec) par = spatial[0];
  if (vectorized) {
    if (block) {
      // Rows of another spatial axis join the register block: rows x (1 or 2) vector accumulators, up to 8
      // rows with 32 vector registers (AVX-512), else 4. LLVM unrolls the constant inner loops itself.
      if (rows) s.tile.push_back({rows->name, block_rows(rows->extent, target.vector_bits >= 512 ? 8 : 4)});
      s.tile.push_back({vec->name, per_row});
    }
    s.vectorize = {{vec->name, width}};
  }
  if (par) s.parallel = {par->name};
  if (!reduction.empty()) {
    const DomainAxis* last = reduction.back();
    auto extent = last->extent.as_const();
    if (extent && *extent > 1 && *extent <= kMaxUnrolledTaps) s.unroll.push_back({last->name, *extent});
  }
  return s;
}

/// A kernel whose constant operands outgrow the core's L2 reads them from memory on every run; when each
/// weight also feeds few outputs -- at most kMaxPrefetchReuse, the spatial loops inside the parallel
/// vector axis (a conv on 7 x 7 rows: 49; on 14 x 14: 196) -- that stream is a large part of the time:
/// ResNet-18's 512-channel convs ran 1.4 ms cold against 0.9 ms with their 9.4 MB of weights in cache.
/// Prefetching the next block during the current one (LowerPrefetch.cpp) brought them to 1.0 ms, and its
/// 256-channel convs (14 x 14, 2.4 MB) from 1.02 to 0.89 ms. Larger images re-read each weight from L2
/// often enough that the first read's wait matters little; they are left as they are (not measured).
constexpr int64_t kMaxPrefetchReuse = 256;

std::optional<std::string> weight_prefetch(const Schedule& s, const std::vector<DomainAxis>& domain,
                                           int64_t constant_bytes, const Target& target) {
  if (constant_bytes <= target.l2_bytes || s.parallel.size() != 1 || s.vectorize.empty()) return std::nullopt;
  const std::string& par = s.parallel[0];
  if (s.vectorize[0].axis != par) return std::nullopt;
  auto find = [&](const std::string& name) {
    return std::find_if(domain.begin(), domain.end(), [&](const DomainAxis& a) { return a.name == name; });
  };
  auto at = std::find(s.order.begin(), s.order.end(), par);
  if (at == s.order.end()) return std::nullopt;
  bool reduces = false;
  int64_t reuse = 1;
  for (auto name = at + 1; name != s.order.end(); ++name) {
    auto axis = find(*name);
    if (axis == domain.end()) return std::nullopt;
    reduces |= axis->reduction;
    if (axis->reduction) continue;
    auto extent = axis->extent.as_const();
    if (!extent) return std::nullopt;  // prefetch shares need a constant count of iterations
    reuse *= *extent;
  }
  if (!reduces || reuse > kMaxPrefetchReuse) return std::nullopt;
  return par;
}

Expected<const Function*> kernel_body(const Module& module, const Op& kernel) {
  std::string name = kernel.attr().s("body");
  if (!name.empty() && name[0] == '@') name = name.substr(1);
  const Function* body = module.function(name);
  if (!body) return make_error("kernel names body function @{}, which the module does not have", name);
  return body;
}

Expected<Schedule> choose_schedule(const Function& body, const Target& target, int64_t constant_bytes) {
  TESSEL_ASSIGN(std::vector<DomainAxis> domain, iteration_domain(body));
  if (target.arch == TargetArch::Cuda) return gpu_schedule(body, domain, target);
  DType dtype = body.outputs().empty() ? DType::F32 : body.outputs()[0]->type().dtype;
  Schedule s = cpu_schedule(domain, dtype, target);
  if (auto axis = weight_prefetch(s, domain, constant_bytes, target)) {
    // Only where the nest has reads to prefetch (affine indices): a kernel without them keeps its schedule.
    Schedule with = s;
    with.prefetch = {*axis};
    if (lower_kernel(body, with, target).ok()) return with;
  }
  return s;
}

/// The bytes of `kernel`'s operands that module constants produce.
int64_t constant_operand_bytes(const Op& kernel) {
  int64_t bytes = 0;
  for (const Value* v : kernel.operands())
    if (v->producer() && v->producer()->kind() == OpKind::Const) {
      int64_t size = static_cast<int64_t>(dtype_size(v->type().dtype));
      for (const Dim& d : v->type().shape) size *= d.as_const().value_or(0);
      bytes += size;
    }
  return bytes;
}

Expected<bool> schedule_kernels(Module& module, PassContext& context) {
  Function* main = module.entry();
  if (!main) return false;
  bool changed = false;
  for (Op* op : main->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    TESSEL_ASSIGN(const Function* body, kernel_body(module, *op));
    std::string where = "@" + main->name() + ": kernel @" + body->name();
    const std::string& given = op->attr().s("schedule");
    if (!given.empty()) {
      auto parsed = parse_schedule(given);
      if (!parsed) return parsed.error().at(where);
      auto domain = iteration_domain(*body);
      if (!domain) return domain.error().at(where);
      Status valid = validate_schedule(*parsed, *domain);
      if (!valid.ok()) return valid.error().at(where + " " + domain_str(*domain));
      continue;
    }
    auto schedule = choose_schedule(*body, context.target, constant_operand_bytes(*op));
    if (!schedule) return schedule.error().at(where);
    op->set_attr("schedule", schedule->str());
    changed = true;
    if (context.log && context.options.verbose) *context.log << where << ": schedule " << schedule->str() << "\n";
  }
  return changed;
}

}  // namespace tessel
