// stage_shared: in each innermost gpu_block loop, copies each staged input's footprint (passes/SharedFootprint.h)
// into a shared allocation with a cooperative nest on the block's thread shape, and rebases the block's
// loads onto the copy (contract in LowerShared.h). Box elements outside the input (edge blocks, clamped
// rows) are not copied; no load reads them.
#include "passes/LowerShared.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"
#include "passes/SharedFootprint.h"

namespace tessel {

using namespace loop;    // NOLINT
using namespace shared;  // NOLINT

namespace {

bool contains_block(const Stmt& s) {
  if (s->kind == StmtKind::For && s->for_kind == ForKind::GpuBlock) return true;
  return std::any_of(s->body.begin(), s->body.end(), [](const Stmt& b) { return b && contains_block(b); });
}

/// The first chain of nested gpu_thread loops in `s`: the block's thread shape.
const StmtNode* first_thread_loop(const Stmt& s) {
  if (s->kind == StmtKind::For && s->for_kind == ForKind::GpuThread) return s.get();
  for (const Stmt& b : s->body)
    if (const StmtNode* found = b ? first_thread_loop(b) : nullptr) return found;
  return nullptr;
}

Expected<std::vector<int64_t>> thread_shape(const Stmt& body) {
  std::vector<int64_t> shape;
  for (const StmtNode* l = first_thread_loop(body); l;) {
    const int64_t* extent = as_int_const(l->expr(1));
    if (!extent) return make_error("thread loop '{}' has the symbolic extent {}", l->name, print(l->expr(1)));
    shape.push_back(*extent);
    const Stmt& inner = l->body[0];
    l = inner->kind == StmtKind::For && inner->for_kind == ForKind::GpuThread ? inner.get() : nullptr;
  }
  return shape;
}

/// The range of a loop's variable; a symbolic extent leaves it unbounded above (kHuge).
Range loop_range(int64_t min, const int64_t* extent) {
  return Range{min, extent ? min + std::max<int64_t>(*extent, 1) - 1 : kHuge};
}

/// Runs of box dims that are contiguous in the buffer: a run's inner dims span whole buffer rows from
/// origin 0, so the run is one range of elements (16 full rows of x: 16 x 40 elements from the block's
/// first row). Extent-1 dims join no run; their origins are fixed offsets.
struct CopyRun {
  int64_t extent = 1, stride = 1;
  Expr base;  ///< sum of the run's origin_d * stride_d
};

std::vector<CopyRun> copy_runs(const Footprint& fp, Expr& offset) {
  std::vector<CopyRun> runs;  // innermost first
  bool open = false;          // the last run may take the next outer dim
  for (size_t d = fp.dims.size(); d-- > 0;) {
    const BoxDim& box = fp.dims[d];
    Expr base = box.origin * int_imm(fp.strides[d]);
    if (box.extent == 1) {
      offset = offset + base;
      continue;
    }
    CopyRun* last = runs.empty() ? nullptr : &runs.back();
    if (open && last && last->extent * last->stride == fp.strides[d]) {
      last->extent *= box.extent;
      last->base = base;
    } else {
      runs.push_back({box.extent, fp.strides[d], base});
    }
    open = is_const_int(box.origin, 0);
  }
  return runs;
}

/// The copy of `s`'s footprint by the thread with linear id `tid` of `threads`: element e of the copy is
/// box point e in row-major order.
Stmt copy_nest(const Staged& s, const Expr& tid, int64_t threads, Ranges ranges) {
  const Footprint& fp = s.fp;
  int64_t chunks = (fp.elements + threads - 1) / threads;
  std::string chunk = s.shared + ".c";
  Expr e = chunks == 1 ? tid : var(chunk) * int_imm(threads) + tid;
  // The global index of e, and of a point p with p_r as variables (to bound it).
  Expr offset = fp.outer;
  std::vector<CopyRun> runs = copy_runs(fp, offset);
  Expr global = offset, global_p = offset;
  int64_t box_stride = 1;
  for (size_t r = 0; r < runs.size(); ++r) {
    std::string p = fmt::format("stage.p{}", r);
    ranges[p] = Range{0, runs[r].extent - 1};
    // e < elements: the outermost run needs no remainder.
    Expr p_of_e = e / int_imm(box_stride);
    if (r + 1 < runs.size()) p_of_e = p_of_e % int_imm(runs[r].extent);
    global = global + runs[r].base + p_of_e * int_imm(runs[r].stride);
    global_p = global_p + runs[r].base + var(p) * int_imm(runs[r].stride);
    box_stride *= runs[r].extent;
  }
  global = simplify(global);
  Expr guard = chunks * threads == fp.elements ? bool_imm(true) : e < int_imm(fp.elements);
  auto bounds = interval(simplify(global_p), ranges);
  auto numel = shape_numel(s.buffer->shape).as_const();
  if (!bounds || bounds->lo < 0) guard = guard && global >= int_imm(0);
  if (!bounds || !numel || bounds->hi >= *numel) guard = guard && global < dim_expr(shape_numel(s.buffer->shape));
  guard = simplify(guard);
  Stmt copy = store(s.shared, e, load(s.buffer->name, s.buffer->dtype, global));
  if (!is_const_int(guard, 1)) copy = if_then_else(guard, copy);
  return chunks == 1 ? copy : for_loop(chunk, int_imm(0), int_imm(chunks), ForKind::Serial, copy);
}

class Stager {
 public:
  Stager(const Kernel& kernel, std::vector<const Buffer*> buffers, const Target& target)
      : kernel_(kernel), buffers_(std::move(buffers)), target_(target) {}

  Expected<Stmt> visit(const Stmt& s, Ranges& ranges) {
    bool loop = s->kind == StmtKind::For;
    std::optional<Range> saved;
    if (auto it = ranges.find(s->name); (loop || s->kind == StmtKind::Let) && it != ranges.end()) saved = it->second;
    if (loop || s->kind == StmtKind::Let) ranges.erase(s->name);
    if (loop) {
      const int64_t *min = as_int_const(s->expr(0)), *extent = as_int_const(s->expr(1));
      if (min) ranges[s->name] = loop_range(*min, extent);
    }
    std::vector<Stmt> body;
    for (const Stmt& b : s->body) {
      if (!b) {
        body.push_back(b);
        continue;
      }
      bool innermost_block = loop && s->for_kind == ForKind::GpuBlock && !contains_block(b);
      auto out = innermost_block ? stage_at(b, ranges) : visit(b, ranges);
      if (!out) return out.error();
      body.push_back(*out);
    }
    if (loop || s->kind == StmtKind::Let) ranges.erase(s->name);
    if (saved) ranges[s->name] = *saved;
    return with_parts(s, s->exprs, std::move(body));
  }

  const std::set<std::string>& staged() const { return staged_; }

 private:
  Error cannot(const Buffer& b, const Error& why) const {
    return make_error("lower: kernel {}: cannot stage '{}' in shared memory: {}", kernel_.name, b.name, why.message)
        .with_hint("drop it from shared=[...]");
  }

  std::string shared_name(const Buffer& b) const {
    std::string name = b.name + "_shared";
    while (kernel_.find_buffer(name)) name += "_";
    return name;
  }

  /// Stages right before the thread loops: serial loops and lets between the block loops and the thread
  /// loops (an order that puts the batch inside the blocks) enclose the copy, which is redone per iteration.
  Expected<Stmt> stage_at(const Stmt& s, Ranges& ranges) {
    bool serial_loop = s->kind == StmtKind::For && s->for_kind != ForKind::GpuThread && s->body[0] &&
                       first_thread_loop(s->body[0]) != nullptr;
    if (!serial_loop && s->kind != StmtKind::Let) return stage_block(s, ranges);
    std::optional<Range> saved;
    if (auto it = ranges.find(s->name); it != ranges.end()) saved = it->second;
    ranges.erase(s->name);
    const int64_t *min = as_int_const(s->expr(0)), *extent = serial_loop ? as_int_const(s->expr(1)) : nullptr;
    if (min && serial_loop) ranges[s->name] = loop_range(*min, extent);
    auto body = stage_at(s->body[0], ranges);
    ranges.erase(s->name);
    if (saved) ranges[s->name] = *saved;
    if (!body) return body.error();
    return with_parts(s, s->exprs, {*body});
  }

  Expected<Stmt> stage_block(const Stmt& body, const Ranges& ranges) {
    std::vector<Staged> staged;
    int64_t bytes = 0;
    std::vector<std::string> sizes;
    for (const Buffer* b : buffers_) {
      auto fp = footprint_of(body, *b);
      if (!fp) return cannot(*b, fp.error());
      if (!*fp) continue;
      staged.push_back({b, shared_name(*b), std::move(**fp)});
      int64_t n = staged.back().fp.elements;
      bytes = std::min(kHuge, bytes + n * static_cast<int64_t>(dtype_size(b->dtype)));
      sizes.push_back(fmt::format("{}: {} x {}", b->name, n, dtype_name(b->dtype)));
      staged_.insert(b->name);
    }
    if (staged.empty()) return body;
    if (bytes > target_.shared_bytes_per_block)
      return make_error("lower: kernel {}: staging in shared memory takes {} bytes per block ({}) but {} allows {}",
                        kernel_.name, bytes, fmt::join(sizes, ", "), target_.name, target_.shared_bytes_per_block)
          .with_hint("use smaller GPU tiles (tile=[...]) or stage fewer inputs");
    TESSEL_ASSIGN(Stmt compute, rebase_loads(body, staged));
    auto shape = thread_shape(body);
    if (!shape) return cannot(*staged[0].buffer, shape.error());
    // The copy runs on the compute's thread shape (stage.t0 .. outermost first), element e by thread e % T.
    int64_t threads = 1;
    Expr tid = int_imm(0);
    Ranges copy_ranges = ranges;
    for (size_t k = 0; k < shape->size(); ++k) {
      std::string t = fmt::format("stage.t{}", k);
      tid = tid * int_imm((*shape)[k]) + var(t);
      threads *= (*shape)[k];
      copy_ranges[t] = Range{0, (*shape)[k] - 1};
    }
    std::vector<Stmt> copies;
    for (const Staged& s : staged) copies.push_back(copy_nest(s, simplify(tid), threads, copy_ranges));
    Stmt copy = block(copies);
    for (size_t k = shape->size(); k-- > 0;)
      copy = for_loop(fmt::format("stage.t{}", k), int_imm(0), int_imm((*shape)[k]), ForKind::GpuThread, copy);
    // Two consecutive thread-loop nests in a block body: a barrier between them.
    Stmt out = block({copy, compute});
    for (size_t i = staged.size(); i-- > 0;)
      out =
          allocate(staged[i].shared, staged[i].buffer->dtype, int_imm(staged[i].fp.elements), MemoryKind::Shared, out);
    return out;
  }

  const Kernel& kernel_;
  std::vector<const Buffer*> buffers_;
  const Target& target_;
  std::set<std::string> staged_;
};

void innermost_blocks(const Stmt& s, std::vector<Stmt>& bodies) {
  if (s->kind == StmtKind::For && s->for_kind == ForKind::GpuBlock && !contains_block(s->body[0])) {
    bodies.push_back(s->body[0]);
    return;
  }
  for (const Stmt& b : s->body)
    if (b) innermost_blocks(b, bodies);
}

}  // namespace

Expected<Stmt> stage_shared(const Kernel& kernel, const std::vector<std::string>& shared, const Target& target) {
  if (shared.empty() || !kernel.body) return kernel.body;
  if (target.arch != TargetArch::Cuda)
    return make_error("lower: kernel {}: shared-memory staging (shared={}) needs a GPU target, not {}", kernel.name,
                      fmt::join(shared, ","), target.name);
  std::vector<const Buffer*> buffers;
  std::vector<std::string> inputs;
  for (const Buffer& b : kernel.buffers)
    if (b.role != BufferRole::Output) inputs.push_back(b.name);
  for (const std::string& name : shared) {
    const Buffer* b = kernel.find_buffer(name);
    if (!b || b->role == BufferRole::Output)
      return make_error("lower: kernel {}: shared names '{}', which is not an input of the kernel (inputs: {})",
                        kernel.name, name, fmt::join(inputs, ", "));
    if (std::find(buffers.begin(), buffers.end(), b) == buffers.end()) buffers.push_back(b);
  }
  Stager stager(kernel, buffers, target);
  Ranges ranges;
  TESSEL_ASSIGN(Stmt body, stager.visit(kernel.body, ranges));
  for (const Buffer* b : buffers)
    if (!stager.staged().count(b->name))
      return make_error("lower: kernel {}: shared names '{}', which no gpu_block loop reads", kernel.name, b->name)
          .with_hint("map the kernel's loops to GPU blocks (gpu_blocks=[...]) or drop it from shared");
  return body;
}

std::vector<StagingCandidate> staging_candidates(const Kernel& kernel) {
  std::vector<Stmt> bodies;
  if (kernel.body) innermost_blocks(kernel.body, bodies);
  std::vector<StagingCandidate> out;
  for (const Buffer& b : kernel.buffers) {
    if (b.role == BufferRole::Output) continue;
    StagingCandidate c{b.name, 0, 0, 0};
    bool ok = true;
    for (const Stmt& body : bodies) {
      auto fp = footprint_of(body, b);
      ok = ok && fp.ok() && thread_shape(body).ok();
      if (!ok) break;
      if (*fp && (*fp)->elements > c.elements) {
        c.elements = (*fp)->elements;
        c.loads = (*fp)->loads;
      }
    }
    if (!ok || c.elements == 0 || c.elements >= kHuge) continue;
    c.bytes = c.elements * static_cast<int64_t>(dtype_size(b.dtype));
    out.push_back(c);
  }
  return out;
}

}  // namespace tessel
