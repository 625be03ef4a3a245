// Rewrites of loop IR: substitution, the simplifier (constant folding with the evaluator's semantics,
// algebraic identities such as x*1 and x+0, ramp/broadcast arithmetic, removal of empty and one-trip
// loops), vectorization of `vectorized` loops into ramp/broadcast vector code, and common-subexpression
// elimination (lets for values a statement computes more than once).
#pragma once

#include <string>

#include "ir/loop/LoopIR.h"

namespace tessel::loop {

/// `e` with every free occurrence of variable `name` replaced by `value`.
Expr substitute(const Expr& e, const std::string& name, const Expr& value);
Stmt substitute(const Stmt& s, const std::string& name, const Expr& value);
/// Whether `e` mentions variable `name`.
bool depends_on(const Expr& e, const std::string& name);
/// Rebuilds `e` with new operands (types recomputed from them).
Expr with_args(const Expr& e, std::vector<Expr> args);
/// Rebuilds statement `s` (same kind, name and attributes) with new expressions and body statements.
Stmt with_parts(const Stmt& s, std::vector<Expr> exprs, std::vector<Stmt> body);

Expr simplify(const Expr& e);
Stmt simplify(const Stmt& s);
Kernel simplify(Kernel kernel);
/// True for a block without statements (what the simplifier leaves of a loop that never runs).
bool is_no_op(const Stmt& s);

/// Replaces each `vectorized` loop of constant extent L whose body is straight-line code (stores, lets,
/// ifs with scalar conditions) by that body computed on L-lane vectors: the loop variable becomes
/// ramp(min, 1, L) and scalars are broadcast where they meet vectors. Loops it cannot vectorize (nested
/// loops, allocations, vector-valued conditions) stay `vectorized` loops, which mean the same serially.
Stmt vectorize_loops(const Stmt& s);

/// Common-subexpression elimination: in each store, if condition and let value, every non-trivial
/// subexpression (not an immediate, variable, ramp or broadcast) that is computed more than once becomes
/// a `let` wrapped around that statement (names `cseN`, fresh in `s`), operands before users. An expression
/// is bound only if each load in it is also read outside every select arm (a load that a select guards may
/// be out of bounds). Runs last: let-bound vector indices would hide ramps from the vectorizer and codegen.
Stmt cse(const Stmt& s);

}  // namespace tessel::loop
