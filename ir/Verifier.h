// Checks a module's structural and type rules: SSA order (every operand is an
// input or defined by an earlier op), operand and result counts, attribute
// names, kinds and presence against the op table, and result types against the
// op's shape rule. Each error names the function, the op, the value and the
// rule broken.
#pragma once

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel {

Status verify(const Module& module);
Status verify_function(const Function& function);

}  // namespace tessel
