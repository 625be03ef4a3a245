// The optimization levels as plain lists of pass names, one linear list per
// level (read top to bottom). Every name must be in Passes.def: the pass
// manager refuses unknown names, and PassManagerTest checks every level.
#include <string>
#include <vector>

#include "passes/PassManager.h"

namespace tessel {

Expected<std::vector<std::string>> build_pipeline(int opt_level) {
  if (opt_level < 0 || opt_level > 3) return make_error("unknown optimization level -O{} (expected 0 to 3)", opt_level);
  // -O0: nothing; the module runs in the interpreter as imported.
  std::vector<std::string> names;
  if (opt_level == 0) return names;
  // -O1: simplification that never changes what an op computes.
  names = {"infer-shapes", "fold-constants", "canonicalize", "cse", "dce"};
  if (opt_level == 1) return names;
  // -O2: + composite ops into primitives (results within float rounding), then clean up again.
  for (const char* name : {"decompose", "fold-constants", "canonicalize", "cse", "dce"}) names.push_back(name);
  if (opt_level == 2) return names;
  // -O3: + layout (weights stored as the CPU kernels read them; after the last fold-constants, which would
  // undo it), dce (the old weights), choose-tree-strategy (how tree ensembles lower; nothing may drop its
  // tables before lowering), fuse (kernels), block-activations (NCHWc between conv kernels), schedule
  // (tiling from the target), plan-memory (one arena), lower-loops (a check that every kernel lowers).
  for (const char* name :
       {"layout", "dce", "choose-tree-strategy", "fuse", "block-activations", "schedule", "plan-memory", "lower-loops"})
    names.push_back(name);
  return names;
}

}  // namespace tessel
