// Per-kernel profiling for models compiled with profiling on (`tessel bench --profile`, `tessel compile
// --profile`): the generated entry reads tessel_profile_clock() before each kernel and passes it to
// tessel_profile_record() after, with the kernel's label (a constant string in the generated code).
// Totals live in one process-wide table keyed by label; a mutex guards it, since runs may be concurrent.
// Models compiled without profiling never call into this file.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/tessel_runtime.h"

namespace {

struct Entry {
  std::string label;
  uint64_t total_ns = 0;
  uint64_t calls = 0;
};

struct Table {
  std::mutex mutex;
  std::vector<Entry> entries;  // in first-recorded order: a model's kernels in run order
};

Table& table() {
  static Table* instance = new Table();  // never destroyed: generated code may record during exit
  return *instance;
}

}  // namespace

extern "C" {

uint64_t tessel_profile_clock(void) {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

void tessel_profile_record(const char* label, uint64_t start_ns) {
  uint64_t elapsed = tessel_profile_clock() - start_ns;
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  for (Entry& entry : t.entries) {
    if (entry.label == label) {
      entry.total_ns += elapsed;
      ++entry.calls;
      return;
    }
  }
  try {
    t.entries.push_back({label, elapsed, 1});
  } catch (...) {
    // Out of memory while profiling: the sample is dropped, the model's run is not disturbed.
  }
}

void tessel_profile_reset(void) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.entries.clear();
}

int32_t tessel_profile_count(void) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  return static_cast<int32_t>(t.entries.size());
}

int32_t tessel_profile_entry(int32_t index, char* label, size_t label_size, uint64_t* total_ns, uint64_t* calls) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (index < 0 || static_cast<size_t>(index) >= t.entries.size()) return 0;
  const Entry& entry = t.entries[static_cast<size_t>(index)];
  if (label && label_size > 0) {
    size_t n = std::min(label_size - 1, entry.label.size());
    entry.label.copy(label, n);
    label[n] = '\0';
  }
  if (total_ns) *total_ns = entry.total_ns;
  if (calls) *calls = entry.calls;
  return 1;
}

}  // extern "C"
