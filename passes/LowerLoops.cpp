// The `lower-loops` pass: lowers every kernel of @main to loop IR under its schedule attribute and
// fails with the kernel and op named when one cannot be lowered. It leaves the module unchanged: it
// proves that the kernels lower (the backends lower again from the same inputs). Expects `fuse` (and
// usually `schedule`) to have run; a module without kernels passes trivially.
// `print_loop_ir` is the same walk, printing each kernel's loop IR (for `tessel dump --format=loops`).
#include <functional>

#include <fmt/format.h>

#include "ir/loop/Text.h"
#include "passes/LowerKernel.h"
#include "passes/LowerLoops.h"
#include "passes/Passes.h"
#include "passes/ScheduleKernels.h"

namespace tessel {
namespace {

/// Lowers each kernel op of @main in order; calls `sink` with each kernel.
Status for_each_lowered(const Module& module, const Target& target,
                        const std::function<void(const Op&, const loop::Kernel&)>& sink) {
  const Function* main = module.entry();
  if (!main) return Status::success();
  for (const Op* op : main->ops()) {
    if (op->kind() != OpKind::Kernel) continue;
    TESSEL_ASSIGN(const Function* body, kernel_body(module, *op));
    std::string where = "@" + main->name() + ": kernel @" + body->name();
    auto schedule = parse_schedule(op->attr().s("schedule"));
    if (!schedule) return schedule.error().at(where);
    auto kernel = lower_kernel(*body, *schedule, target);
    if (!kernel) return kernel.error().at(where);
    sink(*op, *kernel);
  }
  return Status::success();
}

}  // namespace

Expected<bool> lower_loops(Module& module, PassContext& context) {
  int count = 0;
  TESSEL_TRY(for_each_lowered(module, context.target, [&](const Op&, const loop::Kernel&) { ++count; }));
  if (context.log && context.options.verbose) *context.log << "lower-loops: " << count << " kernels lowered\n";
  return false;
}

Expected<std::string> print_loop_ir(const Module& module, const Target& target) {
  std::string out;
  TESSEL_TRY(for_each_lowered(module, target, [&](const Op& op, const loop::Kernel& kernel) {
    std::string schedule = op.attr().s("schedule");
    out += fmt::format("// schedule: {}\n", schedule.empty() ? "(none)" : schedule);
    out += loop::print(kernel) + "\n";
  }));
  return out;
}

}  // namespace tessel
