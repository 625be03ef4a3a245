// The ONNX node-test conformance runner (see Conformance.h).
#include "frontends/onnx/Conformance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "frontends/onnx/Loader.h"
#include "frontends/onnx/TensorProto.h"
#include "ir/interp/Interpreter.h"

namespace tessel::onnx {
namespace fs = std::filesystem;
namespace {

// The numbered files `prefix_0.pb`, `prefix_1.pb`, ... of a data set folder, in order.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path file = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(file)) return files;
    files.push_back(file);
  }
}

std::vector<fs::path> data_sets(const fs::path& dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

struct LoadedTensor {
  std::optional<Tensor> tensor;
  Error error;
  bool unsupported = false;
};

LoadedTensor load_tensor(const fs::path& file) {
  auto proto = load_tensor_proto(file.string());
  if (!proto) return {std::nullopt, proto.error(), false};
  auto tensor = tensor_from_proto(*proto);
  if (!tensor) return {std::nullopt, tensor.error().at(file.filename().string()), !dtype_from_onnx(proto->data_type())};
  return {std::move(tensor).value(), {}, false};
}

TestResult outcome(TestResult result, Outcome kind, std::string reason) {
  result.outcome = kind;
  result.reason = std::move(reason);
  return result;
}

// Runs one data set: import (binding what must be bound), interpret, compare.
TestResult run_data_set(const pb::ModelProto& model, const fs::path& dir, const fs::path& set,
                        const ConformanceOptions& options, TestResult result, CompiledRun& compiled) {
  std::vector<LoadedTensor> inputs, outputs;
  for (const auto& file : numbered_files(set, "input")) inputs.push_back(load_tensor(file));
  for (const auto& file : numbered_files(set, "output")) outputs.push_back(load_tensor(file));
  ImportOptions import = options.import;
  ImportReport report;
  auto module = import_model(model, dir.string(), import, &report);
  // Bind the graph inputs the importer needs at compile time to this data set's values, then retry.
  for (int round = 0; !module && options.bind_needed_inputs && !report.inputs_needed_as_constants.empty() && round < 8;
       ++round) {
    bool progress = false;
    for (const std::string& name : report.inputs_needed_as_constants) {
      auto it = std::find(report.graph_inputs.begin(), report.graph_inputs.end(), name);
      size_t index = static_cast<size_t>(it - report.graph_inputs.begin());
      if (it == report.graph_inputs.end() || index >= inputs.size() || !inputs[index].tensor ||
          import.constant_inputs.count(name))
        continue;
      import.constant_inputs[name] = *inputs[index].tensor;
      result.bound_inputs.push_back(name);
      progress = true;
    }
    if (!progress) break;
    module = import_model(model, dir.string(), import, &report);
  }
  if (!module)
    return outcome(result, report.unsupported ? Outcome::Unsupported : Outcome::Fail,
                   "import: " + module.error().str());

  std::vector<Tensor> args;
  if (inputs.size() != report.graph_inputs.size())
    return outcome(result, Outcome::Fail,
                   fmt::format("{} has {} input files for {} graph inputs", set.filename().string(), inputs.size(),
                               report.graph_inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (import.constant_inputs.count(report.graph_inputs[i])) continue;
    if (!inputs[i].tensor)
      return outcome(result, inputs[i].unsupported ? Outcome::Unsupported : Outcome::Fail,
                     "input: " + inputs[i].error.str());
    args.push_back(*inputs[i].tensor);
  }
  const auto names = (*module)->entry()->output_names();
  Expected<std::vector<Tensor>> actual = std::vector<Tensor>{};
  if (options.compile) {
    if (!compiled || !result.bound_inputs.empty()) {
      auto run = options.compile(std::move(*module));
      if (!run) return outcome(result, Outcome::Unsupported, "compile: " + run.error().str());
      compiled = std::move(*run);
    }
    actual = compiled(args);
    if (!result.bound_inputs.empty()) compiled = nullptr;  // specific to this data set's bound inputs
  } else {
    actual = interpret(*(*module)->entry(), args);
  }
  if (!actual) return outcome(result, Outcome::Fail, "run: " + actual.error().str());
  if (actual->size() != outputs.size())
    return outcome(result, Outcome::Fail, fmt::format("{} outputs, expected {}", actual->size(), outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].tensor)
      return outcome(result, outputs[i].unsupported ? Outcome::Unsupported : Outcome::Fail,
                     "expected output: " + outputs[i].error.str());
    if (auto status = compare_tensors((*actual)[i], *outputs[i].tensor, options.rtol, options.atol); !status)
      return outcome(result, Outcome::Fail, fmt::format("output {} '{}': {}", i, names[i], status.error().message));
  }
  result.outcome = Outcome::Pass;
  return result;
}

bool is_float_dtype(DType dtype) { return is_float(dtype); }

// Strings compare exactly (same dtype and shape already checked).
Status compare_strings(const Tensor& actual, const Tensor& expected) {
  const auto* a = actual.data<std::string>();
  const auto* e = expected.data<std::string>();
  int64_t mismatches = 0, first = -1;
  for (int64_t i = 0; i < expected.numel(); ++i)
    if (a[i] != e[i] && mismatches++ == 0) first = i;
  if (mismatches == 0) return Status::success();
  return make_error("{} of {} strings differ; first at flat index {}: got \"{}\", expected \"{}\" ({})", mismatches,
                    expected.numel(), first, a[first], e[first], expected.type_str());
}

}  // namespace

Status compare_tensors(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.dtype() != expected.dtype())
    return make_error("got {}, expected {}", actual.type_str(), expected.type_str());
  if (actual.shape() != expected.shape())
    return make_error("got {}, expected {}", actual.type_str(), expected.type_str());
  if (expected.dtype() == DType::String) return compare_strings(actual, expected);
  // Low-precision types compare as their float values (get_double), NaN equal to NaN like the floats.
  int64_t mismatches = 0, first = -1;
  bool floats = is_float_dtype(expected.dtype());
  for (int64_t i = 0; i < expected.numel(); ++i) {
    bool ok;
    if (!floats && (expected.dtype() == DType::I64 || expected.dtype() == DType::U64)) {
      // Wide integers compare exactly where the doubles could not tell them apart.
      int64_t a = actual.get_int(i), e = expected.get_int(i);
      ok = a == e || std::abs(static_cast<double>(a) - static_cast<double>(e)) <= atol + rtol * std::abs(double(e));
    } else {
      double a = actual.get_double(i), e = expected.get_double(i);
      if (std::isnan(e) || std::isnan(a))
        ok = std::isnan(e) && std::isnan(a);
      else if (std::isinf(e) || std::isinf(a))
        ok = a == e;
      else
        ok = std::abs(a - e) <= atol + rtol * std::abs(e);
    }
    if (!ok && mismatches++ == 0) first = i;
  }
  if (mismatches == 0) return Status::success();
  return make_error("{} of {} elements differ; first at flat index {}: got {}, expected {} ({})", mismatches,
                    expected.numel(), first, actual.get_double(first), expected.get_double(first), expected.type_str());
}

TestResult run_conformance_test(const std::string& dir, const ConformanceOptions& options) {
  TestResult result;
  result.name = fs::path(dir).filename().string();
  auto model = load_model((fs::path(dir) / "model.onnx").string(), options.import.load);
  if (!model) return outcome(result, Outcome::Fail, "load: " + model.error().str());
  auto sets = data_sets(dir);
  if (sets.empty()) return outcome(result, Outcome::Fail, "no test_data_set_* folder");
  CompiledRun compiled;
  for (const auto& set : sets) {
    TestResult one = run_data_set(*model, dir, set, options, result, compiled);
    if (one.outcome != Outcome::Pass) {
      if (sets.size() > 1) one.reason = set.filename().string() + ": " + one.reason;
      return one;
    }
    result.bound_inputs = one.bound_inputs;
  }
  result.outcome = Outcome::Pass;
  return result;
}

Expected<ConformanceSummary> run_conformance(const std::string& root, const ConformanceOptions& options,
                                             const std::function<void(const TestResult&)>& on_result) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return make_error("{}: not a folder of ONNX node tests", root);
  std::optional<std::regex> filter;
  if (!options.filter.empty()) {
    try {
      filter.emplace(options.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return make_error("bad --filter regex '{}': {}", options.filter, e.what());
    }
  }
  std::set<std::string> only(options.only.begin(), options.only.end());
  std::vector<fs::path> tests;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !fs::exists(entry.path() / "model.onnx")) continue;
    if (!only.empty() && !only.count(name)) continue;
    if (filter && !std::regex_search(name, *filter)) continue;
    tests.push_back(entry.path());
  }
  std::sort(tests.begin(), tests.end());
  ConformanceSummary summary;
  for (const auto& test : tests) {
    TestResult result = run_conformance_test(test.string(), options);
    (result.outcome == Outcome::Pass   ? summary.passed
     : result.outcome == Outcome::Fail ? summary.failed
                                       : summary.unsupported)++;
    if (on_result) on_result(result);
    summary.results.push_back(std::move(result));
  }
  return summary;
}

std::string summary_line(const ConformanceSummary& summary) {
  return fmt::format("conformance: {} passed, {} failed, {} unsupported, {} total", summary.passed, summary.failed,
                     summary.unsupported, summary.total());
}

std::string result_line(const TestResult& result) {
  switch (result.outcome) {
    case Outcome::Pass: return "PASS " + result.name;
    case Outcome::Fail: return "FAIL " + result.name + ": " + result.reason;
    case Outcome::Unsupported: return "UNSUPPORTED " + result.name + ": " + result.reason;
  }
  return result.name;
}

std::string markdown_report(const ConformanceSummary& summary, const std::string& title) {
  std::string out = fmt::format("# {}\n\n{}\n", title, summary_line(summary));
  auto section = [&](Outcome kind, std::string_view heading) {
    std::string rows;
    for (const auto& r : summary.results) {
      if (r.outcome != kind) continue;
      std::string reason = r.reason;
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      std::replace(reason.begin(), reason.end(), '|', '/');
      rows += fmt::format("| {} | {} |\n", r.name, reason);
    }
    if (!rows.empty()) out += fmt::format("\n## {}\n\n| test | reason |\n|---|---|\n{}", heading, rows);
  };
  section(Outcome::Fail, "Failed");
  section(Outcome::Unsupported, "Unsupported");
  std::string bound;
  for (const auto& r : summary.results)
    if (r.outcome == Outcome::Pass && !r.bound_inputs.empty())
      bound += fmt::format("| {} | {} |\n", r.name, fmt::join(r.bound_inputs, ", "));
  if (!bound.empty()) out += "\n## Passed with inputs bound at import time\n\n| test | inputs |\n|---|---|\n" + bound;
  return out;
}

Expected<std::vector<std::string>> read_test_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("{}: cannot open the test list", path);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    auto end = line.find_last_not_of(" \t\r");
    names.push_back(line.substr(begin, end - begin + 1));
  }
  return names;
}

}  // namespace tessel::onnx
