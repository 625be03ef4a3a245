// The loop IR's text form: a readable, C-like printing that parses back to the same text
// (print(parse(print(k))) == print(k)). Used in dumps (`--format=loops`), golden tests and by hand
// when experimenting with kernels. Grammar: docs/loop-ir.md.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ir/Error.h"
#include "ir/loop/LoopIR.h"

namespace tessel::loop {

std::string print(const Expr& expr);
/// Statements, one per line, indented by `indent` levels of two spaces.
std::string print(const Stmt& stmt, int indent = 0);
std::string print(const Kernel& kernel);

/// Parses one kernel; errors read "<loops>:line:col: message".
Expected<Kernel> parse_kernel(std::string_view text);
/// Parses an expression whose free variables have the types in `scope` (unknown names are errors).
Expected<Expr> parse_expr(std::string_view text, const std::map<std::string, Type>& scope = {});

}  // namespace tessel::loop
