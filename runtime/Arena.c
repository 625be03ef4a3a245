/* Arenas: one aligned block per model run (or per thread's scratch), carved
 * up by offsets the memory planner computed. 64-byte alignment keeps every
 * planned buffer on its own cache line and safe for the widest vector loads. */
#include <stdint.h>
#include <stdlib.h>

#include "runtime/tessel_runtime.h"

struct tessel_arena {
  void* data;
  size_t size;
};

tessel_arena* tessel_arena_create(size_t bytes) {
  /* aligned_alloc wants a size that is a multiple of the alignment; never zero, so data is never NULL. */
  if (bytes > SIZE_MAX - TESSEL_ARENA_ALIGNMENT) {
    tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "arena of %zu bytes is too large", bytes);
    return NULL;
  }
  size_t rounded = (bytes + TESSEL_ARENA_ALIGNMENT - 1) / TESSEL_ARENA_ALIGNMENT * TESSEL_ARENA_ALIGNMENT;
  if (rounded == 0) rounded = TESSEL_ARENA_ALIGNMENT;
  tessel_arena* arena = (tessel_arena*)malloc(sizeof(tessel_arena));
  void* data = arena ? aligned_alloc(TESSEL_ARENA_ALIGNMENT, rounded) : NULL;
  if (!data) {
    free(arena);
    tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "cannot allocate an arena of %zu bytes", bytes);
    return NULL;
  }
  arena->data = data;
  arena->size = bytes;
  return arena;
}

void* tessel_arena_data(const tessel_arena* arena) { return arena ? arena->data : NULL; }

size_t tessel_arena_size(const tessel_arena* arena) { return arena ? arena->size : 0; }

void tessel_arena_destroy(tessel_arena* arena) {
  if (!arena) return;
  free(arena->data);
  free(arena);
}
