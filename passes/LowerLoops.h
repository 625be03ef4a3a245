// Loop IR of a whole module, for dumps (`tessel dump --format=loops`).
#pragma once

#include <string>

#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Target.h"

namespace tessel {

/// Every kernel of @main lowered under its schedule attribute, printed in order, each preceded by a
/// "// schedule: ..." line. Errors name the kernel that does not lower.
Expected<std::string> print_loop_ir(const Module& module, const Target& target);

}  // namespace tessel
