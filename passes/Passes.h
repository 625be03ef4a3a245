// Declarations of every pass function of the pass table (Passes.def). Each
// pass lives in its own file, passes/<Name>.cpp, whose header comment says what
// it expects and what it guarantees. Run them through the PassManager
// (passes/PassManager.h), which verifies, prints and times them.
#pragma once

#include "ir/Error.h"
#include "ir/Module.h"
#include "passes/Pass.h"

namespace tessel {

// ---- Graph passes (passes helper) ----------------------------------------------------------------
/// Re-runs every op's shape rule and rewrites result types (symbolic dims kept); errors on conflicts.
Expected<bool> infer_shapes(Module& module, PassContext& context);
/// Evaluates ops whose operands are all constants, within options.fold_max_bytes.
Expected<bool> fold_constants(Module& module, PassContext& context);
/// Local rewrites to canonical form: identities, transpose/reshape chains, batch-norm into conv, gemm.
Expected<bool> canonicalize(Module& module, PassContext& context);
/// Common subexpression elimination (identical ops, identical constants).
Expected<bool> cse(Module& module, PassContext& context);
/// Dead code elimination: ops whose results are unused, and unused pool constants.
Expected<bool> dce(Module& module, PassContext& context);
/// Decomposes composite ops (lstm/gru/rnn, layer_norm, softmax, log_softmax, gelu) into primitives.
Expected<bool> decompose(Module& module, PassContext& context);
/// Stores constant conv and gemm weights in the order CPU kernels read them (passes/Layout.cpp).
Expected<bool> layout(Module& module, PassContext& context);

// ---- Classical ML (ml2 helper) -------------------------------------------------------------------
/// Sets tree_strategy on every tree_ensemble (cost model or TESSEL_TREE_STRATEGY) and makes the node
/// tables of the tensorized ones (passes/ChooseTreeStrategy.cpp).
Expected<bool> choose_tree_strategy(Module& module, PassContext& context);

// ---- Fusion and memory planning (fusion helper) --------------------------------------------------
/// Groups the ops of @main into kernel ops whose bodies are new functions (passes/Fuse.cpp).
Expected<bool> fuse(Module& module, PassContext& context);
/// Stores 4-D activations between CPU conv kernels channel-blocked, [N, C / B, H, W, B]
/// (passes/BlockActivations.cpp).
Expected<bool> block_activations(Module& module, PassContext& context);
/// Records an arena plan on @main's kernels: `arena_offsets`, `inplace` (passes/PlanMemory.cpp).
Expected<bool> plan_memory(Module& module, PassContext& context);

// ---- Scheduling and lowering (loops helper) ------------------------------------------------------
/// Gives every kernel a schedule chosen from the target; keeps and validates schedules already given.
Expected<bool> schedule_kernels(Module& module, PassContext& context);
/// Lowers every kernel to loop IR (a check: the module is unchanged); errors name the kernel and op.
Expected<bool> lower_loops(Module& module, PassContext& context);

}  // namespace tessel
