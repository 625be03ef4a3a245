// The `schedule` pass: gives every `kernel` op of @main a `schedule` attribute chosen from the target,
// unless the input already has one (a user's schedule), which is kept and validated against the
// kernel's iteration domain. Expects kernels made by `fuse`; guarantees every kernel has a schedule
// that lowers (docs/loop-ir.md).
//
// CPU rules: vectorize the last spatial (output) axis -- the contiguous one -- by the target's lanes for
// the output dtype; with a reduction, tile it by two vectors and a second spatial axis (matmul i, conv
// oc: the parallel axis) by 8 (AVX-512) or 4 for a register block of 8 x 2 or 4 x 2 vector
// accumulators, also when its extent is symbolic (full tiles run without guards); parallelize
// the outermost spatial axis of constant extent >= 4 (else the outermost); unroll a reduction axis of
// extent <= 4.
// CUDA rules: tile the last two spatial axes 16 x 16 (or the last by 256) and map the outer parts to
// blocks and the tiles to threads.
#include "passes/ScheduleKernels.h"

#include "passes/LowerKernel.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

bool const_at_least(const Dim& d, int64_t n) {
  auto c = d.as_const();
  return c && *c >= n;
}

Schedule gpu_schedule(const std::vector<DomainAxis>& domain) {
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

Schedule cpu_schedule(const std::vector<DomainAxis>& domain, DType dtype, const Target& target) {
  Schedule s;
  std::vector<const DomainAxis*> spatial, reduction;
  for (const DomainAxis& a : domain) (a.reduction ? reduction : spatial).push_back(&a);
  int64_t lanes = target.vector_bits / (8 * static_cast<int64_t>(dtype_size(dtype)));
  const DomainAxis* vec = nullptr;
  for (auto it = spatial.rbegin(); it != spatial.rend() && !vec; ++it)
    if (!((*it)->extent == Dim(1))) vec = *it;
  if (!reduction.empty())
    for (const DomainAxis& a : domain) s.order.push_back(a.name);
  const DomainAxis* par = nullptr;
  for (const DomainAxis* a : spatial)
    if (!par && a != vec && const_at_least(a->extent, 4)) par = a;
  if (!par && !spatial.empty() && spatial[0] != vec) par = spatial[0];
  if (vec && lanes >= 2 && (!vec->extent.is_const() || const_at_least(vec->extent, lanes))) {
    if (!reduction.empty() && const_at_least(vec->extent, 2 * lanes)) {
      // The parallel axis' inner part joins the register block: rows x 2 vector accumulators, 8 rows with
      // 32 vector registers (AVX-512), else 4. A symbolic extent is tiled too: full tiles run unguarded.
      int64_t rows = lanes >= 16 && (!par || !par->extent.is_const() || const_at_least(par->extent, 8)) ? 8 : 4;
      if (par && (!par->extent.is_const() || const_at_least(par->extent, rows))) {
        s.tile.push_back({par->name, rows});  // LLVM unrolls the constant inner loop itself
      }
      s.tile.push_back({vec->name, 2 * lanes});
    }
    s.vectorize = {{vec->name, lanes}};
  }
  if (par) s.parallel = {par->name};
  if (!reduction.empty()) {
    const DomainAxis* last = reduction.back();
    auto extent = last->extent.as_const();
    if (extent && *extent > 1 && *extent <= 4) s.unroll.push_back({last->name, *extent});
  }
  return s;
}

}  // namespace

Expected<const Function*> kernel_body(const Module& module, const Op& kernel) {
  std::string name = kernel.attr().s("body");
  if (!name.empty() && name[0] == '@') name = name.substr(1);
  const Function* body = module.function(name);
  if (!body) return make_error("kernel names body function @{}, which the module does not have", name);
  return body;
}

Expected<Schedule> choose_schedule(const Function& body, const Target& target) {
  TESSEL_ASSIGN(std::vector<DomainAxis> domain, iteration_domain(body));
  if (target.arch == TargetArch::Cuda) return gpu_schedule(domain);
  DType dtype = body.outputs().empty() ? DType::F32 : body.outputs()[0]->type().dtype;
  return cpu_schedule(domain, dtype, target);
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
    auto schedule = choose_schedule(*body, context.target);
    if (!schedule) return schedule.error().at(where);
    op->set_attr("schedule", schedule->str());
    changed = true;
    if (context.log && context.options.verbose) *context.log << where << ": schedule " << schedule->str() << "\n";
  }
  return changed;
}

}  // namespace tessel
