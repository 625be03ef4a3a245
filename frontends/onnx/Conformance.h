// The conformance runner for the ONNX backend node tests (../shared/onnx-node-tests/node): each test
// folder holds model.onnx and test_data_set_*/{input,output}_N.pb. A test is imported, run on the
// reference interpreter and compared with the upstream rule: same number of outputs, exact shape and
// element type, |actual - expected| <= atol + rtol * |expected| (rtol 1e-3, atol 1e-7), NaN equal to NaN.
// Inputs the importer needs at compile time (a Reshape's shape fed as a graph input) are bound to the
// test's values and the test is imported again; the result records that it was.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "frontends/onnx/Importer.h"
#include "ir/Error.h"
#include "ir/Tensor.h"

namespace tessel::onnx {

/// Runs a compiled model on its inputs, returning its outputs.
using CompiledRun = std::function<Expected<std::vector<Tensor>>(const std::vector<Tensor>&)>;
/// Compiles an imported module for a backend. An error is reported as "unsupported" (the backend cannot
/// compile the model), as opposed to a wrong or failed run.
using BackendCompiler = std::function<Expected<CompiledRun>(std::unique_ptr<Module>)>;

struct ConformanceOptions {
  /// The backend under test; empty runs the reference interpreter. A test's model is compiled once and
  /// run on every data set, unless a data set binds graph inputs as constants (then it is recompiled).
  BackendCompiler compile;
  std::string filter;             ///< ECMAScript regex; only test names it finds a match in run ("" = all)
  std::vector<std::string> only;  ///< when non-empty, only these test names run
  double rtol = 1e-3;
  double atol = 1e-7;
  ImportOptions import;
  bool bind_needed_inputs = true;  ///< bind inputs the importer needs as constants and retry
};

enum class Outcome { Pass, Fail, Unsupported };

struct TestResult {
  std::string name;
  Outcome outcome = Outcome::Fail;
  std::string reason;                     ///< why it failed or is unsupported; empty on a pass
  std::vector<std::string> bound_inputs;  ///< graph inputs bound to constants for the import
};

struct ConformanceSummary {
  std::vector<TestResult> results;
  int passed = 0, failed = 0, unsupported = 0;
  int total() const { return passed + failed + unsupported; }
};

/// Runs the test in folder `dir` (its name is the folder's name).
TestResult run_conformance_test(const std::string& dir, const ConformanceOptions& options = {});

/// Runs every test folder under `root`, in name order, that the options select; `on_result` (if set)
/// sees each result as it completes. Errors only for an unreadable root or a bad filter.
Expected<ConformanceSummary> run_conformance(const std::string& root, const ConformanceOptions& options = {},
                                             const std::function<void(const TestResult&)>& on_result = {});

/// Compares one output with the upstream rule; the error says what differs (first mismatching element).
Status compare_tensors(const Tensor& actual, const Tensor& expected, double rtol = 1e-3, double atol = 1e-7);

/// "conformance: P passed, F failed, U unsupported, T total".
std::string summary_line(const ConformanceSummary& summary);
/// "FAIL test_x: reason" / "UNSUPPORTED test_x: reason" / "PASS test_x".
std::string result_line(const TestResult& result);
/// A markdown report: the summary, then every failing and unsupported test with its reason.
std::string markdown_report(const ConformanceSummary& summary, const std::string& title);
/// Reads a list of test names (one per line; blank lines and '#' comments ignored).
Expected<std::vector<std::string>> read_test_list(const std::string& path);

}  // namespace tessel::onnx
