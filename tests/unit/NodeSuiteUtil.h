// The ONNX backend node tests (../shared/onnx-node-tests by default, see TESSEL_ONNX_NODE_TESTS in
// CMake) for the unit tests that walk the whole suite.
#pragma once

#include <algorithm>
#include <filesystem>
#include <vector>

namespace tessel::node_suite {

/// The suite's `node` folder (or the root itself when it has none).
inline std::filesystem::path node_dir() {
  std::filesystem::path root = TESSEL_ONNX_NODE_TESTS_DIR;
  return std::filesystem::exists(root / "node") ? root / "node" : root;
}

/// Every test folder that holds a model.onnx, sorted by name; empty when the suite is absent.
inline std::vector<std::filesystem::path> model_dirs() {
  std::vector<std::filesystem::path> dirs;
  std::filesystem::path dir = node_dir();
  if (!std::filesystem::exists(dir)) return dirs;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (std::filesystem::exists(entry.path() / "model.onnx")) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace tessel::node_suite
