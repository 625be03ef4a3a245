// `tessel dump` and `tessel run`. Both parse and verify the model first, so
// that every later step may assume well-formed IR; `run` then matches .npy
// files to the entry function's inputs by name, checks their dtypes and
// shapes (binding symbolic dims) before interpreting, and writes one .npy per
// output. With --verbose each step is narrated on stderr.
#include "tools/tessel/Commands.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "codegen/llvm/Jit.h"
#include "tools/tessel/Backends.h"

#include "passes/LowerLoops.h"
#include "passes/MemoryPlan.h"

#include "codegen/mlir/MlirExport.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/TensorIO.h"
#include "ir/ValueNames.h"
#include "ir/Verifier.h"
#include "ir/interp/Interpreter.h"
#include "tools/tessel/DotWriter.h"
#include "tools/tessel/OnnxCommands.h"
#include "tools/tessel/PassOptions.h"

namespace tessel::cli {
namespace {

/// Values printed per output when `run` writes to stdout; the rest are counted, not shown.
constexpr int64_t kMaxPrintedValues = 1000;

/// Narrates steps on stderr when --verbose is on.
class Log {
 public:
  explicit Log(bool enabled) : enabled_(enabled) {}
  template <typename... Args>
  void operator()(fmt::format_string<Args...> format, Args&&... args) const {
    if (enabled_) std::cerr << "tessel: " << fmt::format(format, std::forward<Args>(args)...) << "\n";
  }

 private:
  bool enabled_;
};

Expected<std::unique_ptr<Module>> load_module(const std::string& file, const Log& log) {
  log("parsing {}", file);
  TESSEL_ASSIGN(std::unique_ptr<Module> module, load_any_model(file));  // .onnx or .tsl
  size_t num_ops = 0;
  for (const auto& function : module->functions()) num_ops += function->num_ops();
  log("verifying {} function(s), {} op(s), {} constant(s)", module->functions().size(), num_ops,
      module->constants().size());
  TESSEL_TRY(verify(*module));
  return module;
}

// ---- run: inputs --------------------------------------------------------------------------------

/// "x: f32[2, 3], y: i64[N]" -- what the function expects, for error messages.
std::string describe_inputs(const Function& function, const ValueNames& names) {
  std::vector<std::string> parts;
  for (const Value* input : function.inputs()) parts.push_back(names.bare(input) + ": " + input->type().str());
  return parts.empty() ? "no inputs" : fmt::format("{}", fmt::join(parts, ", "));
}

/// Splits the --input values into name -> path, rejecting malformed and repeated names.
Expected<std::map<std::string, std::string>> parse_input_specs(const std::vector<std::string>& specs) {
  std::map<std::string, std::string> paths;
  for (const std::string& spec : specs) {
    size_t equals = spec.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size())
      return Error{fmt::format("--input '{}' is not of the form NAME=PATH", spec), {}, "e.g. --input x=x.npy"};
    std::string name = spec.substr(0, equals);
    if (name[0] == '%') name.erase(0, 1);  // accept the name as the text form prints it
    if (!paths.emplace(name, spec.substr(equals + 1)).second)
      return make_error("input '{}' is given more than once", name);
  }
  return paths;
}

/// Reads one .npy per function input and checks it against the input's type.
Expected<std::vector<Tensor>> read_inputs(const Function& function, const std::vector<std::string>& specs,
                                          const Log& log) {
  ValueNames names(function);
  TESSEL_ASSIGN(auto paths, parse_input_specs(specs));
  std::set<std::string> expected;
  for (const Value* input : function.inputs()) expected.insert(names.bare(input));
  for (const auto& [name, path] : paths) {
    if (!expected.count(name))
      return make_error("@{} has no input '{}'; it expects {}", function.name(), name,
                        describe_inputs(function, names));
  }
  std::vector<std::string> missing;
  for (const Value* input : function.inputs())
    if (!paths.count(names.bare(input)))
      missing.push_back(fmt::format("'{}' ({})", names.bare(input), input->type().str()));
  if (!missing.empty())
    return Error{fmt::format("missing input {} for @{}; it expects {}", fmt::join(missing, ", "), function.name(),
                             describe_inputs(function, names)),
                 {},
                 "pass each input as --input NAME=PATH.npy"};

  std::vector<Tensor> tensors;
  SymbolEnv symbols;
  for (const Value* input : function.inputs()) {
    const std::string& name = names.bare(input);
    const std::string& path = paths.at(name);
    TESSEL_ASSIGN(Tensor tensor, read_npy(path));
    log("input '{}' <- {}: {}", name, path, tensor.type_str());
    if (tensor.dtype() != input->type().dtype)
      return make_error("input '{}' is {}, but @{} expects {}", name, tensor.type_str(), function.name(),
                        input->type().str())
          .at(path);
    Status bound = bind_shape(input->type(), tensor.shape(), symbols);
    if (!bound.ok())
      return make_error("input '{}' has shape {} that does not fit {}: {}", name, tensor.type_str(),
                        input->type().str(), bound.error().str())
          .at(path);
    tensors.push_back(std::move(tensor));
  }
  for (const auto& [symbol, value] : symbols) log("symbol {} = {}", symbol, value);
  return tensors;
}

// ---- run: outputs -------------------------------------------------------------------------------

/// A file name for an output: its name when that is a plain identifier, else the name with every
/// character outside [A-Za-z0-9_.-] replaced by '_'; unnamed outputs are "output<i>".
std::string output_file_name(const std::string& name, size_t index) {
  std::string file;
  for (char c : name) {
    bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    file += plain ? c : '_';
  }
  if (file.empty() || file == "." || file == "..") file = fmt::format("output{}", index);
  return file + ".npy";
}

std::string element_str(const Tensor& tensor, int64_t flat) {
  switch (tensor.dtype()) {
    case DType::F64: return fmt::format("{}", tensor.data<double>()[flat]);
    case DType::F32:
    case DType::F16:
    case DType::BF16: return fmt::format("{}", static_cast<float>(tensor.get_double(flat)));
    case DType::U64: return fmt::format("{}", tensor.data<uint64_t>()[flat]);
    case DType::Bool: return tensor.data<uint8_t>()[flat] ? "true" : "false";
    case DType::String: return fmt::format("{:?}", tensor.data<std::string>()[flat]);
    default:
      if (is_low_precision_float(tensor.dtype())) return fmt::format("{}", static_cast<float>(tensor.get_double(flat)));
      return fmt::format("{}", tensor.get_int(flat));
  }
}

/// "y: f32[2] = [1, 2.5]", flat in row-major order.
std::string tensor_summary(const std::string& name, const Tensor& tensor) {
  std::string text = fmt::format("{}: {} = [", name, tensor.type_str());
  int64_t shown = std::min(tensor.numel(), kMaxPrintedValues);
  for (int64_t i = 0; i < shown; ++i) text += (i ? ", " : "") + element_str(tensor, i);
  if (shown < tensor.numel()) text += fmt::format(", ... ({} more)", tensor.numel() - shown);
  return text + "]";
}

Status write_outputs(const std::vector<std::string>& names, const std::vector<Tensor>& results, const std::string& dir,
                     const Log& log) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir))
    return make_error("cannot create the output directory: {}", error ? error.message() : "not a directory").at(dir);
  std::map<std::string, std::string> used;  // file -> output name, to catch two outputs sharing a file
  for (size_t i = 0; i < results.size(); ++i) {
    std::string name = i < names.size() ? names[i] : std::string();
    std::string file = output_file_name(name, i);
    auto [it, fresh] = used.emplace(file, name);
    if (!fresh) return make_error("outputs '{}' and '{}' would both be written to {}", it->second, name, file);
    std::string path = (std::filesystem::path(dir) / file).string();
    TESSEL_TRY(write_npy(path, results[i]));
    log("output '{}' -> {}: {}", name, path, results[i].type_str());
  }
  return Status::success();
}

Status dump_native(const Module& module, const Target& target, const std::string& format, const Log& log,
                   std::ostream& out) {
  log("generating LLVM IR for {}", target.str());
  std::string text;
  if (format == "asm") {
    TESSEL_ASSIGN(text, jit::assembly_text(module, target));
  } else {
    TESSEL_ASSIGN(text, jit::llvm_ir_text(module, target, /*optimized=*/format == "llvm"));
  }
  out << text;
  return Status::success();
}

}  // namespace

Status dump_command(const DumpOptions& options, const GlobalOptions& global, std::ostream& out) {
  Log log(global.verbose);
  static const std::set<std::string> kFormats = {"text", "dot", "mlir", "loops", "llvm", "llvm-raw", "asm"};
  if (!kFormats.count(options.format))
    return make_error("unknown dump format '{}' (expected text, dot, mlir, loops, llvm, llvm-raw or asm)",
                      options.format);
  TESSEL_ASSIGN(std::unique_ptr<Module> module, load_module(options.file, log));
  TESSEL_TRY(run_pass_pipeline(*module, options.passes, /*default_opt_level=*/0, global.verbose, std::cerr));
  if (options.stats) {
    TESSEL_ASSIGN(MemoryStats stats, memory_stats(*module));
    std::cerr << format_memory_stats(stats);
  }
  if (options.format == "loops" || options.format == "llvm" || options.format == "llvm-raw" ||
      options.format == "asm") {
    const Function* entry = module->entry();
    bool has_kernels = false;
    for (const Op* op : entry ? entry->ops() : std::vector<Op*>{}) has_kernels |= op->kind() == OpKind::Kernel;
    if (!has_kernels)
      return Error{"--format=" + options.format + " needs kernels, and the module has none", options.file,
                   "fuse and schedule first, e.g. with -O3 or --passes=fuse,schedule"};
    TESSEL_ASSIGN(Target target, parse_target(options.passes.target));
    if (options.format != "loops") return dump_native(*module, target, options.format, log, out);
    log("lowering every kernel to loop IR for {}", target.str());
    TESSEL_ASSIGN(std::string text, print_loop_ir(*module, target));
    out << text;
    return Status::success();
  }
  if (options.format == "dot") {
    log("writing Graphviz");
    out << write_dot(*module);
    return Status::success();
  }
  if (options.format == "mlir") {
    log("writing MLIR (func, linalg, tensor, arith, math)");
    TESSEL_ASSIGN(std::string text, mlir::export_mlir(*module));
    out << text;
    return Status::success();
  }
  PrintOptions print_options;
  print_options.elide_constants_above = options.elide_constants_above;
  log("printing{}", options.elide_constants_above >= 0
                        ? fmt::format(", eliding constants above {} elements", options.elide_constants_above)
                        : std::string());
  out << print_module(*module, print_options);
  return Status::success();
}

Status run_command(const RunOptions& options, const GlobalOptions& global, std::ostream& out) {
  Log log(global.verbose);
  TESSEL_ASSIGN(std::unique_ptr<Module> module, load_module(options.file, log));
  const Function* function = module->entry();
  if (!function) return make_error("the module defines no function to run").at(options.file);
  log("entry function @{}: {} input(s), {} output(s)", function->name(), function->inputs().size(),
      function->outputs().size());
  TESSEL_ASSIGN(std::vector<Tensor> inputs, read_inputs(*function, options.inputs, log));
  std::vector<std::string> names = function->output_names();

  log("preparing the {} backend", options.backend.backend);
  double compile_seconds = 0;
  TESSEL_ASSIGN(RunModule run, prepare_backend(std::move(module), options.backend, &compile_seconds));
  if (options.backend.backend != "interp") log("compiled in {:.3f} s", compile_seconds);
  auto start = std::chrono::steady_clock::now();
  TESSEL_ASSIGN(std::vector<Tensor> results, run(inputs));
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  log("ran in {:.3f} ms", elapsed.count());

  if (!options.output_dir.empty()) return write_outputs(names, results, options.output_dir, log);
  for (size_t i = 0; i < results.size(); ++i) {
    std::string name = i < names.size() && !names[i].empty() ? names[i] : fmt::format("output{}", i);
    out << tensor_summary(name, results[i]) << "\n";
  }
  return Status::success();
}

}  // namespace tessel::cli
