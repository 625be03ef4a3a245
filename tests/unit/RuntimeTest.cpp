// Tests for the C runtime: error reporting, the DLPack-compatible tensor
// descriptor and its helpers, arenas, and the thread pool's parallel_for
// (every index exactly once, for many shapes of loop, from several threads).
#include "runtime/tessel_runtime.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::HasSubstr;

// ---- Status -------------------------------------------------------------------------------------

TEST(RuntimeStatus, RecordsFormattedMessages) {
  tessel_clear_error();
  EXPECT_STREQ(tessel_last_error(), "");
  EXPECT_EQ(tessel_last_error_code(), TESSEL_OK);
  EXPECT_EQ(tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "input %d of '%s' has rank %lld", 2, "x", 5LL),
            TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "input 2 of 'x' has rank 5");
  EXPECT_EQ(tessel_last_error_code(), TESSEL_ERROR_INVALID_ARGUMENT);
  tessel_clear_error();
  EXPECT_STREQ(tessel_last_error(), "");
  EXPECT_EQ(tessel_last_error_code(), TESSEL_OK);
}

TEST(RuntimeStatus, TruncatesLongMessages) {
  std::string long_text(5000, 'a');
  tessel_set_error(TESSEL_ERROR_INTERNAL, "%s", long_text.c_str());
  EXPECT_EQ(std::strlen(tessel_last_error()), 1023u);
  tessel_clear_error();
}

TEST(RuntimeStatus, MessagesAreThreadLocal) {
  tessel_set_error(TESSEL_ERROR_UNSUPPORTED, "main thread");
  std::string seen_before, seen_after;
  std::thread other([&] {
    seen_before = tessel_last_error();
    tessel_set_error(TESSEL_ERROR_INTERNAL, "other thread");
    seen_after = tessel_last_error();
  });
  other.join();
  EXPECT_EQ(seen_before, "");
  EXPECT_EQ(seen_after, "other thread");
  EXPECT_STREQ(tessel_last_error(), "main thread");
  EXPECT_EQ(tessel_last_error_code(), TESSEL_ERROR_UNSUPPORTED);
  tessel_clear_error();
}

TEST(RuntimeStatus, NamesStatuses) {
  EXPECT_STREQ(tessel_status_name(TESSEL_OK), "ok");
  EXPECT_STREQ(tessel_status_name(TESSEL_ERROR_INVALID_ARGUMENT), "invalid argument");
  EXPECT_STREQ(tessel_status_name(TESSEL_ERROR_OUT_OF_MEMORY), "out of memory");
  EXPECT_STREQ(tessel_status_name(TESSEL_ERROR_UNSUPPORTED), "unsupported");
  EXPECT_STREQ(tessel_status_name(TESSEL_ERROR_INTERNAL), "internal error");
  EXPECT_STREQ(tessel_status_name(static_cast<tessel_status>(99)), "unknown status");
}

// ---- Tensor descriptors -------------------------------------------------------------------------

// DLPack's definitions (dlpack.h v0.8+), restated to check the layout field by field.
struct DLDevice {
  int device_type;  // DLDeviceType, an int-sized enum
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};

TEST(RuntimeTensor, LayoutMatchesDLPack) {
  EXPECT_EQ(sizeof(tessel_tensor), sizeof(DLTensor));
  EXPECT_EQ(offsetof(tessel_tensor, data), offsetof(DLTensor, data));
  EXPECT_EQ(offsetof(tessel_tensor, device), offsetof(DLTensor, device));
  EXPECT_EQ(offsetof(tessel_tensor, ndim), offsetof(DLTensor, ndim));
  EXPECT_EQ(offsetof(tessel_tensor, dtype), offsetof(DLTensor, dtype));
  EXPECT_EQ(offsetof(tessel_tensor, shape), offsetof(DLTensor, shape));
  EXPECT_EQ(offsetof(tessel_tensor, strides), offsetof(DLTensor, strides));
  EXPECT_EQ(offsetof(tessel_tensor, byte_offset), offsetof(DLTensor, byte_offset));
  EXPECT_EQ(sizeof(tessel_dtype), sizeof(DLDataType));
  EXPECT_EQ(offsetof(tessel_dtype, lanes), offsetof(DLDataType, lanes));
  EXPECT_EQ(sizeof(tessel_device), sizeof(DLDevice));
  // DLPack's enum values.
  EXPECT_EQ(TESSEL_DEVICE_CPU, 1);
  EXPECT_EQ(TESSEL_DEVICE_CUDA, 2);
  EXPECT_EQ(TESSEL_DTYPE_INT, 0);
  EXPECT_EQ(TESSEL_DTYPE_UINT, 1);
  EXPECT_EQ(TESSEL_DTYPE_FLOAT, 2);
  EXPECT_EQ(TESSEL_DTYPE_BFLOAT, 4);
  EXPECT_EQ(TESSEL_DTYPE_BOOL, 6);
}

tessel_tensor make_tensor(int64_t* shape, int32_t ndim, tessel_dtype dtype, void* data = nullptr,
                          int64_t* strides = nullptr) {
  tessel_tensor tensor{};
  tensor.data = data;
  tensor.device = {TESSEL_DEVICE_CPU, 0};
  tensor.ndim = ndim;
  tensor.dtype = dtype;
  tensor.shape = shape;
  tensor.strides = strides;
  return tensor;
}

TEST(RuntimeTensor, CountsElementsAndBytes) {
  tessel_dtype f32 = tessel_dtype_make(TESSEL_DTYPE_FLOAT, 32);
  int64_t shape[] = {2, 3, 4};
  tessel_tensor tensor = make_tensor(shape, 3, f32);
  EXPECT_EQ(tessel_tensor_numel(&tensor), 24);
  EXPECT_EQ(tessel_tensor_nbytes(&tensor), 96u);

  tessel_tensor scalar = make_tensor(nullptr, 0, tessel_dtype_make(TESSEL_DTYPE_INT, 64));
  EXPECT_EQ(tessel_tensor_numel(&scalar), 1);
  EXPECT_EQ(tessel_tensor_nbytes(&scalar), 8u);

  int64_t empty_shape[] = {3, 0, 5};
  tessel_tensor empty = make_tensor(empty_shape, 3, f32);
  EXPECT_EQ(tessel_tensor_numel(&empty), 0);
  EXPECT_EQ(tessel_tensor_nbytes(&empty), 0u);

  int64_t pair[] = {2};
  tessel_tensor bf16 = make_tensor(pair, 1, tessel_dtype_make(TESSEL_DTYPE_BFLOAT, 16));
  EXPECT_EQ(tessel_tensor_nbytes(&bf16), 4u);
  tessel_tensor flags = make_tensor(pair, 1, tessel_dtype_make(TESSEL_DTYPE_BOOL, 8));
  EXPECT_EQ(tessel_tensor_nbytes(&flags), 2u);
  tessel_tensor vec4 = make_tensor(pair, 1, tessel_dtype{TESSEL_DTYPE_FLOAT, 32, 4});
  EXPECT_EQ(tessel_tensor_nbytes(&vec4), 32u);  // 2 elements of 4 lanes of 4 bytes
}

TEST(RuntimeTensor, RejectsInvalidDescriptors) {
  tessel_dtype f32 = tessel_dtype_make(TESSEL_DTYPE_FLOAT, 32);
  int64_t negative[] = {2, -1};
  tessel_tensor bad = make_tensor(negative, 2, f32);
  EXPECT_EQ(tessel_tensor_numel(&bad), -1);
  EXPECT_EQ(tessel_tensor_nbytes(&bad), 0u);
  EXPECT_EQ(tessel_tensor_check(&bad, "input 'x'"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "input 'x': dim 1 is -1, must be >= 0");

  tessel_tensor no_shape = make_tensor(nullptr, 2, f32);
  EXPECT_EQ(tessel_tensor_numel(&no_shape), -1);
  EXPECT_EQ(tessel_tensor_check(&no_shape, "out"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "out: NULL shape with ndim 2");

  int64_t huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  tessel_tensor overflow = make_tensor(huge, 2, f32);
  EXPECT_EQ(tessel_tensor_numel(&overflow), -1);
  EXPECT_EQ(tessel_tensor_check(&overflow, "t"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "t: element count overflows int64");

  int64_t shape[] = {4};
  tessel_tensor no_data = make_tensor(shape, 1, f32);
  EXPECT_EQ(tessel_tensor_check(&no_data, "w"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "w: NULL data for 4 elements");

  tessel_tensor no_bits = make_tensor(shape, 1, tessel_dtype{TESSEL_DTYPE_FLOAT, 0, 1});
  EXPECT_EQ(tessel_tensor_check(&no_bits, "w"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(tessel_last_error(), HasSubstr("dtype has 0 bits and 1 lanes"));

  tessel_tensor negative_rank = make_tensor(shape, -1, f32);
  EXPECT_EQ(tessel_tensor_check(&negative_rank, "r"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "r: ndim is -1, must be >= 0");
  EXPECT_EQ(tessel_tensor_check(nullptr, "n"), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "n: NULL tensor descriptor");

  float storage[4] = {};
  tessel_tensor good = make_tensor(shape, 1, f32, storage);
  EXPECT_EQ(tessel_tensor_check(&good, "g"), TESSEL_OK);
  int64_t zero[] = {0};
  tessel_tensor empty = make_tensor(zero, 1, f32);
  EXPECT_EQ(tessel_tensor_check(&empty, "e"), TESSEL_OK);  // no elements: data may be NULL
  tessel_clear_error();
}

TEST(RuntimeTensor, ChecksContiguity) {
  tessel_dtype f32 = tessel_dtype_make(TESSEL_DTYPE_FLOAT, 32);
  int64_t shape[] = {2, 3, 4};
  tessel_tensor compact = make_tensor(shape, 3, f32);
  EXPECT_TRUE(tessel_tensor_is_contiguous(&compact));  // NULL strides
  int64_t row_major[] = {12, 4, 1};
  compact.strides = row_major;
  EXPECT_TRUE(tessel_tensor_is_contiguous(&compact));
  int64_t transposed[] = {1, 2, 6};
  compact.strides = transposed;
  EXPECT_FALSE(tessel_tensor_is_contiguous(&compact));
  int64_t padded[] = {16, 4, 1};  // rows padded to 16 elements
  compact.strides = padded;
  EXPECT_FALSE(tessel_tensor_is_contiguous(&compact));

  // Strides of size-1 dims are never used, so any value is contiguous (as in numpy).
  int64_t unit_shape[] = {1, 3, 1};
  int64_t odd_strides[] = {99, 1, 7};
  tessel_tensor unit = make_tensor(unit_shape, 3, f32, nullptr, odd_strides);
  EXPECT_TRUE(tessel_tensor_is_contiguous(&unit));
  // Empty tensors are contiguous whatever their strides.
  int64_t empty_shape[] = {0, 3};
  int64_t wild[] = {5, 5};
  tessel_tensor empty = make_tensor(empty_shape, 2, f32, nullptr, wild);
  EXPECT_TRUE(tessel_tensor_is_contiguous(&empty));
  int64_t negative[] = {-1};
  tessel_tensor bad = make_tensor(negative, 1, f32);
  EXPECT_FALSE(tessel_tensor_is_contiguous(&bad));
}

TEST(RuntimeTensor, FirstElementHonoursByteOffset) {
  float storage[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  int64_t shape[] = {2};
  tessel_tensor tensor = make_tensor(shape, 1, tessel_dtype_make(TESSEL_DTYPE_FLOAT, 32), storage);
  tensor.byte_offset = 3 * sizeof(float);
  EXPECT_EQ(*static_cast<float*>(tessel_tensor_first(&tensor)), 3.0f);
  EXPECT_EQ(tessel_tensor_first(nullptr), nullptr);
}

TEST(RuntimeTensor, NamesAndParsesDTypes) {
  const char* names[] = {"f32", "f16", "bf16", "f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bool"};
  const size_t bytes[] = {4, 2, 2, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1};
  for (size_t i = 0; i < std::size(names); ++i) {
    tessel_dtype dtype{};
    ASSERT_EQ(tessel_dtype_parse(names[i], &dtype), TESSEL_OK) << names[i];
    EXPECT_STREQ(tessel_dtype_name(dtype), names[i]);
    EXPECT_EQ(tessel_dtype_bytes(dtype), bytes[i]) << names[i];
    EXPECT_EQ(dtype.lanes, 1);
  }
  tessel_dtype f32{}, parsed{};
  ASSERT_EQ(tessel_dtype_parse("f32", &parsed), TESSEL_OK);
  f32 = tessel_dtype_make(TESSEL_DTYPE_FLOAT, 32);
  EXPECT_TRUE(tessel_dtype_equal(f32, parsed));
  EXPECT_FALSE(tessel_dtype_equal(f32, tessel_dtype_make(TESSEL_DTYPE_INT, 32)));
  EXPECT_FALSE(tessel_dtype_equal(f32, tessel_dtype{TESSEL_DTYPE_FLOAT, 32, 4}));
  EXPECT_EQ(tessel_dtype_name(tessel_dtype{TESSEL_DTYPE_FLOAT, 32, 4}), nullptr);
  EXPECT_EQ(tessel_dtype_name(tessel_dtype_make(TESSEL_DTYPE_FLOAT, 8)), nullptr);

  EXPECT_EQ(tessel_dtype_parse("float32", &parsed), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(tessel_last_error(), HasSubstr("unknown dtype 'float32' (expected f32 f16"));
  EXPECT_EQ(tessel_dtype_parse(nullptr, &parsed), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_dtype_parse("f32", nullptr), TESSEL_ERROR_INVALID_ARGUMENT);
  tessel_clear_error();
}

// ---- Arenas -------------------------------------------------------------------------------------

TEST(RuntimeArena, IsAlignedAndWritable) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{1} << 20}) {
    tessel_arena* arena = tessel_arena_create(size);
    ASSERT_NE(arena, nullptr) << size;
    void* data = tessel_arena_data(arena);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data) % TESSEL_ARENA_ALIGNMENT, 0u) << size;
    EXPECT_EQ(tessel_arena_size(arena), size);
    std::memset(data, 0xab, size);  // under ASan, writes past the end would be caught here
    tessel_arena_destroy(arena);
  }
  EXPECT_EQ(tessel_arena_data(nullptr), nullptr);
  EXPECT_EQ(tessel_arena_size(nullptr), 0u);
  tessel_arena_destroy(nullptr);
}

TEST(RuntimeArena, ReportsImpossibleSizes) {
  EXPECT_EQ(tessel_arena_create(SIZE_MAX), nullptr);
  EXPECT_EQ(tessel_last_error_code(), TESSEL_ERROR_OUT_OF_MEMORY);
  EXPECT_THAT(tessel_last_error(), HasSubstr("is too large"));
  tessel_clear_error();
}

// ---- Thread pool --------------------------------------------------------------------------------

/// Counts how often each index in [begin, end) is visited.
struct Coverage {
  int64_t begin;
  std::vector<std::atomic<int>> counts;
  std::atomic<int64_t> max_chunk{0};
  Coverage(int64_t begin, int64_t end) : begin(begin), counts(static_cast<size_t>(end - begin)) {}

  static void visit(void* ctx, int64_t begin, int64_t end) {
    auto* self = static_cast<Coverage*>(ctx);
    for (int64_t i = begin; i < end; ++i) self->counts[static_cast<size_t>(i - self->begin)].fetch_add(1);
    int64_t length = end - begin, seen = self->max_chunk.load();
    while (length > seen && !self->max_chunk.compare_exchange_weak(seen, length)) {
    }
  }

  /// Index of the first index not visited exactly once, or -1.
  int64_t first_bad() const {
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i].load() != 1) return static_cast<int64_t>(i) + begin;
    return -1;
  }
};

TEST(RuntimeThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    tessel_thread_pool* pool = tessel_thread_pool_create(threads);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(tessel_thread_pool_num_threads(pool), threads);
    for (int64_t begin : {int64_t{-7}, int64_t{0}, int64_t{5}}) {
      for (int64_t length : {0, 1, 2, 7, 64, 1000}) {
        for (int64_t grain : {-3, 0, 1, 3, 64, 5000}) {
          SCOPED_TRACE(testing::Message()
                       << "threads " << threads << " begin " << begin << " length " << length << " grain " << grain);
          Coverage coverage(begin, begin + length);
          ASSERT_EQ(tessel_parallel_for(pool, begin, begin + length, grain, Coverage::visit, &coverage), TESSEL_OK);
          EXPECT_EQ(coverage.first_bad(), -1);
          if (grain > 0) {
            EXPECT_LE(coverage.max_chunk.load(), grain);
          }
        }
      }
    }
    tessel_thread_pool_destroy(pool);
  }
}

/// Records the first chunk a pool worker ran; chunk 0 (the caller's) waits, at most a second, until a
/// worker has started one, so the worker's first claim happens while the caller's share is still open.
struct HomeShares {
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int64_t> worker_first{-1};

  static void visit(void* ctx, int64_t begin, int64_t) {
    auto* self = static_cast<HomeShares*>(ctx);
    if (std::this_thread::get_id() != self->caller) {
      int64_t none = -1;
      self->worker_first.compare_exchange_strong(none, begin);
      return;
    }
    if (begin != 0) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (self->worker_first.load() < 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
};

TEST(RuntimeThreadPool, EachThreadTakesItsOwnShareFirst) {
  // Four chunks on two threads: the caller's share is chunks 0-1, the worker's 2-3. The worker starts
  // with chunk 2 although chunk 1 is free (so a kernel's blocks stay in one core's cache run after run);
  // one counter for all would hand it chunk 1.
  tessel_thread_pool* pool = tessel_thread_pool_create(2);
  ASSERT_NE(pool, nullptr);
  int joined = 0;
  for (int run = 0; run < 20; ++run) {
    HomeShares shares;
    ASSERT_EQ(tessel_parallel_for(pool, 0, 4, 1, HomeShares::visit, &shares), TESSEL_OK);
    int64_t first = shares.worker_first.load();
    if (first >= 0) ++joined;
    EXPECT_TRUE(first == -1 || first == 2) << "run " << run << ": the worker began with chunk " << first;
  }
  EXPECT_GT(joined, 0) << "the worker never took part";
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, EmptyAndReversedRangesCallNothing) {
  tessel_thread_pool* pool = tessel_thread_pool_create(4);
  std::atomic<int> calls{0};
  auto count = [](void* ctx, int64_t, int64_t) { static_cast<std::atomic<int>*>(ctx)->fetch_add(1); };
  EXPECT_EQ(tessel_parallel_for(pool, 5, 5, 1, count, &calls), TESSEL_OK);
  EXPECT_EQ(tessel_parallel_for(pool, 10, 3, 1, count, &calls), TESSEL_OK);
  EXPECT_EQ(tessel_parallel_for(nullptr, 0, 0, 1, count, &calls), TESSEL_OK);
  EXPECT_EQ(calls.load(), 0);
  tessel_thread_pool_destroy(pool);
}

/// Records chunk bounds without touching every index, for ranges too large to enumerate.
struct ChunkLog {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  static void record(void* ctx, int64_t begin, int64_t end) {
    auto* self = static_cast<ChunkLog*>(ctx);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->chunks.emplace_back(begin, end);
  }
};

TEST(RuntimeThreadPool, HandlesRangesNearTheInt64Limits) {
  tessel_thread_pool* pool = tessel_thread_pool_create(3);
  ChunkLog log;
  // The whole int64 range: 2^64 - 1 indices in chunks of 2^63 - 1: two full chunks and one of length 1.
  ASSERT_EQ(tessel_parallel_for(pool, INT64_MIN, INT64_MAX, INT64_MAX, ChunkLog::record, &log), TESSEL_OK);
  std::sort(log.chunks.begin(), log.chunks.end());
  ASSERT_EQ(log.chunks.size(), 3u);
  EXPECT_EQ(log.chunks[0], std::make_pair(INT64_MIN, int64_t{-1}));
  EXPECT_EQ(log.chunks[1], std::make_pair(int64_t{-1}, INT64_MAX - 1));
  EXPECT_EQ(log.chunks[2], std::make_pair(INT64_MAX - 1, INT64_MAX));

  Coverage top(INT64_MAX - 10, INT64_MAX);
  EXPECT_EQ(tessel_parallel_for(pool, INT64_MAX - 10, INT64_MAX, 3, Coverage::visit, &top), TESSEL_OK);
  EXPECT_EQ(top.first_bad(), -1);
  Coverage bottom(INT64_MIN, INT64_MIN + 10);
  EXPECT_EQ(tessel_parallel_for(pool, INT64_MIN, INT64_MIN + 10, 0, Coverage::visit, &bottom), TESSEL_OK);
  EXPECT_EQ(bottom.first_bad(), -1);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, NullPoolRunsSeriallyOnTheCaller) {
  struct Serial {
    std::thread::id caller = std::this_thread::get_id();
    std::vector<std::pair<int64_t, int64_t>> chunks;
    bool other_thread = false;
  } serial;
  auto body = [](void* ctx, int64_t begin, int64_t end) {
    auto* self = static_cast<Serial*>(ctx);
    if (std::this_thread::get_id() != self->caller) self->other_thread = true;
    self->chunks.emplace_back(begin, end);
  };
  EXPECT_EQ(tessel_thread_pool_num_threads(nullptr), 1);
  ASSERT_EQ(tessel_parallel_for(nullptr, 0, 10, 4, body, &serial), TESSEL_OK);
  EXPECT_FALSE(serial.other_thread);
  // In order, chunks of the grain with a short tail: [0,4) [4,8) [8,10).
  EXPECT_EQ(serial.chunks, (std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 8}, {8, 10}}));
}

TEST(RuntimeThreadPool, UsesSeveralThreads) {
  tessel_thread_pool* pool = tessel_thread_pool_create(4);
  struct Seen {
    std::mutex mutex;
    std::set<std::thread::id> threads;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    size_t count() {
      std::lock_guard<std::mutex> lock(mutex);
      return threads.size();
    }
  } seen;
  // Each chunk waits (up to a generous deadline, for loaded machines) until a second thread has joined
  // in, so a pool whose workers never run fails instead of passing by running everything on the caller.
  auto body = [](void* ctx, int64_t, int64_t) {
    auto* self = static_cast<Seen*>(ctx);
    {
      std::lock_guard<std::mutex> lock(self->mutex);
      self->threads.insert(std::this_thread::get_id());
    }
    while (self->count() < 2 && std::chrono::steady_clock::now() < self->deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  ASSERT_EQ(tessel_parallel_for(pool, 0, 64, 1, body, &seen), TESSEL_OK);
  EXPECT_GT(seen.threads.size(), 1u);
  EXPECT_LE(seen.threads.size(), 4u);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, ConcurrentCallsFromSeveralThreads) {
  tessel_thread_pool* pool = tessel_thread_pool_create(4);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&, t] {
      for (int round = 0; round < 40; ++round) {
        int64_t length = 1 + (t * 37 + round * 11) % 300;
        Coverage coverage(t * 1000, t * 1000 + length);
        if (tessel_parallel_for(pool, t * 1000, t * 1000 + length, 1 + round % 7, Coverage::visit, &coverage) !=
                TESSEL_OK ||
            coverage.first_bad() != -1)
          failures.fetch_add(1);
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(failures.load(), 0);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, NestedLoopsComplete) {
  tessel_thread_pool* pool = tessel_thread_pool_create(3);
  struct Nested {
    tessel_thread_pool* pool;
    std::vector<std::atomic<int>> cells = std::vector<std::atomic<int>>(16 * 16);
    std::atomic<int> failures{0};
  } nested{pool};
  struct Row {
    Nested* nested;
    int64_t row;
  };
  auto outer = [](void* ctx, int64_t begin, int64_t end) {
    auto* self = static_cast<Nested*>(ctx);
    for (int64_t row = begin; row < end; ++row) {
      Row inner_ctx{self, row};
      auto inner = [](void* inner_ptr, int64_t b, int64_t e) {
        auto* r = static_cast<Row*>(inner_ptr);
        for (int64_t col = b; col < e; ++col) r->nested->cells[static_cast<size_t>(r->row * 16 + col)].fetch_add(1);
      };
      if (tessel_parallel_for(self->pool, 0, 16, 2, inner, &inner_ctx) != TESSEL_OK) self->failures.fetch_add(1);
    }
  };
  ASSERT_EQ(tessel_parallel_for(pool, 0, 16, 1, outer, &nested), TESSEL_OK);
  EXPECT_EQ(nested.failures.load(), 0);
  for (const auto& cell : nested.cells) EXPECT_EQ(cell.load(), 1);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, AutomaticGrainGivesAFewChunksPerThread) {
  tessel_thread_pool* pool = tessel_thread_pool_create(2);
  ChunkLog log;
  ASSERT_EQ(tessel_parallel_for(pool, 0, 1000, 0, ChunkLog::record, &log), TESSEL_OK);
  // 2 threads * 4 chunks each: grain ceil(1000 / 8) = 125, so exactly 8 chunks.
  EXPECT_EQ(log.chunks.size(), 8u);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, ReportsBadArguments) {
  EXPECT_EQ(tessel_parallel_for(nullptr, 0, 10, 1, nullptr, nullptr), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(tessel_last_error(), "tessel_parallel_for: NULL loop body");
  EXPECT_EQ(tessel_thread_pool_create(-2), nullptr);
  EXPECT_EQ(tessel_last_error_code(), TESSEL_ERROR_INVALID_ARGUMENT);
  EXPECT_THAT(tessel_last_error(), HasSubstr("thread pool size -2 is out of range"));
  tessel_thread_pool_destroy(nullptr);
  tessel_clear_error();
}

TEST(RuntimeThreadPool, ZeroThreadsMeansHardwareConcurrency) {
  tessel_thread_pool* pool = tessel_thread_pool_create(0);
  ASSERT_NE(pool, nullptr);
  unsigned hardware = std::thread::hardware_concurrency();
  EXPECT_EQ(tessel_thread_pool_num_threads(pool), hardware ? static_cast<int>(hardware) : 1);
  Coverage coverage(0, 100);
  EXPECT_EQ(tessel_parallel_for(pool, 0, 100, 0, Coverage::visit, &coverage), TESSEL_OK);
  EXPECT_EQ(coverage.first_bad(), -1);
  tessel_thread_pool_destroy(pool);
}

TEST(RuntimeThreadPool, ReportsExceptionsFromTheBody) {
  tessel_thread_pool* pool = tessel_thread_pool_create(2);
  auto throwing = [](void*, int64_t begin, int64_t) {
    if (begin == 3) throw std::runtime_error("boom");
  };
  EXPECT_EQ(tessel_parallel_for(pool, 0, 8, 1, throwing, nullptr), TESSEL_ERROR_INTERNAL);
  EXPECT_THAT(tessel_last_error(), HasSubstr("threw a C++ exception"));
  // The pool still works afterwards.
  Coverage coverage(0, 50);
  EXPECT_EQ(tessel_parallel_for(pool, 0, 50, 3, Coverage::visit, &coverage), TESSEL_OK);
  EXPECT_EQ(coverage.first_bad(), -1);
  tessel_thread_pool_destroy(pool);
  tessel_clear_error();
}

TEST(RuntimeProfile, SumsTimePerLabelInFirstRunOrder) {
  tessel_profile_reset();
  EXPECT_EQ(tessel_profile_count(), 0);
  uint64_t start = tessel_profile_clock();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  tessel_profile_record("k0 conv", start);
  tessel_profile_record("k1 gemm", tessel_profile_clock());
  tessel_profile_record("k0 conv", tessel_profile_clock());
  ASSERT_EQ(tessel_profile_count(), 2);
  char label[8];
  uint64_t ns = 0, calls = 0;
  ASSERT_EQ(tessel_profile_entry(0, label, sizeof label, &ns, &calls), 1);
  EXPECT_STREQ(label, "k0 conv");
  EXPECT_GE(ns, 2000000u);  // the 2 ms sleep
  EXPECT_EQ(calls, 2u);
  char short_label[4];
  ASSERT_EQ(tessel_profile_entry(1, short_label, sizeof short_label, nullptr, &calls), 1);
  EXPECT_STREQ(short_label, "k1 ");  // truncated, NUL-terminated
  EXPECT_EQ(calls, 1u);
  EXPECT_EQ(tessel_profile_entry(2, label, sizeof label, &ns, &calls), 0);
  EXPECT_EQ(tessel_profile_entry(-1, nullptr, 0, nullptr, nullptr), 0);
  tessel_profile_reset();
  EXPECT_EQ(tessel_profile_count(), 0);
}

}  // namespace
