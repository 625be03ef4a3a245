// Expectations files: the conformance tests a backend is expected NOT to pass, each with a reason, like
// onnxruntime's test filters. CI checks a run against the file both ways: a test that is not listed
// and does not pass is a regression; a listed test that now passes must be taken off the list, so the
// list only shrinks.
//
// Format: one test per line, `test_name  # reason`; blank lines and lines starting with '#' are comments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "frontends/onnx/Conformance.h"
#include "ir/Error.h"

namespace tessel::onnx {

struct Expectations {
  /// Test name -> why it is expected not to pass.
  std::map<std::string, std::string> expected_failures;
};

/// Reads an expectations file; every entry needs a reason, and no test may be listed twice.
Expected<Expectations> read_expectations(const std::string& path);

/// Text of an expectations file listing every test of `summary` that did not pass, with its reason
/// (the first line of the runner's message), under `header` comment lines.
std::string write_expectations(const ConformanceSummary& summary, const std::string& header);

/// Checks a full run against the expectations: returns an error listing every regression (a test not
/// listed that did not pass), every listed test that passed, and every listed test that does not exist
/// (only when `complete_run`: a run of the whole folder rather than a filtered part).
Status check_expectations(const ConformanceSummary& summary, const Expectations& expectations, const std::string& path,
                          bool complete_run);

}  // namespace tessel::onnx
