// Parses the text form (`.tsl`) into a module. Errors read
// "file:line:col: message". The parser takes result types as written; run the
// verifier afterwards to check them against the op table's shape rules.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/Error.h"
#include "ir/Module.h"

namespace tessel {

Expected<std::unique_ptr<Module>> parse_module(std::string_view text, const std::string& filename = "<input>");
/// Reads and parses a file; an unreadable file is an error naming the path.
Expected<std::unique_ptr<Module>> parse_file(const std::string& path);

}  // namespace tessel
