// Schedule choice from a target description, used by the `schedule` pass and by tools and tests that
// schedule a kernel body directly.
#pragma once

#include "ir/Error.h"
#include "ir/Module.h"
#include "ir/Schedule.h"
#include "passes/Target.h"

namespace tessel {

/// A schedule for the kernel body `body` on `target` (see passes/ScheduleKernels.cpp for the rules).
/// `constant_bytes`: the bytes of the kernel's operands that are module constants (weights).
Expected<Schedule> choose_schedule(const Function& body, const Target& target, int64_t constant_bytes = 0);

/// The CPU schedule of an iteration domain whose results have `dtype` (also used for the nests a kernel
/// materializes inside itself).
Schedule cpu_schedule(const std::vector<DomainAxis>& domain, DType dtype, const Target& target);

/// The body function a `kernel` op names (its `body` attribute, with or without '@'); error if missing.
Expected<const Function*> kernel_body(const Module& module, const Op& kernel);

}  // namespace tessel
