// The loop-nest builder: applies a schedule to an anchor's iteration domain.
//
// Each axis becomes one or more loops ("levels"): the outer level at the axis' place in the order, a
// tile level (a.i: a reduction's before the reduction loops after the last outer spatial loop, a spatial
// one among the innermost), a vector level (a.v, innermost) and an unroll level (a.u, right after the
// outer one). Loops after the first reduction loop form the accumulation part; the spatial loops among them
// (the tile) index a local accumulator, so the nest reads
//
//   outer loops { allocate acc[tile] local { init over tile; update over inner loops; finalize over tile } }
//
// When spatial loops sit between reduction loops (a reduction split in chunks outside a row of register
// tiles), the register tile gets a local `reg` of its own around the innermost reduction loops.
//
// and the epilogue runs in the finalize loop, at the store. A schedule's prefetch=a adds prefetches of the
// next iteration of a's weights at the top of one of the reduction loops (passes/LowerPrefetch.cpp). A
// vectorized axis is split exactly (main nest over floor(E/W)*W elements) and its ragged end runs in a
// second, scalar copy of the nest. Non-dividing tiles and unroll splits round up and guard the statements
// with `index < extent`.
#include <functional>
#include <map>

#include <fmt/format.h>

#include "ir/loop/Text.h"
#include "ir/loop/Transforms.h"
#include "passes/LowerImpl.h"

namespace tessel::lower {

using namespace loop;  // NOLINT

namespace {

enum class Place { Outer, Thread, ReduceTile, SpatialTile, Vector };

struct Level {
  std::string var;
  Expr min, extent;
  int64_t stride = 1;
  ForKind kind = ForKind::Serial;
  Place place = Place::Outer;
  size_t axis = 0;
};

struct AxisPlan {
  std::vector<Level> levels;
  Expr base = int_imm(0);  ///< added to the sum of level vars * strides (the tail's start)
  bool guard = false;      ///< the levels may overshoot the extent
};

Expr ceil_div(const Expr& e, int64_t d) { return simplify((e + int_imm(d - 1)) / int_imm(d)); }

bool divides(const Dim& extent, int64_t factor) {
  auto c = extent.as_const();
  return c && *c % factor == 0;
}

/// The loops of one axis. In the tail nest of a vectorized axis, that axis is one serial loop over the
/// elements the main nest leaves.
AxisPlan plan_axis(const DomainAxis& axis, size_t index, const Schedule& s, bool tail) {
  AxisPlan plan;
  const std::string& a = axis.name;
  Expr extent = dim_expr(axis.extent);
  int64_t tile = s.tile_of(a), width = s.vector_width_of(a), unroll = s.unroll_of(a);
  bool parallel = std::find(s.parallel.begin(), s.parallel.end(), a) != s.parallel.end();
  bool block = std::find(s.gpu_blocks.begin(), s.gpu_blocks.end(), a) != s.gpu_blocks.end();
  bool thread = std::find(s.gpu_threads.begin(), s.gpu_threads.end(), a) != s.gpu_threads.end();
  ForKind outer_kind = parallel ? ForKind::Parallel : block ? ForKind::GpuBlock : ForKind::Serial;
  Place tile_place = thread ? Place::Thread : axis.reduction ? Place::ReduceTile : Place::SpatialTile;
  auto level = [&](std::string var, Expr ext, int64_t stride, ForKind kind, Place place) {
    plan.levels.push_back({std::move(var), int_imm(0), simplify(ext), stride, kind, place, index});
  };
  if (width) {
    int64_t chunk = tile ? tile : width;
    Expr main_end = simplify((extent / int_imm(chunk)) * int_imm(chunk));
    if (tail) {
      plan.base = main_end;
      level(a, extent - main_end, 1, ForKind::Serial, Place::Outer);
      return plan;
    }
    level(a + ".o", extent / int_imm(chunk), chunk, outer_kind, Place::Outer);
    if (tile) level(a + ".i", int_imm(tile / width), width, unroll ? ForKind::Unrolled : ForKind::Serial, tile_place);
    level(a + ".v", int_imm(width), 1, ForKind::Vectorized, Place::Vector);
    return plan;
  }
  if (tile) {
    plan.guard = !divides(axis.extent, tile);
    level(a + ".o", ceil_div(extent, tile), tile, outer_kind, Place::Outer);
    level(a + ".i", int_imm(tile), 1,
          thread   ? ForKind::GpuThread
          : unroll ? ForKind::Unrolled
                   : ForKind::Serial,
          tile_place);
    return plan;
  }
  if (unroll) {
    auto c = axis.extent.as_const();
    if (c && unroll >= *c) {
      level(a, extent, 1, ForKind::Unrolled, Place::Outer);
      return plan;
    }
    plan.guard = !divides(axis.extent, unroll);
    level(a + ".o", ceil_div(extent, unroll), unroll, outer_kind, Place::Outer);
    level(a + ".u", int_imm(unroll), 1, ForKind::Unrolled, Place::Outer);
    return plan;
  }
  level(a, extent, 1, outer_kind, Place::Outer);
  return plan;
}

Stmt wrap(const std::vector<const Level*>& loops, Stmt body) {
  for (size_t i = loops.size(); i-- > 0;)
    body = for_loop(loops[i]->var, loops[i]->min, loops[i]->extent, loops[i]->kind, body);
  return body;
}

Expected<Stmt> build_one(const Anchor& anchor, const Schedule& s, const StoreFn& store_fn, bool tail) {
  const auto& axes = anchor.axes;
  // Axis order: the schedule's, then the rest in domain order.
  std::vector<size_t> order;
  for (const std::string& name : s.order)
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i].name == name) order.push_back(i);
  for (size_t i = 0; i < axes.size(); ++i)
    if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);

  std::vector<AxisPlan> plans;
  for (size_t i = 0; i < axes.size(); ++i) plans.push_back(plan_axis(axes[i], i, s, tail));
  // GPU thread loops go right before the first reduction loop: each thread owns its accumulators.
  std::vector<const Level*> loops, threads;
  for (size_t i : order)
    for (const Level& l : plans[i].levels)
      if (l.place == Place::Thread) threads.push_back(&l);
  for (size_t i : order)
    for (const Level& l : plans[i].levels) {
      if (l.place != Place::Outer) continue;
      if (axes[i].reduction && !threads.empty()) {
        loops.insert(loops.end(), threads.begin(), threads.end());
        threads.clear();
      }
      loops.push_back(&l);
    }
  loops.insert(loops.end(), threads.begin(), threads.end());
  // Reduction tiles go before the reduction loops after the last outer spatial loop (a conv's ic.i before
  // kh, kw: the taps stay innermost, where a row of register tiles shares the window's loads), spatial
  // tiles and vectors innermost.
  size_t reduce_at = loops.size();
  while (reduce_at > 0 && axes[loops[reduce_at - 1]->axis].reduction) --reduce_at;
  std::vector<const Level*> reduce_tiles;
  for (size_t i : order)
    for (const Level& l : plans[i].levels)
      if (l.place == Place::ReduceTile) reduce_tiles.push_back(&l);
  loops.insert(loops.begin() + static_cast<long>(reduce_at), reduce_tiles.begin(), reduce_tiles.end());
  for (Place place : {Place::SpatialTile, Place::Vector})
    for (size_t i : order)
      for (const Level& l : plans[i].levels)
        if (l.place == place) loops.push_back(&l);

  // The value of each axis, and the guard of axes whose loops may overshoot.
  std::vector<Expr> values;
  Expr guard = bool_imm(true), spatial_guard = bool_imm(true);
  for (size_t i = 0; i < axes.size(); ++i) {
    Expr v = plans[i].base;
    for (const Level& l : plans[i].levels) v = v + var(l.var) * int_imm(l.stride);
    values.push_back(simplify(v));
    if (!plans[i].guard) continue;
    Expr in_range = values.back() < dim_expr(axes[i].extent);
    guard = guard && in_range;
    if (!axes[i].reduction) spatial_guard = spatial_guard && in_range;
  }
  guard = simplify(guard);
  spatial_guard = simplify(spatial_guard);
  auto guarded = [&](Stmt body) { return is_const_int(guard, 1) ? body : if_then_else(guard, body); };
  auto spatial_guarded = [&](Stmt body) {
    return is_const_int(spatial_guard, 1) ? body : if_then_else(spatial_guard, body);
  };
  std::vector<Expr> spatial(values.begin(), values.begin() + static_cast<long>(anchor.num_spatial));

  if (anchor.accs.empty()) {
    TESSEL_ASSIGN(Expr value, anchor.finalize(spatial, {}));
    TESSEL_ASSIGN(Stmt st, store_fn(spatial, value));
    return wrap(loops, guarded(st));
  }

  size_t r0 = loops.size();
  for (size_t i = 0; i < loops.size() && r0 == loops.size(); ++i)
    if (axes[loops[i]->axis].reduction) r0 = i;
  std::vector<const Level*> outer(loops.begin(), loops.begin() + static_cast<long>(r0));
  std::vector<const Level*> inner(loops.begin() + static_cast<long>(r0), loops.end());
  std::vector<const Level*> tile;
  Expr acc_size = int_imm(1), acc_index = int_imm(0);
  for (const Level* l : inner) {
    if (axes[l->axis].reduction) continue;
    if (l->kind == ForKind::Parallel || l->kind == ForKind::GpuBlock || l->kind == ForKind::GpuThread)
      return make_error("lower: schedule puts {} loop '{}' inside the reduction loops; order it before them",
                        for_kind_name(l->kind), l->var);
    if (!as_int_const(l->extent))
      return make_error("lower: spatial loop '{}' is ordered inside a reduction loop but its extent {} is not constant",
                        l->var, print(l->extent))
          .with_hint("order spatial axes with symbolic extents before the reduction axes");
    tile.push_back(l);
    acc_size = simplify(acc_size * l->extent);
    acc_index = simplify(acc_index * l->extent + var(l->var));
  }
  size_t n = anchor.accs.size();
  auto acc_names = [&](const char* stem) {
    std::vector<std::string> result;
    for (size_t k = 0; k < n; ++k) result.push_back(n == 1 ? stem : fmt::format("{}{}", stem, k));
    return result;
  };
  std::vector<std::string> names = acc_names("acc");
  auto loads_of = [&](const std::vector<std::string>& accs, const Expr& index) {
    std::vector<Expr> result;
    for (size_t k = 0; k < n; ++k) result.push_back(load(accs[k], anchor.accs[k].dtype, index));
    return result;
  };
  std::vector<Expr> current = loads_of(names, acc_index);
  // One step of the reduction on the accumulators `accs` at `index`.
  auto update_of = [&](const std::vector<std::string>& accs, const Expr& index) -> Expected<Stmt> {
    TESSEL_ASSIGN(std::vector<Expr> next, anchor.update(values, loads_of(accs, index)));
    if (n == 1) return store(accs[0], index, next[0]);
    // All new values read the old ones: compute them first.
    std::vector<Stmt> stores;
    for (size_t k = 0; k < n; ++k) stores.push_back(store(accs[k], index, var(accs[k] + ".next", next[k]->type)));
    Stmt body = block(stores);
    for (size_t k = n; k-- > 0;) body = let_stmt(accs[k] + ".next", next[k], body);
    return body;
  };
  std::vector<Stmt> init;
  std::vector<Expr> initial;
  for (const auto& acc : anchor.accs) initial.push_back(acc.init);
  if (anchor.init_at) {
    TESSEL_ASSIGN(initial, anchor.init_at(spatial));
  }
  for (size_t k = 0; k < n; ++k) init.push_back(store(names[k], acc_index, initial[k]));
  TESSEL_ASSIGN(Stmt update, update_of(names, acc_index));
  TESSEL_ASSIGN(Expr result, anchor.finalize(spatial, current));
  TESSEL_ASSIGN(Stmt st, store_fn(spatial, result));
  // Spatial loops ordered inside a reduction loop but outside the register tile (conv ow.o inside ic.o: the
  // reduction runs in chunks whose weights stay in cache, and acc carries the partial sums of a whole row
  // between chunks): the register tile accumulates in a small local of its own, loaded from acc before the
  // remaining reduction loops and stored back after them, so its accumulators stay in registers.
  size_t head_end = 0;
  for (size_t i = 0; i < inner.size(); ++i)
    if (!axes[inner[i]->axis].reduction && inner[i]->place == Place::Outer) head_end = i + 1;
  std::vector<const Level*> head(inner.begin(), inner.begin() + static_cast<long>(head_end));
  std::vector<const Level*> rest(inner.begin() + static_cast<long>(head_end), inner.end()), reg_tile;
  bool rest_reduces = false;
  Expr reg_size = int_imm(1), reg_index = int_imm(0);
  for (const Level* l : rest) {
    rest_reduces |= axes[l->axis].reduction;
    if (axes[l->axis].reduction) continue;
    reg_tile.push_back(l);
    reg_size = simplify(reg_size * l->extent);
    reg_index = simplify(reg_index * l->extent + var(l->var));
  }
  bool stage = head_end > 0 && rest_reduces;
  std::vector<std::string> regs = acc_names("reg");
  Stmt reg_update;  // built only when staging: an update inlines the anchor's whole expression again
  if (stage) {
    auto staged_update = update_of(regs, reg_index);
    if (!staged_update) return staged_update.error();
    reg_update = *staged_update;
  }
  auto staged_updates = [&](const std::function<Stmt(Stmt)>& g) {
    std::vector<Stmt> load_regs, store_regs;
    for (size_t k = 0; k < n; ++k) {
      load_regs.push_back(store(regs[k], reg_index, load(names[k], anchor.accs[k].dtype, acc_index)));
      store_regs.push_back(store(names[k], acc_index, load(regs[k], anchor.accs[k].dtype, reg_index)));
    }
    Stmt body = block({wrap(reg_tile, block(load_regs)), wrap(rest, g(reg_update)), wrap(reg_tile, block(store_regs))});
    for (size_t k = n; k-- > 0;) body = allocate(regs[k], anchor.accs[k].dtype, reg_size, MemoryKind::Local, body);
    return wrap(head, body);
  };
  // Prefetches run at the top of a reduction loop (prefetches_for picks which), outside the register tile.
  size_t tile_from = inner.size();
  while (tile_from > 0 && !axes[inner[tile_from - 1]->axis].reduction) --tile_from;
  std::vector<const Level*> steps(inner.begin(), inner.begin() + static_cast<long>(tile_from));
  std::vector<const Level*> step_tile(inner.begin() + static_cast<long>(tile_from), inner.end());
  std::map<size_t, std::vector<Stmt>> prefetches;  // by the number of reduction loops around them
  for (const std::string& a : tail ? std::vector<std::string>{} : s.prefetch) {
    if (stage)
      return make_error(
          "schedule prefetch={}: the reduction runs in chunks around spatial loops; prefetch needs "
          "the reduction loops innermost but for the register tile",
          a);
    const Level* level = nullptr;
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i].name == a) level = &plans[i].levels.front();
    auto at = std::find(outer.begin(), outer.end(), level);
    if (at == outer.end())
      return make_error("schedule prefetch={}: the axis has no loop outside the reduction", a)
          .with_hint("order it before the reduction axes");
    PrefetchNest where{level->var, {}, {}, {}};
    for (auto l = at + 1; l != outer.end(); ++l) where.sweep.push_back({(*l)->var, (*l)->extent});
    for (const Level* l : steps) where.reduction.push_back({l->var, l->extent});
    for (const Level* l : step_tile) where.inner_vars.push_back(l->var);
    TESSEL_ASSIGN(Prefetches mine, prefetches_for(update, where, a));
    auto& at_level = prefetches[mine.level];
    at_level.insert(at_level.end(), mine.stmts.begin(), mine.stmts.end());
  }
  auto wrap_update = [&](Stmt body) {  // wrap(inner, body) with the prefetches at their levels
    body = wrap(step_tile, body);
    for (size_t l = steps.size(); l-- > 0;) {
      if (auto it = prefetches.find(l + 1); it != prefetches.end()) {
        std::vector<Stmt> step = it->second;
        step.push_back(body);
        body = block(step);
      }
      body = for_loop(steps[l]->var, steps[l]->min, steps[l]->extent, steps[l]->kind, body);
    }
    return body;
  };
  // Initial values read at the spatial index are guarded like the store (tiles may overshoot).
  auto nest = [&](bool guards) {
    std::function<Stmt(Stmt)> g = [&](Stmt body) { return guards ? guarded(std::move(body)) : body; };
    auto sg = [&](Stmt body) { return guards ? spatial_guarded(std::move(body)) : body; };
    Stmt init_stmt = anchor.init_at ? sg(block(init)) : block(init);
    Stmt updates = stage ? staged_updates(g) : wrap_update(g(update));
    return block({wrap(tile, init_stmt), updates, wrap(tile, sg(st))});
  };
  // The edge tile of spatial axes that overshoot: their tile loops move outside the reduction and each
  // point inside the domain runs its own reduction (a batch of 1 in an 8-row block runs 1 row, not 8
  // guarded ones).
  auto edge_nest = [&] {
    std::vector<const Level*> edge, rest_tile, rest_inner;
    for (const Level* l : tile) (plans[l->axis].guard ? edge : rest_tile).push_back(l);
    for (const Level* l : inner)
      if (std::find(edge.begin(), edge.end(), l) == edge.end()) rest_inner.push_back(l);
    Stmt point = block({wrap(rest_tile, block(init)), wrap(rest_inner, update), wrap(rest_tile, st)});
    return wrap(edge, spatial_guarded(point));
  };
  Stmt body = nest(true);
  // A tile wholly inside the domain needs no guards. When only spatial axes are guarded, test the tile's last
  // point once and run an unguarded copy (every tile but the edge ones), so the reduction loop has no branch.
  bool reduction_guarded = false;
  for (size_t i = 0; i < axes.size(); ++i) reduction_guarded |= plans[i].guard && axes[i].reduction;
  if (!is_const_int(spatial_guard, 1) && !reduction_guarded) {
    Expr last_point = spatial_guard;
    for (const Level* l : tile) last_point = substitute(last_point, l->var, simplify(l->extent - int_imm(1)));
    body = if_then_else(simplify(last_point), nest(false), edge_nest());
  }
  for (size_t k = n; k-- > 0;) body = allocate(names[k], anchor.accs[k].dtype, acc_size, MemoryKind::Local, body);
  return wrap(outer, body);
}

/// The main and tail nests of a vectorized axis share the loops outside that axis (same variables,
/// ranges and kinds): one copy of those loops runs both bodies, so a parallel loop among them forks the
/// thread pool once instead of twice. The two nests write disjoint elements and read only what came
/// before them, so running them interleaved gives the same results.
Stmt merge_common_loops(const Stmt& a, const Stmt& b) {
  bool same = a->kind == StmtKind::For && b->kind == StmtKind::For && a->name == b->name &&
              a->for_kind == b->for_kind && print(a->expr(0)) == print(b->expr(0)) &&
              print(a->expr(1)) == print(b->expr(1));
  if (!same) return block({a, b});
  return for_loop(a->name, a->expr(0), a->expr(1), a->for_kind, merge_common_loops(a->body[0], b->body[0]));
}

}  // namespace

Expected<Stmt> build_nest(const Anchor& anchor, const Schedule& schedule, const StoreFn& store) {
  if (anchor.custom) return anchor.custom(schedule, store);
  TESSEL_ASSIGN(Stmt main, build_one(anchor, schedule, store, false));
  if (schedule.vectorize.empty()) return main;
  TESSEL_ASSIGN(Stmt tail, build_one(anchor, schedule, store, true));
  return merge_common_loops(main, tail);
}

}  // namespace tessel::lower
