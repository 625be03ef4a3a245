// The pass manager: the pass table, name lookup, and running a pass list with
// printing, verification, stop-after and timing around each pass.
#include "passes/PassManager.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "ir/Verifier.h"
#include "passes/Passes.h"

namespace tessel {
namespace {

const PassInfo kPasses[] = {
#define TESSEL_PASS(function, name, summary) {name, summary, &function},
#include "passes/Passes.def"
#undef TESSEL_PASS
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

std::span<const PassInfo> all_passes() { return kPasses; }

const PassInfo* find_pass(std::string_view name) {
  for (const PassInfo& pass : kPasses)
    if (pass.name == name) return &pass;
  return nullptr;
}

std::string known_pass_names() {
  std::vector<std::string_view> names;
  for (const PassInfo& pass : kPasses) names.push_back(pass.name);
  std::sort(names.begin(), names.end());
  return fmt::format("{}", fmt::join(names, ", "));
}

PassManager::PassManager(PassContext& context, PassInstrumentation instrumentation)
    : context_(context), instrumentation_(std::move(instrumentation)) {}

void PassManager::fail(Error error) {
  if (failed_) return;
  error_ = std::move(error);
  failed_ = true;
}

PassManager& PassManager::add(std::string_view name) {
  const PassInfo* pass = find_pass(name);
  if (!pass) {
    fail(make_error("unknown pass '{}'; known passes: {}", name, known_pass_names()));
    return *this;
  }
  passes_.push_back(*pass);
  return *this;
}

PassManager& PassManager::add(const PassInfo& pass) {
  passes_.push_back(pass);
  return *this;
}

PassManager& PassManager::add_list(std::string_view names) {
  while (!names.empty()) {
    size_t comma = names.find(',');
    std::string_view name = trim(names.substr(0, comma));
    if (name.empty()) {
      fail(make_error("empty pass name in the pass list"));
      return *this;
    }
    add(name);
    if (comma == std::string_view::npos) break;
    names.remove_prefix(comma + 1);
    if (names.empty()) fail(make_error("empty pass name in the pass list"));
  }
  return *this;
}

PassManager& PassManager::add_pipeline(int opt_level) {
  auto names = build_pipeline(opt_level);
  if (!names) {
    fail(names.error());
    return *this;
  }
  for (const std::string& name : *names) add(name);
  return *this;
}

std::vector<std::string> PassManager::pass_names() const {
  std::vector<std::string> names;
  for (const PassInfo& pass : passes_) names.emplace_back(pass.name);
  return names;
}

// Options that name passes must name known ones: a typo in --print-ir-after would otherwise print nothing.
Status PassManager::check_names() const {
  auto check = [&](const std::string& name, std::string_view option) -> Status {
    bool known = find_pass(name) != nullptr;
    for (const PassInfo& pass : passes_) known = known || pass.name == name;
    if (!known) return make_error("{}: unknown pass '{}'; known passes: {}", option, name, known_pass_names());
    return Status::success();
  };
  for (const std::string& name : instrumentation_.print_before) TESSEL_TRY(check(name, "--print-ir-before"));
  for (const std::string& name : instrumentation_.print_after) TESSEL_TRY(check(name, "--print-ir-after"));
  const std::string& stop = instrumentation_.stop_after;
  if (stop.empty()) return Status::success();
  TESSEL_TRY(check(stop, "--stop-after"));
  for (const PassInfo& pass : passes_)
    if (pass.name == stop) return Status::success();
  std::vector<std::string> names = pass_names();
  return make_error("--stop-after: pass '{}' is not in the pipeline ({})", stop,
                    names.empty() ? std::string("empty") : fmt::format("{}", fmt::join(names, ", ")));
}

Status PassManager::status() const {
  if (failed_) return error_;
  return check_names();
}

void PassManager::dump(const Module& module, std::string_view when, std::string_view pass) const {
  std::ostream& out = instrumentation_.ir_out ? *instrumentation_.ir_out : std::cerr;
  out << "// -----// IR Dump " << when << " " << pass << " //----- //\n"
      << print_module(module, instrumentation_.print_options) << "\n";
}

PassTiming& PassManager::timing_of(std::string_view name) {
  for (PassTiming& timing : timings_)
    if (timing.name == name) return timing;
  timings_.push_back(PassTiming{std::string(name), 0, 0});
  return timings_.back();
}

Expected<bool> PassManager::run(Module& module) {
  TESSEL_TRY(status());
  const PassInstrumentation& inst = instrumentation_;
  bool any_change = false;
  for (const PassInfo& pass : passes_) {
    std::string name(pass.name);
    if (inst.print_before.count(name)) dump(module, "Before", name);
    auto start = std::chrono::steady_clock::now();
    Expected<bool> changed = pass.run(module, context_);
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    if (inst.time_passes) {
      PassTiming& timing = timing_of(name);
      timing.runs += 1;
      timing.ms += elapsed.count();
    }
    if (!changed) {
      Error error = changed.error();
      error.message = fmt::format("pass '{}' failed: {}", name, error.message);
      return error;
    }
    any_change = any_change || *changed;
    if (context_.options.verify_each) {
      if (Status verified = verify(module); !verified) {
        const Error& cause = verified.error();
        Error error{fmt::format("pass '{}' produced invalid IR: {}", name,
                                cause.location.empty() ? cause.message : cause.location + ": " + cause.message),
                    {},
                    cause.hint};
        return error;
      }
    }
    bool print = inst.print_after_all || inst.print_after.count(name) || (inst.print_after_change && *changed);
    if (print) dump(module, "After", name);
    if (name == inst.stop_after) break;
  }
  return any_change;
}

void PassManager::print_timings(std::ostream& out) const {
  double total = 0;
  for (const PassTiming& timing : timings_) total += timing.ms;
  out << fmt::format("{:<24} {:>6} {:>12} {:>7}\n", "pass", "runs", "ms", "%");
  for (const PassTiming& timing : timings_) {
    double percent = total > 0 ? 100.0 * timing.ms / total : 0.0;
    out << fmt::format("{:<24} {:>6} {:>12.3f} {:>6.1f}%\n", timing.name, timing.runs, timing.ms, percent);
  }
  out << fmt::format("{:<24} {:>6} {:>12.3f} {:>6.1f}%\n", "total", "", total, total > 0 ? 100.0 : 0.0);
}

}  // namespace tessel
