// compile_aot: emit_model into a fresh LLVM module, add the weights (embedded globals or an offsets table for
// NAME.weights) and the NAME_info descriptor the runtime reads, optimize, emit one object file and wrap it in
// a static library with LLVM's archive writer (no external `ar` needed).
#include "codegen/llvm/Aot.h"

#include <filesystem>
#include <fstream>

#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/llvm/Optimize.h"

namespace tessel::llvmgen {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kWeightAlignment = 64;

bool is_c_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

Status write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return make_error("cannot write '{}'", path.string());
  return Status::success();
}

/// Adds NAME_info (and, for embedded weights, one global per constant plus the pointer table).
/// Returns the weights file's bytes when the weights are external.
std::string add_weights_and_info(const Module& module, const ModelInterface& interface, const AotOptions& options,
                                 llvm::Module& out) {
  llvm::LLVMContext& context = out.getContext();
  llvm::Type* ptr = llvm::PointerType::get(context, 0);
  llvm::Type* i32 = llvm::Type::getInt32Ty(context);
  llvm::Type* i64 = llvm::Type::getInt64Ty(context);
  const std::string& n = options.name;
  std::string weights;
  std::vector<llvm::Constant*> pointers, offsets;
  for (size_t k = 0; k < interface.constants.size(); ++k) {
    const Tensor* tensor = module.constant(interface.constants[k]);
    llvm::StringRef bytes(static_cast<const char*>(tensor->raw_data()), tensor->nbytes());
    if (options.external_weights) {
      weights.resize((weights.size() + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment, '\0');
      offsets.push_back(llvm::ConstantInt::get(i64, weights.size()));
      weights.append(bytes.data(), bytes.size());
      continue;
    }
    llvm::Constant* data = llvm::ConstantDataArray::getRaw(bytes, bytes.size(), llvm::Type::getInt8Ty(context));
    auto* global = new llvm::GlobalVariable(out, data->getType(), /*isConstant=*/true,
                                            llvm::GlobalValue::PrivateLinkage, data, n + "_weight" + std::to_string(k));
    global->setAlignment(llvm::Align(kWeightAlignment));
    pointers.push_back(global);
  }
  auto table = [&](llvm::Type* elem, const std::vector<llvm::Constant*>& values,
                   const std::string& name) -> llvm::Constant* {
    auto* type = llvm::ArrayType::get(elem, values.size());
    return new llvm::GlobalVariable(out, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, values), name);
  };
  llvm::Constant* null = llvm::ConstantPointerNull::get(llvm::PointerType::get(context, 0));
  llvm::Constant* embedded = options.external_weights ? null : table(ptr, pointers, n + "_weights");
  llvm::Constant* offset_table = options.external_weights ? table(i64, offsets, n + "_weight_offsets") : null;
  llvm::Constant* name = llvm::ConstantDataArray::getString(context, n);
  auto* name_global =
      new llvm::GlobalVariable(out, name->getType(), true, llvm::GlobalValue::PrivateLinkage, name, n + "_name");
  auto* info_type = llvm::StructType::get(context, {ptr, i32, i32, i32, i32, ptr, ptr, ptr, ptr, i64});
  auto count = [&](size_t v) { return llvm::ConstantInt::get(i32, v); };
  llvm::Constant* info = llvm::ConstantStruct::get(
      info_type, {name_global, count(interface.inputs.size()), count(interface.outputs.size()),
                  count(interface.symbols.size()), count(interface.constants.size()),
                  out.getFunction(interface.prefix + "_run"), out.getFunction(interface.prefix + "_arena_bytes"),
                  embedded, offset_table, llvm::ConstantInt::get(i64, weights.size())});
  new llvm::GlobalVariable(out, info_type, true, llvm::GlobalValue::ExternalLinkage, info, n + "_info");
  return weights;
}

Status write_archive(const fs::path& path, const std::string& object, const std::string& member_name) {
  auto buffer = llvm::MemoryBuffer::getMemBuffer(object, member_name, false);
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(buffer->getMemBufferRef());
  if (llvm::Error error = llvm::writeArchive(path.string(), members, llvm::SymtabWritingMode::NormalSymtab,
                                             llvm::object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false))
    return make_error("cannot write '{}': {}", path.string(), llvm::toString(std::move(error)));
  return Status::success();
}

}  // namespace

Expected<AotResult> compile_aot(const Module& module, const Target& target, const AotOptions& options,
                                const std::string& out_dir) {
  if (!is_c_identifier(options.name))
    return Error{"model name '" + options.name + "' is not a C identifier",
                 {},
                 "use letters, digits and '_' (e.g. --name seed_cnn); it prefixes every generated symbol"};
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error || !fs::is_directory(out_dir))
    return make_error("cannot create the output folder: {}", error ? error.message() : "not a folder").at(out_dir);

  llvm::LLVMContext context;
  llvm::Module out(options.name, context);
  AotResult result;
  TESSEL_ASSIGN(result.interface, emit_model(module, target, options.name + "_impl", out, options.codegen));
  std::string weights = add_weights_and_info(module, result.interface, options, out);
  TESSEL_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, make_target_machine(target));
  optimize_module(out, *machine, target, options.llvm_opt_level);
  TESSEL_ASSIGN(std::string object, emit_object(out, *machine));

  fs::path dir(out_dir);
  fs::path library = dir / ("lib" + options.name + ".a");
  TESSEL_TRY(write_archive(library, object, options.name + ".o"));
  result.files.push_back(library.string());
  fs::path header = dir / (options.name + ".h");
  TESSEL_TRY(write_file(header, aot_header(result.interface, options, options.source)));
  result.files.push_back(header.string());
  fs::path runtime_header = dir / "tessel_runtime.h";
  TESSEL_TRY(write_file(runtime_header, kRuntimeHeaderText));
  result.files.push_back(runtime_header.string());
  if (options.external_weights) {
    fs::path weights_path = dir / (options.name + ".weights");
    TESSEL_TRY(write_file(weights_path, weights));
    result.files.push_back(weights_path.string());
  }
  return result;
}

}  // namespace tessel::llvmgen
