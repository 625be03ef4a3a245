// Packing of a matmul's B operand into column panels, inside the kernel (see LowerImpl.h).
//
// A row-major B [K, N] read along j by a register block of T columns strides N elements per k: with
// N * 4 bytes a multiple of 1 KiB (N = 1024: 4 KiB) every k of a panel maps to the same few cache sets,
// and the panel thrashes L1 and L2 however small it is. Copying B once per call into panels
// [N / T][K][T] makes each panel one contiguous stretch, read front to back. The copy costs K * N
// loads and stores, paid back many times over when there are many rows; with few rows (a batch of 1)
// the kernel reads B directly, so the lowering branches on the row count. The packed path also prefetches
// the next block of A's rows while a block runs: each row of A is its own 4 KiB page when K = 1024, and
// the hardware prefetcher starts every page cold (1024^3 GEMM at 2 threads: about 4% faster median, 9%
// best case).
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

std::optional<PackPlan> plan_b_packing(const Value* anchor, const Schedule& schedule) {
  const Op* op = anchor->producer();
  if (!op || op->kind() != OpKind::MatMul) return std::nullopt;
  const Value *a = op->operand(0), *b = op->operand(1);
  if (a->type().rank() != 2 || b->type().rank() != 2 || b->producer()) return std::nullopt;
  int64_t tile = schedule.tile_of("j");
  auto n = b->type().shape[1].as_const();
  if (tile <= 0 || schedule.vector_width_of("j") == 0 || !n || *n % tile != 0 || *n < kPackMinColumns)
    return std::nullopt;
  return PackPlan{b, tile, b->type().shape[0], *n, dim_expr(a->type().shape[0])};
}

Expr packed_offset(const PackPlan& plan, const std::vector<Expr>& index) {
  Expr k = index[0], j = index[1], tile = int_imm(plan.tile);
  return simplify(((j / tile) * dim_expr(plan.k) + k) * tile + j % tile);
}

Stmt pack_nest(const PackPlan& plan, const std::string& source, const std::string& packed) {
  DType dtype = plan.b->type().dtype;
  Expr panel = var("pack.p"), k = var("pack.k"), lane = var("pack.v"), tile = int_imm(plan.tile);
  Expr from = k * int_imm(plan.n) + panel * tile + lane;
  Expr to = (panel * dim_expr(plan.k) + k) * tile + lane;
  Stmt copy = store(packed, simplify(to), load(source, dtype, simplify(from)));
  Stmt lanes = for_loop("pack.v", int_imm(0), tile, ForKind::Vectorized, copy);
  Stmt rows = for_loop("pack.k", int_imm(0), dim_expr(plan.k), ForKind::Serial, lanes);
  return for_loop("pack.p", int_imm(0), int_imm(plan.n / plan.tile), ForKind::Parallel, rows);
}

Schedule with_row_prefetch(const Schedule& schedule) {
  if (!schedule.prefetch.empty()) return schedule;
  std::vector<std::string> order = schedule.order;
  for (const char* axis : {"i", "j", "k"})
    if (std::find(order.begin(), order.end(), axis) == order.end()) order.push_back(axis);
  if (order.back() != "k") return schedule;
  Schedule with = schedule;
  with.prefetch = {"i"};
  return with;
}

}  // namespace tessel::lower
