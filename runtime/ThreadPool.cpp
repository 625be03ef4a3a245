// The runtime's thread pool: C++ threads behind the C API of
// tessel_runtime.h. A parallel_for becomes a Job -- a range cut into
// fixed-size chunks that threads claim one at a time (so fast threads take
// more chunks). Each thread of the pool has a home share of the chunks, the
// same share in every job (thread t of T: the t-th of T equal runs); it
// claims its own first, from its share's atomic cursor, then takes what is
// left of the others'. A kernel's column blocks then run on the same core from
// one run to the next and find their weights in that core's cache (a
// matrix-vector product whose weights fit in the cores' caches together but
// not in one). The job goes on the pool's queue for the
// workers, the calling thread claims chunks too, then waits until every
// claimed chunk has finished. A thread that waits never claims new work, and
// a claimed chunk always runs to completion, so nested and concurrent loops
// cannot deadlock.
//
// Idle workers and a waiting caller spin for a short while (kSpinIterations,
// tens of microseconds) before they sleep on a condition variable: a model runs
// one parallel loop after another, and waking a sleeping thread costs more than
// a small kernel takes. TESSEL_SPIN=0 in the environment turns spinning off.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "runtime/tessel_runtime.h"

namespace {

/// Chunks per thread when the caller leaves the grain to us: enough to even out uneven chunks.
constexpr uint64_t kAutoChunksPerThread = 4;
/// More threads than this is a mistake in the caller, not a machine we will meet.
constexpr int kMaxThreads = 4096;
/// Polls of a spinning thread before it sleeps (each a pause instruction and an atomic load).
constexpr int kSpinIterations = 20000;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int spin_iterations() {
  static const int iterations = [] {
    const char* env = std::getenv("TESSEL_SPIN");
    return env && env[0] == '0' ? 0 : kSpinIterations;
  }();
  return iterations;
}

/// Polls `ready` up to spin_iterations() times; true as soon as it holds.
template <typename Ready>
bool spin_until(Ready&& ready) {
  for (int i = spin_iterations(); i > 0; --i) {
    if (ready()) return true;
    cpu_relax();
  }
  return ready();
}

struct Job {
  tessel_parallel_fn fn = nullptr;
  void* ctx = nullptr;
  int64_t begin = 0;
  uint64_t size = 0;  ///< end - begin, computed without signed overflow
  uint64_t grain = 1;
  uint64_t num_chunks = 0;
  /// Share s of num_shares: a contiguous run of about num_chunks / num_shares chunks, handed out by
  /// cursors[s].
  struct alignas(64) Cursor {
    std::atomic<uint64_t> next{0};
    uint64_t end = 0;
  };
  uint64_t num_shares = 1;
  std::unique_ptr<Cursor[]> cursors;
  std::atomic<uint64_t> done_chunks{0};
  std::atomic<bool> threw{false};
  std::mutex mutex;
  std::condition_variable finished;

  /// Cuts the chunks into one share per thread that can take part.
  void share(uint64_t threads) {
    num_shares = std::max<uint64_t>(1, std::min(threads, num_chunks));
    cursors = std::make_unique<Cursor[]>(num_shares);
    // Share s starts at s * base + min(s, extra): no product can overflow, however many chunks.
    uint64_t base = num_chunks / num_shares, extra = num_chunks % num_shares, start = 0;
    for (uint64_t s = 0; s < num_shares; ++s) {
      cursors[s].next.store(start, std::memory_order_relaxed);
      start += base + (s < extra ? 1 : 0);
      cursors[s].end = start;
    }
  }

  /// The next unclaimed chunk, from the home share of thread `slot` first; num_chunks when none is left.
  uint64_t claim(uint64_t slot) {
    for (uint64_t i = 0; i < num_shares; ++i) {
      Cursor& cursor = cursors[(slot + i) % num_shares];
      if (cursor.next.load(std::memory_order_relaxed) >= cursor.end) continue;
      uint64_t chunk = cursor.next.fetch_add(1, std::memory_order_relaxed);
      if (chunk < cursor.end) return chunk;
    }
    return num_chunks;
  }

  void run_chunk(uint64_t chunk) {
    uint64_t offset = chunk * grain;
    uint64_t length = std::min(grain, size - offset);
    // Unsigned arithmetic wraps, and C++20 defines the conversion back: no overflow for any range.
    auto chunk_begin = static_cast<int64_t>(static_cast<uint64_t>(begin) + offset);
    auto chunk_end = static_cast<int64_t>(static_cast<uint64_t>(chunk_begin) + length);
    try {
      fn(ctx, chunk_begin, chunk_end);
    } catch (...) {
      // The C API promises never to throw; report it instead of terminating a worker.
      threw.store(true, std::memory_order_relaxed);
    }
  }

  /// Claims and runs chunks until none are left; `slot` is the thread's index in its pool (0: the caller).
  void run_chunks(uint64_t slot) {
    while (true) {
      uint64_t chunk = claim(slot);
      if (chunk >= num_chunks) return;
      run_chunk(chunk);
      if (done_chunks.fetch_add(1, std::memory_order_acq_rel) + 1 == num_chunks) {
        std::lock_guard<std::mutex> lock(mutex);
        finished.notify_all();
      }
    }
  }

  void wait() {
    if (spin_until([&] { return done_chunks.load(std::memory_order_acquire) == num_chunks; })) return;
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [&] { return done_chunks.load(std::memory_order_acquire) == num_chunks; });
  }
};

}  // namespace

struct tessel_thread_pool {
  int num_threads = 1;
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Job>> queue;
  std::atomic<size_t> queued{0};  ///< queue.size(), readable without the lock (spinning workers poll it)
  bool stopping = false;

  void remove(const Job* job) {
    auto it = std::find_if(queue.begin(), queue.end(), [&](const auto& queued) { return queued.get() == job; });
    if (it != queue.end()) queue.erase(it);
    queued.store(queue.size(), std::memory_order_release);
  }

  void worker_loop(uint64_t slot) {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      if (queue.empty() && !stopping) {
        lock.unlock();
        spin_until([&] { return queued.load(std::memory_order_acquire) > 0; });
        lock.lock();
      }
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;
      std::shared_ptr<Job> job = queue.front();
      lock.unlock();
      job->run_chunks(slot);
      lock.lock();
      remove(job.get());  // every chunk is claimed: later wake-ups must not find it again
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
      queued.store(1, std::memory_order_release);  // ends every spin; the wait then sees `stopping`
    }
    wake.notify_all();
    for (std::thread& worker : workers) worker.join();
    workers.clear();
  }
};

namespace {

/// Runs `job` on the caller and, when it has several chunks, on the pool's workers. Workers hold the
/// job by shared_ptr: one may still be inside run_chunks (finding nothing left) after this returns.
tessel_status run_job(tessel_thread_pool* pool, const std::shared_ptr<Job>& shared) {
  Job& job = *shared;
  bool parallel = pool && !pool->workers.empty() && job.num_chunks > 1;
  if (parallel) {
    {
      std::lock_guard<std::mutex> lock(pool->mutex);
      pool->queue.push_back(shared);
      pool->queued.store(pool->queue.size(), std::memory_order_release);
    }
    uint64_t helpers = std::min<uint64_t>(pool->workers.size(), job.num_chunks - 1);
    if (helpers == pool->workers.size()) {
      pool->wake.notify_all();
    } else {
      for (uint64_t i = 0; i < helpers; ++i) pool->wake.notify_one();
    }
  }
  job.run_chunks(0);
  if (parallel) {
    {
      std::lock_guard<std::mutex> lock(pool->mutex);
      pool->remove(&job);
    }
    job.wait();
  }
  if (job.threw.load())
    return tessel_set_error(TESSEL_ERROR_INTERNAL, "a tessel_parallel_for body threw a C++ exception");
  return TESSEL_OK;
}

}  // namespace

extern "C" {

tessel_thread_pool* tessel_thread_pool_create(int num_threads) {
  if (num_threads < 0 || num_threads > kMaxThreads) {
    tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "thread pool size %d is out of range [0, %d]", num_threads,
                     kMaxThreads);
    return nullptr;
  }
  if (num_threads == 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* pool = new (std::nothrow) tessel_thread_pool();
  if (!pool) {
    tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "cannot allocate a thread pool");
    return nullptr;
  }
  pool->num_threads = num_threads;
  try {
    pool->workers.reserve(static_cast<size_t>(num_threads - 1));
    for (int i = 1; i < num_threads; ++i)
      pool->workers.emplace_back([pool, i] { pool->worker_loop(static_cast<uint64_t>(i)); });
  } catch (const std::exception& error) {
    pool->stop();
    delete pool;
    tessel_set_error(TESSEL_ERROR_INTERNAL, "cannot start %d pool threads: %s", num_threads - 1, error.what());
    return nullptr;
  }
  return pool;
}

int tessel_thread_pool_num_threads(const tessel_thread_pool* pool) { return pool ? pool->num_threads : 1; }

tessel_status tessel_parallel_for(tessel_thread_pool* pool, int64_t begin, int64_t end, int64_t grain,
                                  tessel_parallel_fn fn, void* ctx) {
  if (!fn) return tessel_set_error(TESSEL_ERROR_INVALID_ARGUMENT, "tessel_parallel_for: NULL loop body");
  if (end <= begin) return TESSEL_OK;
  try {
    auto shared = std::make_shared<Job>();
    Job& job = *shared;
    job.fn = fn;
    job.ctx = ctx;
    job.begin = begin;
    job.size = static_cast<uint64_t>(end) - static_cast<uint64_t>(begin);
    if (grain > 0) {
      job.grain = static_cast<uint64_t>(grain);
    } else {
      uint64_t chunks = static_cast<uint64_t>(tessel_thread_pool_num_threads(pool)) * kAutoChunksPerThread;
      job.grain = std::max<uint64_t>(1, job.size / chunks + (job.size % chunks != 0));
    }
    job.num_chunks = job.size / job.grain + (job.size % job.grain != 0);
    job.share(static_cast<uint64_t>(tessel_thread_pool_num_threads(pool)));
    return run_job(pool, shared);
  } catch (const std::bad_alloc&) {
    return tessel_set_error(TESSEL_ERROR_OUT_OF_MEMORY, "tessel_parallel_for: out of memory");
  } catch (const std::exception& error) {
    return tessel_set_error(TESSEL_ERROR_INTERNAL, "tessel_parallel_for: %s", error.what());
  }
}

void tessel_thread_pool_destroy(tessel_thread_pool* pool) {
  if (!pool) return;
  pool->stop();
  delete pool;
}

}  // extern "C"
