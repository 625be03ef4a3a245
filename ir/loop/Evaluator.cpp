// The loop evaluator: a tree-walking interpreter of loop IR. Values are vectors of lanes (ScalarOps.h);
// variables live on a scope stack; buffers are the kernel's tensors plus allocations on a stack. The
// first error (out-of-bounds access, unbound variable) stops execution and is returned. Low-precision
// buffers are read and written as raw bytes.
#include "ir/loop/Evaluator.h"

#include <fmt/format.h>

#include "ir/interp/Interpreter.h"
#include "ir/loop/ScalarOps.h"
#include "ir/loop/Text.h"

namespace tessel::loop {
namespace {

using detail::Lane;

struct Val {
  Type type;
  std::vector<Lane> lanes;
};

/// A buffer the evaluator reads and writes: a kernel tensor or an allocation.
struct Storage {
  DType dtype = DType::F32;
  Tensor* tensor = nullptr;  ///< kernel buffer, or
  std::vector<Lane> local;   ///< an allocation
  int64_t size() const { return tensor ? tensor->numel() : static_cast<int64_t>(local.size()); }
};

class Machine {
 public:
  std::vector<std::pair<std::string, Val>> vars;
  std::vector<std::pair<std::string, Storage>> buffers;
  std::optional<Error> error;

  void fail(Error e) {
    if (!error) error = std::move(e);
  }

  const Val* find_var(const std::string& name) const {
    for (auto it = vars.rbegin(); it != vars.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  Storage* find_buffer(const std::string& name) {
    for (auto it = buffers.rbegin(); it != buffers.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  Val eval(const Expr& e);
  void exec(const Stmt& s);

 private:
  Val eval_load(const ExprNode& e);
  void exec_store(const StmtNode& s);
  Lane read(Storage& b, int64_t index) const;
  void write(Storage& b, int64_t index, Lane v);
  bool in_bounds(const std::string& name, Storage& b, int64_t index, const char* what) {
    if (index >= 0 && index < b.size()) return true;
    fail(make_error("{} out of bounds: {}[{}] with {} elements", what, name, index, b.size()));
    return false;
  }
};

Val splat(const Val& v, int lanes) {
  if (v.type.lanes == lanes) return v;
  return Val{v.type.with_lanes(lanes), std::vector<Lane>(static_cast<size_t>(lanes), v.lanes.at(0))};
}

Val Machine::eval(const Expr& expr) {
  const ExprNode& e = *expr;
  if (error) return Val{e.type, std::vector<Lane>(static_cast<size_t>(e.type.lanes))};
  switch (e.kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm: return Val{e.type, {detail::imm_lane(e)}};
    case ExprKind::Var: {
      if (const Val* v = find_var(e.name)) return *v;
      fail(make_error("unbound variable '{}'", e.name));
      return Val{e.type, std::vector<Lane>(static_cast<size_t>(e.type.lanes))};
    }
    case ExprKind::Binary: {
      Val a = eval(e.arg(0)), b = eval(e.arg(1));
      Val out{e.type, std::vector<Lane>(a.lanes.size())};
      if (b.lanes.size() != a.lanes.size()) return out;
      for (size_t i = 0; i < a.lanes.size(); ++i)
        out.lanes[i] = detail::binary_lane(e.op, a.type.elem, a.lanes[i], b.lanes[i]);
      return out;
    }
    case ExprKind::Select: {
      Val c = eval(e.arg(0)), t = eval(e.arg(1)), f = eval(e.arg(2));
      Val out = t;
      for (size_t i = 0; i < out.lanes.size() && i < c.lanes.size(); ++i)
        if (!c.lanes[i].i) out.lanes[i] = f.lanes[i];
      return out;
    }
    case ExprKind::Cast: {
      Val v = eval(e.arg(0));
      Val out{e.type, std::vector<Lane>(v.lanes.size())};
      for (size_t i = 0; i < v.lanes.size(); ++i)
        out.lanes[i] = detail::cast_lane(v.type.elem, e.type.elem, v.lanes[i]);
      return out;
    }
    case ExprKind::Reinterpret: {
      Val v = eval(e.arg(0));
      Val out{e.type, std::vector<Lane>(v.lanes.size())};
      for (size_t i = 0; i < v.lanes.size(); ++i)
        out.lanes[i] = detail::reinterpret_lane(v.type.elem, e.type.elem, v.lanes[i]);
      return out;
    }
    case ExprKind::Load: return eval_load(e);
    case ExprKind::Ramp: {
      Val base = eval(e.arg(0)), stride = eval(e.arg(1));
      Val out{e.type, std::vector<Lane>(static_cast<size_t>(e.int_value))};
      Lane lane = base.lanes.at(0);
      for (auto& l : out.lanes) {
        l = lane;
        lane = detail::binary_lane(BinOp::Add, e.type.elem, lane, stride.lanes.at(0));
      }
      return out;
    }
    case ExprKind::Broadcast: return splat(eval(e.arg(0)), static_cast<int>(e.int_value));
    case ExprKind::Call: {
      Val a = eval(e.arg(0));
      Val b = e.args.size() > 1 ? eval(e.arg(1)) : a;
      Val out{e.type, std::vector<Lane>(a.lanes.size())};
      for (size_t i = 0; i < a.lanes.size() && i < b.lanes.size(); ++i)
        out.lanes[i] = detail::intrinsic_lane(e.fn, a.type.elem, a.lanes[i], b.lanes[i], b.type.elem);
      return out;
    }
  }
  return Val{e.type, {}};
}

Lane Machine::read(Storage& b, int64_t index) const {
  if (!b.tensor) return b.local[static_cast<size_t>(index)];
  if (is_low_precision(b.dtype)) return Lane{b.tensor->data<uint8_t>()[index], 0};  // the raw byte
  if (is_float(b.dtype)) return Lane{0, b.tensor->get_double(index)};
  return Lane{b.tensor->get_int(index), 0};
}

void Machine::write(Storage& b, int64_t index, Lane v) {
  if (!b.tensor) {
    b.local[static_cast<size_t>(index)] = v;
  } else if (is_low_precision(b.dtype)) {
    b.tensor->data<uint8_t>()[index] = static_cast<uint8_t>(v.i);
  } else if (is_float(b.dtype)) {
    b.tensor->set_double(index, v.f);
  } else {
    b.tensor->set_int(index, v.i);
  }
}

Val Machine::eval_load(const ExprNode& e) {
  Val index = eval(e.arg(0));
  Val out{e.type, std::vector<Lane>(index.lanes.size())};
  Storage* b = find_buffer(e.name);
  if (!b) {
    fail(make_error("load from unknown buffer '{}'", e.name));
    return out;
  }
  for (size_t i = 0; i < index.lanes.size(); ++i) {
    if (!in_bounds(e.name, *b, index.lanes[i].i, "load")) return out;
    out.lanes[i] = read(*b, index.lanes[i].i);
  }
  return out;
}

void Machine::exec_store(const StmtNode& s) {
  Val index = eval(s.expr(0));
  Val value = splat(eval(s.expr(1)), index.type.lanes);
  Storage* b = find_buffer(s.name);
  if (!b) return fail(make_error("store to unknown buffer '{}'", s.name));
  for (size_t i = 0; i < index.lanes.size() && !error; ++i) {
    if (!in_bounds(s.name, *b, index.lanes[i].i, "store")) return;
    write(*b, index.lanes[i].i, detail::normalize(value.lanes[i], b->dtype));
  }
}

void Machine::exec(const Stmt& stmt) {
  if (error) return;
  const StmtNode& s = *stmt;
  switch (s.kind) {
    case StmtKind::Block:
      for (const Stmt& child : s.body) exec(child);
      return;
    case StmtKind::Store: return exec_store(s);
    case StmtKind::Prefetch: return;  // a cache hint: nothing to compute
    case StmtKind::Let:
      vars.emplace_back(s.name, eval(s.expr(0)));
      exec(s.body[0]);
      vars.pop_back();
      return;
    case StmtKind::If:
      if (eval(s.expr(0)).lanes.at(0).i) {
        exec(s.body[0]);
      } else if (s.body.size() > 1) {
        exec(s.body[1]);
      }
      return;
    case StmtKind::For: {
      int64_t min = eval(s.expr(0)).lanes.at(0).i, extent = eval(s.expr(1)).lanes.at(0).i;
      vars.emplace_back(s.name, Val{i64_type(), {Lane{min, 0}}});
      size_t slot = vars.size() - 1;
      for (int64_t i = 0; i < extent && !error; ++i) {
        vars[slot].second.lanes[0].i = min + i;
        exec(s.body[0]);
      }
      vars.pop_back();
      return;
    }
    case StmtKind::Allocate: {
      int64_t size = eval(s.expr(0)).lanes.at(0).i;
      if (size < 0 || size > (int64_t{1} << 32))
        return fail(make_error("allocation {} has a bad size {}", s.name, size));
      Storage storage;
      storage.dtype = s.elem;
      storage.local.resize(static_cast<size_t>(size), detail::normalize(Lane{}, s.elem));
      buffers.emplace_back(s.name, std::move(storage));
      exec(s.body[0]);
      buffers.pop_back();
      return;
    }
  }
}

}  // namespace

Status evaluate(const Kernel& kernel, const std::map<std::string, Tensor>& buffers, const SymbolEnv& params) {
  Machine m;
  for (const auto& [name, value] : params) m.vars.emplace_back(name, Val{i64_type(), {Lane{value, 0}}});
  std::vector<Tensor> views;  // shallow copies share storage with the caller's tensors
  views.reserve(kernel.buffers.size());
  for (const Buffer& b : kernel.buffers) {
    auto it = buffers.find(b.name);
    if (it == buffers.end()) return make_error("kernel {}: buffer '{}' is not bound", kernel.name, b.name);
    if (it->second.dtype() != b.dtype)
      return make_error("kernel {}: buffer '{}' is {} but {} was bound", kernel.name, b.name, dtype_name(b.dtype),
                        it->second.type_str());
    Shape shape = b.shape;
    for (size_t d = 0; d < shape.size(); ++d) {
      auto value = shape[d].evaluate(params);
      if (!value || d >= it->second.shape().size() || *value != it->second.shape()[d])
        return make_error("kernel {}: buffer '{}' has shape {} but {} was bound", kernel.name, b.name,
                          shape_str(b.shape), it->second.type_str());
    }
    views.push_back(it->second);
    Storage storage;
    storage.dtype = b.dtype;
    m.buffers.emplace_back(b.name, storage);
  }
  for (size_t i = 0; i < views.size(); ++i) m.buffers[i].second.tensor = &views[i];
  if (kernel.body) m.exec(kernel.body);
  if (m.error) return m.error->at("kernel " + kernel.name);
  return Status::success();
}

Expected<std::vector<Tensor>> run_kernel(const Kernel& kernel, const std::vector<Tensor>& inputs,
                                         const std::map<std::string, Tensor>& constants) {
  SymbolEnv env;
  std::map<std::string, Tensor> bound;
  size_t next_input = 0;
  for (const Buffer& b : kernel.buffers) {
    if (b.role == BufferRole::Input) {
      if (next_input >= inputs.size())
        return make_error("kernel {} takes more than the {} inputs given", kernel.name, inputs.size());
      const Tensor& t = inputs[next_input++];
      TESSEL_TRY(bind_shape(TensorType{b.dtype, b.shape}, t.shape(), env));
      bound[b.name] = t;
    } else if (b.role == BufferRole::Constant) {
      auto it = constants.find(b.constant);
      if (it == constants.end()) return make_error("kernel {}: constant '{}' is not given", kernel.name, b.constant);
      TESSEL_TRY(bind_shape(TensorType{b.dtype, b.shape}, it->second.shape(), env));
      bound[b.name] = it->second;
    }
  }
  if (next_input != inputs.size())
    return make_error("kernel {} takes {} inputs, {} given", kernel.name, next_input, inputs.size());
  std::vector<Tensor> outputs;
  for (const Buffer& b : kernel.buffers) {
    if (b.role != BufferRole::Output) continue;
    std::vector<int64_t> shape;
    for (const Dim& d : b.shape) {
      auto value = d.evaluate(env);
      if (!value)
        return make_error("kernel {}: output '{}' dim {} is not bound by the inputs", kernel.name, b.name, d.str());
      shape.push_back(*value);
    }
    outputs.emplace_back(b.dtype, shape);
    bound[b.name] = outputs.back();
  }
  TESSEL_TRY(evaluate(kernel, bound, env));
  return outputs;
}

std::optional<Expr> fold_constant(const Expr& expr) {
  if (expr->type.is_vector()) return std::nullopt;
  for (const Expr& a : expr->args)
    if (a->kind != ExprKind::IntImm && a->kind != ExprKind::FloatImm) return std::nullopt;
  if (expr->kind == ExprKind::Load || expr->kind == ExprKind::Var) return std::nullopt;
  Machine m;
  Val v = m.eval(expr);
  if (m.error || v.lanes.size() != 1) return std::nullopt;
  return detail::lane_imm(expr->type.elem, v.lanes[0]);
}

}  // namespace tessel::loop
