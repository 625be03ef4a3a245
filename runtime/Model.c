/* Loading and running compiled models: the only code an AOT user needs besides the generated library. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/tessel_runtime.h"

struct tessel_model {
  const tessel_model_info* info;
  const void** constants; /* owned table of weight pointers */
  void* mapping;          /* the mapped weights file, or NULL */
  size_t mapping_bytes;
  tessel_thread_pool* pool;
};

static int thread_count(int requested) {
  if (requested > 0) return requested;
  const char* env = getenv("TESSEL_NUM_THREADS");
  int n = env ? atoi(env) : 0;
  return n > 0 ? n : 0;
}

static tessel_status map_weights(tessel_model* model, const char* path) {
  const tessel_model_info* info = model->info;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "cannot open weights file '%s'", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != info->weights_bytes) {
    close(fd);
    return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT,
                            "weights file '%s' has %lld bytes; model '%s' expects %llu (a file of another model?)",
                            path, (long long)st.st_size, info->name, (unsigned long long)info->weights_bytes);
  }
  if (info->weights_bytes > 0) {
    model->mapping = mmap(NULL, (size_t)info->weights_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    if (model->mapping == MAP_FAILED) {
      model->mapping = NULL;
      close(fd);
      return tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "cannot map weights file '%s'", path);
    }
    model->mapping_bytes = (size_t)info->weights_bytes;
  }
  close(fd);
  for (int32_t k = 0; k < info->num_constants; ++k)
    model->constants[k] = (const char*)model->mapping + info->constant_offsets[k];
  return TESSEL_OK;
}

tessel_model* tessel_model_create(const tessel_model_info* info, const char* weights_path, int num_threads) {
  if (!info) {
    tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "tessel_model_create: info is NULL");
    return NULL;
  }
  if (!info->embedded_constants && !weights_path) {
    tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT,
                     "model '%s' was compiled with external weights: pass the path of %s.weights", info->name,
                     info->name);
    return NULL;
  }
  tessel_model* model = calloc(1, sizeof(tessel_model));
  if (!model) {
    tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "cannot allocate a model");
    return NULL;
  }
  model->info = info;
  model->constants = calloc((size_t)info->num_constants + 1, sizeof(void*));
  if (!model->constants) {
    tessel_model_destroy(model);
    tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "cannot allocate a model");
    return NULL;
  }
  if (info->embedded_constants) {
    for (int32_t k = 0; k < info->num_constants; ++k) model->constants[k] = info->embedded_constants[k];
  } else if (map_weights(model, weights_path) != TESSEL_OK) {
    tessel_status code = tessel_last_error_code();
    tessel_model_destroy(model);
    tessel_set_error(code, "%s", tessel_last_error());
    return NULL;
  }
  model->pool = tessel_thread_pool_create(thread_count(num_threads));
  if (!model->pool) {
    tessel_model_destroy(model);
    return NULL;
  }
  return model;
}

tessel_status tessel_model_run(tessel_model* model, const int64_t* symbols, void* const* inputs, void* const* outputs) {
  if (!model) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "tessel_model_run: model is NULL");
  const tessel_model_info* info = model->info;
  for (int32_t k = 0; k < info->num_symbols; ++k)
    if (symbols[k] < 0)
      return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "model '%s': symbolic dim %d is negative (%lld)",
                              info->name, (int)k, (long long)symbols[k]);
  int64_t bytes = info->arena_bytes(symbols);
  tessel_arena* arena = tessel_arena_create(bytes > 0 ? (size_t)bytes : 0);
  if (!arena) return tessel_last_error_code();
  int32_t status =
      info->run(inputs, outputs, (const void* const*)model->constants, symbols, tessel_arena_data(arena), model->pool);
  tessel_arena_destroy(arena);
  if (status != 0)
    return tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "model '%s': a kernel could not allocate scratch memory",
                            info->name);
  return TESSEL_OK;
}

void tessel_model_destroy(tessel_model* model) {
  if (!model) return;
  tessel_thread_pool_destroy(model->pool);
  if (model->mapping) munmap(model->mapping, model->mapping_bytes);
  free((void*)model->constants);
  free(model);
}
