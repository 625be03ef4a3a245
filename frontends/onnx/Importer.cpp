// The import driver: opsets, graph checks, initializers and inputs, one op importer per node (looked up
// in OpRegistry), outputs, then removal of what folding left dead (see Importer.h).
#include "frontends/onnx/Importer.h"

#include <filesystem>
#include <set>
#include <unordered_map>

#include "frontends/onnx/GraphCheck.h"
#include "frontends/onnx/ImportContext.h"
#include "frontends/onnx/OpRegistry.h"
#include "frontends/onnx/TensorProto.h"
#include "ir/Verifier.h"

namespace tessel::onnx {
namespace {

bool is_symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class GraphImport {
 public:
  GraphImport(const pb::ModelProto& model, const std::string& model_dir, const ImportOptions& options,
              ImportReport& report)
      : model_(model),
        graph_(model.graph()),
        options_(options),
        report_(report),
        module_(std::make_unique<Module>()),
        b_(module_->add_function("main")),
        state_(options, report, b_) {
    state_.model_dir = model_dir;
  }

  Expected<std::unique_ptr<Module>> run() {
    TESSEL_TRY(read_opsets());
    TESSEL_ASSIGN(std::vector<int> order, check_graph(graph_));
    TESSEL_TRY(add_initializers());
    TESSEL_TRY(add_inputs());
    for (int index : order) TESSEL_TRY(import_node(graph_.node(index), index));
    TESSEL_TRY(add_outputs());
    remove_dead_ops();
    if (auto status = verify(*module_); !status)
      return make_error("internal error: the imported module does not verify: {}", status.error().str());
    return std::move(module_);
  }

 private:
  Error unsupported(Error error) {
    report_.unsupported = true;
    return error;
  }

  Status read_opsets() {
    for (const auto& opset : model_.opset_import()) {
      std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
      state_.opsets[domain] = opset.version();
    }
    auto it = state_.opsets.find("");
    if (it != state_.opsets.end() && (it->second < kMinOnnxOpset || it->second > kMaxOnnxOpset))
      return unsupported(make_error("the model imports ai.onnx opset {}; Tessel supports opsets {} to {}", it->second,
                                    kMinOnnxOpset, kMaxOnnxOpset));
    auto ml = state_.opsets.find(std::string(kOnnxMlDomain));
    if (ml != state_.opsets.end() && (ml->second < 1 || ml->second > kMaxOnnxMlOpset))
      return unsupported(make_error("the model imports ai.onnx.ml opset {}; Tessel supports opsets 1 to {}", ml->second,
                                    kMaxOnnxMlOpset));
    return Status::success();
  }

  Status add_initializers() {
    if (graph_.sparse_initializer_size() > 0)
      return unsupported(
          make_error("sparse initializers are not supported ('{}')", graph_.sparse_initializer(0).values().name()));
    TensorReadOptions read{state_.model_dir, options_.max_tensor_bytes};
    for (const auto& init : graph_.initializer()) {
      auto tensor = tensor_from_proto(init, read);
      if (!tensor) {
        if (!dtype_from_onnx(init.data_type())) report_.unsupported = true;
        return make_error("initializer: {}", tensor.error().message);
      }
      b_.set_location(init.name());
      state_.values[init.name()] = b_.constant(std::move(tensor).value(), init.name());
    }
    return Status::success();
  }

  // A symbol for an ONNX dim_param: an identifier, distinct for distinct params.
  Dim symbol_for(const std::string& param) {
    auto it = symbols_.find(param);
    if (it != symbols_.end()) return Dim::symbol(it->second);
    std::string name;
    for (char c : param) name += is_symbol_char(c) ? c : '_';
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "s_" + name;
    std::string unique = name;
    for (int k = 1; used_symbols_.count(unique); ++k) unique = name + "_" + std::to_string(k);
    used_symbols_.insert(unique);
    symbols_[param] = unique;
    return Dim::symbol(unique);
  }

  Dim fresh_symbol() {
    std::string name;
    do name = "unk" + std::to_string(fresh_++);
    while (used_symbols_.count(name) || reserved_symbols_.count(name));
    used_symbols_.insert(name);
    return Dim::symbol(name);
  }

  Expected<TensorType> input_type(const pb::ValueInfoProto& info) {
    std::string what = fmt::format("graph input '{}'", info.name());
    if (!info.has_type()) return make_error("{} has no type", what);
    const pb::TypeProto& type = info.type();
    switch (type.value_case()) {
      case pb::TypeProto::kTensorType: break;
      case pb::TypeProto::kSequenceType:
        return unsupported(make_error("{} is a sequence; Tessel supports tensors", what));
      case pb::TypeProto::kOptionalType:
        return unsupported(make_error("{} is an optional; Tessel supports tensors", what));
      case pb::TypeProto::kMapType: return unsupported(make_error("{} is a map; Tessel supports tensors", what));
      case pb::TypeProto::kSparseTensorType:
        return unsupported(make_error("{} is a sparse tensor; Tessel supports dense tensors", what));
      default: return unsupported(make_error("{} has a kind of type Tessel does not know", what));
    }
    const auto& tensor = type.tensor_type();
    auto dtype = dtype_from_onnx(tensor.elem_type());
    if (!dtype) return unsupported(make_error("{}: {}", what, unsupported_elem_type(tensor.elem_type())));
    if (!tensor.has_shape())
      return unsupported(make_error("{} has no shape (unknown rank); Tessel needs the rank", what));
    TensorType result{*dtype, {}};
    for (const auto& dim : tensor.shape().dim()) {
      if (dim.has_dim_value()) {
        if (dim.dim_value() < 0) return make_error("{} has a negative dim {}", what, dim.dim_value());
        result.shape.emplace_back(dim.dim_value());
      } else if (dim.has_dim_param() && !dim.dim_param().empty()) {
        result.shape.push_back(symbol_for(dim.dim_param()));
      } else {
        result.shape.push_back(fresh_symbol());
      }
    }
    return result;
  }

  Status bind_constant_input(const pb::ValueInfoProto& info, const TensorType& type, const Tensor& value) {
    if (value.dtype() != type.dtype || value.rank() != type.rank())
      return make_error("graph input '{}' is {} but the value bound to it is {}", info.name(), type.str(),
                        value.type_str());
    for (int64_t i = 0; i < value.rank(); ++i)
      if (type.shape[i].is_const() && *type.shape[i].as_const() != value.dim(i))
        return make_error("graph input '{}' is {} but the value bound to it is {}", info.name(), type.str(),
                          value.type_str());
    b_.set_location(info.name());
    state_.values[info.name()] = b_.constant(value, info.name());
    return Status::success();
  }

  Status add_inputs() {
    // Reserve every dim_param first so fresh symbols never take a name the model uses.
    for (const auto& info : graph_.input())
      if (info.type().has_tensor_type())
        for (const auto& dim : info.type().tensor_type().shape().dim())
          if (dim.has_dim_param()) reserved_symbols_.insert(dim.dim_param());
    for (const auto& info : graph_.input()) {
      if (state_.values.count(info.name())) continue;  // an initializer listed as an input (IR < 4)
      report_.graph_inputs.push_back(info.name());
      TESSEL_ASSIGN(TensorType type, input_type(info));
      auto bound = options_.constant_inputs.find(info.name());
      if (bound != options_.constant_inputs.end()) {
        TESSEL_TRY(bind_constant_input(info, type, bound->second));
        continue;
      }
      state_.values[info.name()] = b_.input(info.name(), std::move(type));
    }
    return Status::success();
  }

  Status import_node(const pb::NodeProto& node, int index) { return onnx::import_node(state_, node, index); }

  Status add_outputs() {
    for (const auto& info : graph_.output()) {
      Value* value = state_.values.at(info.name());
      if (info.has_type() && info.type().has_tensor_type()) TESSEL_TRY(check_output_type(info, value->type()));
      // A sequence of maps is ZipMap's output, which imports as its probability tensor (docs/onnx.md).
      bool zip_map = info.type().has_sequence_type() && info.type().sequence_type().elem_type().has_map_type();
      if (info.has_type() && !info.type().has_tensor_type() && !zip_map &&
          info.type().value_case() != pb::TypeProto::VALUE_NOT_SET)
        return unsupported(make_error("graph output '{}' is not a tensor; Tessel supports tensors", info.name()));
      b_.output(value, info.name());
    }
    return b_.status();
  }

  Status check_output_type(const pb::ValueInfoProto& info, const TensorType& actual) {
    const auto& tensor = info.type().tensor_type();
    if (tensor.elem_type() != kOnnxUndefined) {
      auto dtype = dtype_from_onnx(tensor.elem_type());
      if (!dtype)
        return unsupported(make_error("graph output '{}': {}", info.name(), unsupported_elem_type(tensor.elem_type())));
      if (*dtype != actual.dtype)
        return make_error("graph output '{}' is declared {} but the graph computes {}", info.name(),
                          onnx_elem_type_name(tensor.elem_type()), actual.str());
    }
    if (!tensor.has_shape()) return Status::success();
    const auto& dims = tensor.shape().dim();
    if (dims.size() != actual.rank())
      return make_error("graph output '{}' is declared with rank {} but the graph computes {}", info.name(),
                        dims.size(), actual.str());
    for (int i = 0; i < dims.size(); ++i)
      if (dims[i].has_dim_value() && actual.shape[i].is_const() && dims[i].dim_value() != *actual.shape[i].as_const())
        return make_error("graph output '{}' is declared with dim {} = {} but the graph computes {}", info.name(), i,
                          dims[i].dim_value(), actual.str());
    return Status::success();
  }

  // Folding leaves ops (and constants) nobody reads; drop them, last to first.
  void remove_dead_ops() {
    Function& function = *b_.function();
    std::unordered_map<const Value*, int> uses;
    std::vector<Op*> ops = function.ops();
    for (const Op* op : ops)
      for (const Value* operand : op->operands())
        if (operand) ++uses[operand];
    for (const Value* output : function.outputs()) ++uses[output];
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      Op* op = *it;
      bool used = false;
      for (const Value* result : op->results()) used = used || uses[result] > 0;
      if (used) continue;
      for (const Value* operand : op->operands())
        if (operand) --uses[operand];
      function.erase(op);
    }
    std::set<std::string> referenced;
    for (const Op* op : function.ops())
      if (op->kind() == OpKind::Const) referenced.insert(op->attr().s("name"));
    std::vector<std::string> unused;
    for (const auto& [name, tensor] : module_->constants())
      if (!referenced.count(name)) unused.push_back(name);
    for (const std::string& name : unused) module_->remove_constant(name);
  }

  const pb::ModelProto& model_;
  const pb::GraphProto& graph_;
  const ImportOptions& options_;
  ImportReport& report_;
  std::unique_ptr<Module> module_;
  Builder b_;
  ImportState state_;
  std::unordered_map<std::string, std::string> symbols_;
  std::set<std::string> used_symbols_, reserved_symbols_;
  int fresh_ = 0;
};

}  // namespace

Status import_node(ImportState& state, const pb::NodeProto& node, int index) {
  std::string label = node_label(node, index);
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  std::string domain_name = domain.empty() ? std::string(kOnnxDomain) : domain;
  auto opset = state.opsets.find(domain);
  if (opset == state.opsets.end())
    return make_error("{}: the node's domain '{}' has no opset import in the model", label, domain_name);
  const OpImporter* importer = find_op_importer(domain, node.op_type(), opset->second);
  if (!importer) {
    std::string versions = supported_opsets(domain, node.op_type());
    std::string supported = versions.empty() ? fmt::format("Tessel does not support {} in any opset", node.op_type())
                                             : fmt::format("Tessel supports {} in {}", node.op_type(), versions);
    state.report.unsupported = true;
    return make_error("{}: unsupported op {} (domain {}, opset {}); {}", label, node.op_type(), domain_name,
                      opset->second, supported);
  }
  state.b.set_location(node.name().empty() ? label : node.name());
  NodeContext ctx(state, node, opset->second);
  importer->fn(ctx);
  for (int i = 0; i < ctx.num_outputs() && !ctx.failed(); ++i)
    if (ctx.has_output(i) && !state.values.count(node.output(i)))
      ctx.fail_unsupported(make_error("output {} ('{}') is not supported", i, node.output(i)));
  Status status = ctx.status();
  if (status.ok()) return status;
  Error error = status.error();
  error.message = fmt::format("{} (domain {}, opset {}): {}{}", label, domain_name, opset->second, error.message,
                              error.location.empty() ? "" : " [at " + error.location + "]");
  error.location.clear();
  return error;
}

Expected<std::vector<Value*>> import_subgraph(ImportState& state, const pb::GraphProto& graph,
                                              const std::vector<Value*>& inputs) {
  constexpr int kMaxDepth = 16;
  if (state.depth >= kMaxDepth) return make_error("subgraphs are nested deeper than {}", kMaxDepth);
  if (graph.input_size() != static_cast<int>(inputs.size()))
    return make_error("subgraph '{}' takes {} inputs, got {}", graph.name(), graph.input_size(), inputs.size());
  state.unrolled_nodes += graph.node_size();
  if (state.unrolled_nodes > state.options.max_unrolled_nodes)
    return make_error("control flow unrolls to more than {} nodes", state.options.max_unrolled_nodes);
  TESSEL_ASSIGN(std::vector<int> order,
                check_graph(graph, [&](const std::string& name) { return state.values.count(name) > 0; }));

  // Names the subgraph defines shadow outer ones until it is done.
  std::vector<std::pair<std::string, std::optional<Value*>>> saved;
  auto shadow = [&](const std::string& name) {
    auto it = state.values.find(name);
    saved.emplace_back(name, it == state.values.end() ? std::nullopt : std::optional<Value*>(it->second));
  };
  for (const auto& input : graph.input()) shadow(input.name());
  for (const auto& init : graph.initializer()) shadow(init.name());
  for (const auto& node : graph.node())
    for (const auto& output : node.output()) shadow(output);

  ++state.depth;
  auto run = [&]() -> Expected<std::vector<Value*>> {
    for (int i = 0; i < graph.input_size(); ++i) state.values[graph.input(i).name()] = inputs[i];
    TensorReadOptions read{state.model_dir, state.options.max_tensor_bytes};
    for (const auto& init : graph.initializer()) {
      TESSEL_ASSIGN(Tensor tensor, tensor_from_proto(init, read));
      state.values[init.name()] = state.b.constant(std::move(tensor), init.name());
    }
    for (int index : order) TESSEL_TRY(import_node(state, graph.node(index), index));
    std::vector<Value*> outputs;
    for (const auto& output : graph.output()) outputs.push_back(state.values.at(output.name()));
    return outputs;
  };
  auto outputs = run();
  --state.depth;
  for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
    if (it->second)
      state.values[it->first] = *it->second;
    else
      state.values.erase(it->first);
  }
  if (!outputs) return outputs.error();
  return outputs;
}

Expected<std::unique_ptr<Module>> import_model(const pb::ModelProto& model, const std::string& model_dir,
                                               const ImportOptions& options, ImportReport* report) {
  ImportReport local;
  ImportReport& out = report ? *report : local;
  out = ImportReport{};
  if (!model.has_graph()) return make_error("the model has no graph");
  return GraphImport(model, model_dir, options, out).run();
}

Expected<std::unique_ptr<Module>> import_file(const std::string& path, const ImportOptions& options,
                                              ImportReport* report) {
  ImportReport local;
  ImportReport& out = report ? *report : local;
  out = ImportReport{};
  auto model = load_model(path, options.load);
  if (!model) return model.error();
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto module = import_model(*model, dir, options, &out);
  if (!module) return module.error().at(path);
  return module;
}

}  // namespace tessel::onnx
