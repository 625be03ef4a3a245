// Expectations files (see Expectations.h).
#include "frontends/onnx/Expectations.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>

namespace tessel::onnx {
namespace {

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// The reason as one line: the first line of the runner's message, without the '#' the file format uses.
std::string one_line(const TestResult& result) {
  std::string reason = result.reason.substr(0, result.reason.find('\n'));
  reason.erase(std::remove(reason.begin(), reason.end(), '#'), reason.end());  // '#' starts the reason
  std::string prefix = result.outcome == Outcome::Unsupported ? "unsupported: " : "fails: ";
  return prefix + reason;
}

}  // namespace

Expected<Expectations> read_expectations(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("{}: cannot open the expectations file", path);
  Expectations expectations;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    auto hash = text.find('#');
    std::string name = trim(text.substr(0, hash));
    std::string reason = hash == std::string::npos ? std::string() : trim(text.substr(hash + 1));
    if (name.find_first_of(" \t") != std::string::npos)
      return make_error("{}:{}: expected `test_name  # reason`, got '{}'", path, number, text);
    if (reason.empty())
      return make_error("{}:{}: '{}' has no reason", path, number, name)
          .with_hint("write `test_name  # why it cannot pass`");
    if (!expectations.expected_failures.emplace(name, reason).second)
      return make_error("{}:{}: '{}' is listed twice", path, number, name);
  }
  return expectations;
}

std::string write_expectations(const ConformanceSummary& summary, const std::string& header) {
  std::string text = header;
  for (const TestResult& result : summary.results)
    if (result.outcome != Outcome::Pass) text += fmt::format("{}  # {}\n", result.name, one_line(result));
  return text;
}

Status check_expectations(const ConformanceSummary& summary, const Expectations& expectations, const std::string& path,
                          bool complete_run) {
  std::vector<std::string> regressions, now_passing, unknown;
  std::set<std::string> ran;
  for (const TestResult& result : summary.results) {
    ran.insert(result.name);
    bool listed = expectations.expected_failures.count(result.name) > 0;
    if (result.outcome == Outcome::Pass && listed) now_passing.push_back(result.name);
    if (result.outcome != Outcome::Pass && !listed) regressions.push_back(result_line(result));
  }
  if (complete_run)
    for (const auto& [name, reason] : expectations.expected_failures)
      if (!ran.count(name)) unknown.push_back(name);
  if (regressions.empty() && now_passing.empty() && unknown.empty()) return Status::success();
  std::string message = fmt::format("the run does not match {}", path);
  if (!regressions.empty())
    message += fmt::format("\n{} regression(s) (not listed, did not pass):\n  {}", regressions.size(),
                           fmt::join(regressions, "\n  "));
  if (!now_passing.empty())
    message += fmt::format("\n{} listed test(s) now pass; take them off the list:\n  {}", now_passing.size(),
                           fmt::join(now_passing, "\n  "));
  if (!unknown.empty())
    message +=
        fmt::format("\n{} listed test(s) do not exist in the suite:\n  {}", unknown.size(), fmt::join(unknown, "\n  "));
  return Error{message, {}, "regenerate with `tessel conformance DIR --write-expectations FILE` after a fix"};
}

}  // namespace tessel::onnx
