// Renders a module as a Graphviz digraph for `tessel dump --format=dot`: one
// node per op (its name, the attributes it sets and its result types), with
// function inputs, outputs and constants drawn as distinct shapes, and edges
// labelled with the type of the value that flows along them.
#pragma once

#include <string>

#include "ir/Module.h"

namespace tessel::cli {

/// The module as DOT text, one cluster per function.
std::string write_dot(const Module& module);
/// `text` as the body of a DOT double-quoted string: quotes and backslashes escaped, newlines as DOT's
/// `\n` line breaks, other control characters replaced by '?'.
std::string dot_escape(const std::string& text);

}  // namespace tessel::cli
