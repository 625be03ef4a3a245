// The loop IR: the lowered form of one scheduled kernel, in the style of Halide's Stmt IR. Expressions
// (immediates, variables, arithmetic, select, cast, load, ramp/broadcast vectors, intrinsic calls) and
// statements (for loops of a given kind with possibly symbolic bounds, store, let, block, if, allocate)
// over named buffers. It is the common input of the CPU and GPU code generators and runs on host
// tensors in the loop evaluator (ir/loop/Evaluator.h), which is how lowering is tested.
//
// Semantics (the evaluator is their executable form; docs/loop-ir.md says more):
// - Every expression has a type: an element dtype and a lane count (1 = scalar). Index arithmetic is i64.
// - And/Or/Xor and not() are bitwise on integers and logical on bool.
// - Integer arithmetic wraps (two's complement); Div truncates toward zero and Mod takes the sign of the
//   dividend (C), both give 0 for a zero divisor, and INT_MIN / -1 wraps to INT_MIN. Float Mod is fmod.
// - Float min/max propagate NaN. f16/bf16 arithmetic computes in float and rounds per operation.
// - Cast follows the tensor IR's cast: float->int truncates and saturates (NaN -> 0), x->bool is x != 0.
// - Reinterpret keeps the bits of each lane and changes the type to one of the same byte size (bool is one
//   byte; a bool result is normalized to x != 0, as the tensor IR's bitcast).
// - The low-precision storage dtypes (float8, float4, 4-/2-bit integers; one byte per element) appear only
//   as loads, stores, immediates and reinterpret operands; their lanes hold the raw byte. Conversions to and
//   from them are spelled out in loop IR (ir/loop/LowPrecisionExpr.h).
// - A binary operation takes operands of one type; a vector operand and a scalar do not mix (broadcast).
// - Loads and stores index buffers in elements, row-major; out-of-bounds accesses are errors.
// - Loop kinds only say how iterations may be executed; every kind means "for each i in [min, min+extent)".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/DType.h"
#include "ir/Dim.h"

namespace tessel::loop {

/// An element dtype and a lane count.
struct Type {
  DType elem = DType::I64;
  int lanes = 1;

  bool is_vector() const { return lanes > 1; }
  Type with_lanes(int n) const { return Type{elem, n}; }
  Type element_of() const { return Type{elem, 1}; }
  bool operator==(const Type& other) const { return elem == other.elem && lanes == other.lanes; }
  bool operator!=(const Type& other) const { return !(*this == other); }
  /// "f32", "f32x8".
  std::string str() const;
};

inline Type i64_type(int lanes = 1) { return Type{DType::I64, lanes}; }
inline Type bool_type(int lanes = 1) { return Type{DType::Bool, lanes}; }

enum class BinOp { Add, Sub, Mul, Div, Mod, Min, Max, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Xor };

/// The math functions a Call may name. Each computes elementwise on its operand type.
enum class Intrinsic {
  Neg,
  Not,
  Abs,
  Exp,
  Log,
  Sqrt,
  Tanh,
  Sigmoid,
  Erf,
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh,
  Floor,
  Ceil,
  Round,
  IsNan,
  IsInf,
  Pow,
};

enum class ExprKind { IntImm, FloatImm, Var, Binary, Select, Cast, Load, Ramp, Broadcast, Call, Reinterpret };

struct ExprNode;
/// Expressions are immutable and shared.
using Expr = std::shared_ptr<const ExprNode>;

struct ExprNode {
  ExprKind kind;
  Type type;
  int64_t int_value = 0;          ///< IntImm (bits for unsigned types; 0/1 for bool); lanes of Ramp/Broadcast
  double float_value = 0;         ///< FloatImm
  std::string name;               ///< Var name; Load buffer
  BinOp op = BinOp::Add;          ///< Binary
  Intrinsic fn = Intrinsic::Neg;  ///< Call
  /// Binary a,b; Select c,t,f; Cast/Reinterpret x; Load index; Ramp base,stride; Broadcast v; Call
  std::vector<Expr> args;

  const Expr& arg(size_t i) const { return args[i]; }
};

// ---- Expression constructors (they check types with assert; lowering builds well-typed trees) ----

Expr int_imm(int64_t value, DType dtype = DType::I64);
Expr float_imm(double value, DType dtype = DType::F32);
Expr bool_imm(bool value);
Expr var(std::string name, Type type = i64_type());
/// a op b; comparisons give bool with the operands' lanes.
Expr binary(BinOp op, Expr a, Expr b);
Expr select(Expr cond, Expr then_value, Expr else_value);
Expr cast(Type type, Expr value);
/// The bits of `value` read as `type` (same lanes, same element byte size).
Expr reinterpret(Type type, Expr value);
/// buffer[index] with element dtype `elem`; the result has the index's lanes.
Expr load(std::string buffer, DType elem, Expr index);
Expr ramp(Expr base, Expr stride, int lanes);
Expr broadcast(Expr value, int lanes);
Expr call(Intrinsic fn, std::vector<Expr> args);

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr eq(Expr a, Expr b);
Expr ne(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);

/// The constant value of an integer immediate (or a broadcast of one), if it is one.
const int64_t* as_int_const(const Expr& e);
bool is_const_int(const Expr& e, int64_t value);
std::string_view binop_name(BinOp op);  ///< "+", "min", "&&"
std::string_view intrinsic_name(Intrinsic fn);
bool is_comparison(BinOp op);
/// Arity of an intrinsic (2 for pow, else 1).
int intrinsic_arity(Intrinsic fn);

// ---- Statements -----------------------------------------------------------------------------------

enum class ForKind { Serial, Parallel, Vectorized, Unrolled, GpuBlock, GpuThread };
enum class MemoryKind { Local, Shared, Heap };
enum class StmtKind { For, Store, Let, Block, If, Allocate, Prefetch };

std::string_view for_kind_name(ForKind kind);        ///< "serial", "parallel", "vectorized", ...
std::string_view memory_kind_name(MemoryKind kind);  ///< "local", "shared", "heap"

struct StmtNode;
using Stmt = std::shared_ptr<const StmtNode>;

struct StmtNode {
  StmtKind kind;
  std::string name;  ///< For loop variable; Store / Allocate / Prefetch buffer; Let variable
  ForKind for_kind = ForKind::Serial;
  MemoryKind memory = MemoryKind::Local;
  DType elem = DType::F32;  ///< Allocate element dtype
  std::vector<Expr> exprs;  ///< For: min, extent; Store: index, value; Let: value; If: cond; Allocate: size;
                            ///< Prefetch: index
  std::vector<Stmt> body;   ///< For/Let/Allocate: {body}; If: {then, else?}; Block: the statements

  const Expr& expr(size_t i) const { return exprs[i]; }
};

Stmt for_loop(std::string var, Expr min, Expr extent, ForKind kind, Stmt body);
Stmt store(std::string buffer, Expr index, Expr value);
Stmt let_stmt(std::string var, Expr value, Stmt body);
/// A block of statements; nested blocks are flattened and a single statement is returned as is.
Stmt block(std::vector<Stmt> stmts);
Stmt if_then_else(Expr cond, Stmt then_case, Stmt else_case = nullptr);
Stmt allocate(std::string buffer, DType elem, Expr size, MemoryKind memory, Stmt body);
/// A hint that `buffer[index]` (a scalar i64 element index) will be read soon: CPU code asks the cache to
/// fetch its line into L2. It reads nothing, may point past the buffer and never changes a result.
Stmt prefetch(std::string buffer, Expr index);

// ---- Kernels --------------------------------------------------------------------------------------

enum class BufferRole { Input, Output, Constant };
std::string_view buffer_role_name(BufferRole role);  ///< "in", "out", "const"

/// A buffer parameter of a kernel: a dense row-major tensor.
struct Buffer {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  BufferRole role = BufferRole::Input;
  std::string constant;  ///< the module constant bound to a Constant buffer
};

/// One lowered kernel: buffer parameters, the symbolic dims they use (i64 parameters) and a body.
struct Kernel {
  std::string name;
  std::vector<Buffer> buffers;
  Stmt body;

  /// Names of the symbols in the buffer shapes, sorted: the kernel's scalar parameters.
  std::vector<std::string> params() const;
  const Buffer* find_buffer(const std::string& buffer_name) const;
};

/// The i64 expression of a (possibly symbolic) dim; symbols become variables of the same name.
Expr dim_expr(const Dim& dim);

}  // namespace tessel::loop
