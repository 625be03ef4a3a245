/* The Tessel runtime: the small C library that compiled models run on. It
 * depends on no compiler library (and on nothing but the C and C++ standard
 * libraries), so generated code and AOT builds can link it alone. It holds:
 * status codes with a thread-local message, a tensor descriptor laid out like
 * DLPack's DLTensor (so tensors cross to other frameworks without copying),
 * 64-byte-aligned arenas, and a thread pool with a blocking parallel_for.
 * Every function is safe to call from several threads at once unless noted;
 * none aborts or throws. */
#ifndef TESSEL_RUNTIME_H_
#define TESSEL_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ------------------------------------------------------------------------ */

/** Result of a runtime call; on anything but TESSEL_OK, tessel_last_error() says why. */
typedef enum tessel_status {
  TESSEL_OK = 0,
  TESSEL_ERROR_INVALID_ARGUMENT,
  TESSEL_ERROR_OUT_OF_MEMORY,
  TESSEL_ERROR_UNSUPPORTED,
  TESSEL_ERROR_INTERNAL
} tessel_status;

/** The calling thread's last error message ("" if none); valid until the thread's next runtime call. */
const char* tessel_last_error(void);
/** The status code that goes with tessel_last_error(), TESSEL_OK if none. */
tessel_status tessel_last_error_code(void);
/** Records a printf-formatted message for the calling thread (truncated to 1023 bytes) and returns `code`,
 *  so that callers can write `return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "...", ...);`. */
tessel_status tessel_set_error(tessel_status code, const char* format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Forgets the calling thread's last error. */
void tessel_clear_error(void);
/** "ok", "invalid argument", "out of memory", "unsupported", "internal error", or "unknown status". */
const char* tessel_status_name(tessel_status status);

/* ---- Tensor descriptors (layout-compatible with DLPack's DLTensor) ---------------------------- */

/** Device kinds, numbered as DLPack's DLDeviceType. */
enum { TESSEL_DEVICE_CPU = 1, TESSEL_DEVICE_CUDA = 2, TESSEL_DEVICE_CUDA_HOST = 3 };

/** Element type codes, numbered as DLPack's DLDataTypeCode. */
enum {
  TESSEL_DTYPE_INT = 0,
  TESSEL_DTYPE_UINT = 1,
  TESSEL_DTYPE_FLOAT = 2,
  TESSEL_DTYPE_BFLOAT = 4,
  TESSEL_DTYPE_BOOL = 6
};

/** Where a tensor lives (DLDevice). */
typedef struct tessel_device {
  int32_t device_type; /**< TESSEL_DEVICE_* */
  int32_t device_id;
} tessel_device;

/** Element type (DLDataType): f32 is {FLOAT, 32, 1}, bool is {BOOL, 8, 1}. */
typedef struct tessel_dtype {
  uint8_t code; /**< TESSEL_DTYPE_* */
  uint8_t bits;
  uint16_t lanes;
} tessel_dtype;

/** A tensor view (DLTensor). The runtime never owns `data`, `shape` or `strides`. */
typedef struct tessel_tensor {
  void* data;
  tessel_device device;
  int32_t ndim;
  tessel_dtype dtype;
  int64_t* shape;       /**< ndim dims; may be NULL when ndim == 0 */
  int64_t* strides;     /**< in elements; NULL means compact row-major */
  uint64_t byte_offset; /**< added to data before the first element */
} tessel_tensor;

/** Number of elements: the product of the dims (1 for ndim 0); -1 if the descriptor is invalid
 *  (negative ndim or dim, NULL shape with ndim > 0) or the count overflows int64. */
int64_t tessel_tensor_numel(const tessel_tensor* tensor);
/** Bytes of the elements when stored compactly (numel * element size); 0 for an invalid descriptor. */
uint64_t tessel_tensor_nbytes(const tessel_tensor* tensor);
/** 1 if the elements are compact row-major (strides NULL, or equal to the row-major strides wherever
 *  the dim is not 1), else 0. Empty tensors are contiguous. */
int tessel_tensor_is_contiguous(const tessel_tensor* tensor);
/** Checks that a descriptor is well formed; on failure records a message naming `what` and the rule
 *  broken and returns TESSEL_ERROR_INVALID_ARGUMENT. */
tessel_status tessel_tensor_check(const tessel_tensor* tensor, const char* what);
/** Pointer to the first element: data + byte_offset. */
void* tessel_tensor_first(const tessel_tensor* tensor);

/** Builds a dtype with one lane. */
tessel_dtype tessel_dtype_make(uint8_t code, uint8_t bits);
/** 1 if the two dtypes are identical. */
int tessel_dtype_equal(tessel_dtype a, tessel_dtype b);
/** Bytes one element occupies: ceil(bits * lanes / 8). */
size_t tessel_dtype_bytes(tessel_dtype dtype);
/** The IR's name for a one-lane dtype ("f32", "bf16", "i64", "u8", "bool"), or NULL if it has none. */
const char* tessel_dtype_name(tessel_dtype dtype);
/** Parses an IR dtype name into *out; TESSEL_ERROR_INVALID_ARGUMENT (with a message) if unknown. */
tessel_status tessel_dtype_parse(const char* name, tessel_dtype* out);

/* ---- Arenas ----------------------------------------------------------------------------------- */

/** Alignment of arena memory: a cache line, and enough for any vector load. */
#define TESSEL_ARENA_ALIGNMENT 64

/** An owned block of 64-byte-aligned scratch memory. */
typedef struct tessel_arena tessel_arena;

/** Allocates an arena of at least `bytes` bytes (contents unspecified; 0 is allowed and still gives a
 *  valid, aligned pointer). Returns NULL and records TESSEL_ERROR_OUT_OF_MEMORY on failure. */
tessel_arena* tessel_arena_create(size_t bytes);
/** The arena's memory (TESSEL_ARENA_ALIGNMENT-aligned), or NULL for a NULL arena. */
void* tessel_arena_data(const tessel_arena* arena);
/** The size requested at creation. */
size_t tessel_arena_size(const tessel_arena* arena);
/** Frees the arena; NULL is ignored. */
void tessel_arena_destroy(tessel_arena* arena);

/* ---- Thread pool ------------------------------------------------------------------------------ */

typedef struct tessel_thread_pool tessel_thread_pool;

/** Body of a parallel loop: processes indices [begin, end) using `ctx`. It must not throw or longjmp out. */
typedef void (*tessel_parallel_fn)(void* ctx, int64_t begin, int64_t end);

/** Creates a pool that runs loops on `num_threads` threads in all: num_threads - 1 workers plus the
 *  thread that calls tessel_parallel_for. 0 means the hardware's concurrency. Returns NULL and records
 *  an error for a negative count or when threads cannot be started. */
tessel_thread_pool* tessel_thread_pool_create(int num_threads);
/** Threads a loop may use, the caller included; 1 for a NULL pool. */
int tessel_thread_pool_num_threads(const tessel_thread_pool* pool);
/** Runs fn over [begin, end) split into chunks of `grain` indices (the last may be shorter; grain <= 0
 *  picks about four chunks per thread), on the pool's workers and the calling thread, and returns when
 *  every chunk has run. Each index is passed to fn exactly once; chunks run in no particular order.
 *  An empty range (end <= begin) calls nothing. A NULL pool runs the chunks serially on the caller.
 *  Several threads may call this on one pool at once, and fn may itself call it (nested loops run
 *  without deadlock). Returns TESSEL_ERROR_INVALID_ARGUMENT for a NULL fn. */
tessel_status tessel_parallel_for(tessel_thread_pool* pool, int64_t begin, int64_t end, int64_t grain,
                                  tessel_parallel_fn fn, void* ctx);
/** Stops and joins the workers; loops still running on other threads must have returned. NULL is ignored. */
void tessel_thread_pool_destroy(tessel_thread_pool* pool);

/* ---- Compiled models (what `tessel compile` generates) ------------------------------------------ */

/** The entry point of a compiled model: runs every kernel in order. `inputs` / `outputs` hold one data
 *  pointer per model input / output, `constants` one per weight, `symbols` the value of each symbolic dim,
 *  `arena` arena_bytes(symbols) bytes of 64-byte-aligned scratch. Returns 0 or TESSEL_ERROR_OUT_OF_MEMORY. */
typedef int32_t (*tessel_model_run_fn)(void* const* inputs, void* const* outputs, const void* const* constants,
                                       const int64_t* symbols, void* arena, tessel_thread_pool* pool);
typedef int64_t (*tessel_model_arena_fn)(const int64_t* symbols);

/** What the generated library exports as NAME_info. */
typedef struct tessel_model_info {
  const char* name;
  int32_t num_inputs;
  int32_t num_outputs;
  int32_t num_symbols;
  int32_t num_constants;
  tessel_model_run_fn run;
  tessel_model_arena_fn arena_bytes;
  const void* const* embedded_constants; /**< one pointer per constant; NULL when the weights are external */
  const uint64_t* constant_offsets;      /**< byte offset of each constant in the weights file */
  uint64_t weights_bytes;                /**< size of the weights file */
} tessel_model_info;

/** A loaded model: its weights and a thread pool. */
typedef struct tessel_model tessel_model;

/** Loads a model. `weights_path` names the NAME.weights file when the model was compiled with external
 *  weights (it is mapped read-only, and checked for size) and must be NULL otherwise. `num_threads` 0 reads
 *  TESSEL_NUM_THREADS, else uses every core. Returns NULL with tessel_last_error() set on failure. */
tessel_model* tessel_model_create(const tessel_model_info* info, const char* weights_path, int num_threads);
/** Runs the model (safe from several threads at once): allocates the arena, runs, frees it. */
tessel_status tessel_model_run(tessel_model* model, const int64_t* symbols, void* const* inputs, void* const* outputs);
/** Unmaps the weights and stops the threads; NULL is ignored. */
void tessel_model_destroy(tessel_model* model);

/* ---- Profiling (models compiled with --profile) ------------------------------------------------ */

/** Time spent in each kernel of models compiled with profiling, summed over runs, process-wide, in the
 *  order kernels first ran. Models compiled without profiling record nothing. */
void tessel_profile_reset(void);
/** Kernels recorded since the last reset. */
int32_t tessel_profile_count(void);
/** Entry `index` (0 <= index < count): writes its label (NUL-terminated, truncated to label_size), total
 *  nanoseconds and number of calls; any pointer may be NULL. Returns 1, or 0 for an index out of range. */
int32_t tessel_profile_entry(int32_t index, char* label, size_t label_size, uint64_t* total_ns, uint64_t* calls);

/* ---- Helpers called by generated code -------------------------------------------------------- */

/** Monotonic nanoseconds (profiled models read it before each kernel). */
uint64_t tessel_profile_clock(void);
/** Adds the time since `start_ns` to the kernel labelled `label` (profiled models call it after each kernel). */
void tessel_profile_record(const char* label, uint64_t start_ns);

/** base ** exponent with wrapping integer arithmetic; a negative signed exponent gives 1 for base 1, +-1 for
 *  base -1 and 0 otherwise (the IR's integer pow). `exponent_signed` says how to read `exponent`. */
int64_t tessel_ipow(int64_t base, int64_t exponent, int32_t exponent_signed);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSEL_RUNTIME_H_ */
