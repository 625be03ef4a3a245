// Prints a module in the text form (`.tsl`). The text parses back
// (ir/Parser.h) to a module that prints identically. Grammar: docs/ir.md.
#pragma once

#include <cstdint>
#include <string>

#include "ir/Module.h"

namespace tessel {

struct PrintOptions {
  /// Constants with more elements than this print as `elided(hash = "...")`, which does not parse
  /// back; -1 prints every constant in full (what files written to be read back use).
  int64_t elide_constants_above = -1;
};

std::string print_module(const Module& module, const PrintOptions& options = {});
std::string print_function(const Function& function, const PrintOptions& options = {});

}  // namespace tessel
