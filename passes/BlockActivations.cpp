// block-activations: stores the 4-D activations that CPU conv kernels pass each other channel-blocked,
// [N, C / B, H, W, B] with B one vector of channels (NCHWc), instead of NCHW.
//
// Expects: @main's ops grouped into kernels by `fuse`, no schedules yet (runs before `schedule`), a target.
// Guarantees: every result of @main is unchanged bit for bit; only where some kernel results are stored
// changes. A blocked result's producer ends its body with reshape + transpose into the blocked shape, and
// every kernel reading it starts with the inverse (transpose + reshape), which the lowering inlines into
// index arithmetic. A conv's kernel then stores each vector of output channels as one contiguous vector
// (NCHW would scatter its lanes H x W apart), and a conv reading a blocked input finds a window's channels
// in a few contiguous runs. The scheduler vectorizes a blocked store's channel axis (LowerKernel's
// prefer_contiguous_store). On CUDA targets the pass does nothing.
//
// Which results: a single-result kernel's f32 result of rank 4 with a constant channel count that B
// divides, read only by kernels (never a function output), that either a conv computes or whose kernel
// reads a blocked result (pads, pools, residual adds between convs), and whose every reader is
// comfortable with blocks: its own result is blocked, or it reads the value only as a conv's input or a
// gemm/matmul's left operand (one scalar at a time). The rules shrink the set until they hold together.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "passes/Passes.h"
#include "passes/Rewriter.h"
#include "passes/ScheduleKernels.h"

namespace tessel {
namespace {

bool is_kernel(const Op* op) { return op && op->kind() == OpKind::Kernel; }

/// The kernel ops of @main that read `v`, or nullopt when something else reads it or @main returns it.
std::optional<std::vector<Op*>> kernel_readers(const Function& main, const Value* v) {
  const auto& outs = main.outputs();
  if (std::find(outs.begin(), outs.end(), v) != outs.end()) return std::nullopt;
  std::vector<Op*> readers;
  for (Op* op : main.ops()) {
    if (std::find(op->operands().begin(), op->operands().end(), v) == op->operands().end()) continue;
    if (!is_kernel(op)) return std::nullopt;
    readers.push_back(op);
  }
  return readers;
}

/// Whether `v` can be stored blocked by `block` channels at all.
bool blockable(const Function& main, const Module& module, const Value* v, int64_t block) {
  const Op* kernel = v->producer();
  if (!is_kernel(kernel) || kernel->num_results() != 1) return false;
  auto body = kernel_body(module, *kernel);
  if (!body || (*body)->outputs().size() != 1) return false;
  const TensorType& type = v->type();
  if (type.dtype != DType::F32 || type.rank() != 4) return false;
  auto channels = type.shape[1].as_const();
  if (!channels || *channels < block || *channels % block != 0) return false;
  auto readers = kernel_readers(main, v);
  return readers && !readers->empty();
}

bool body_has(const Function& body, OpKind kind) {
  for (const Op* op : body.ops())
    if (op->kind() == kind) return true;
  return false;
}

/// A global pooling (reduce over H and W): its result keeps the channels as the vectorized axis, which
/// are contiguous in blocks.
bool reduces_spatial_dims(const Op& op) {
  if (op_info(op.kind()).family != OpFamily::Reduce || op.kind() == OpKind::ArgMax || op.kind() == OpKind::ArgMin)
    return false;
  return op.attr().ints("axes") == std::vector<int64_t>{2, 3};
}

/// Whether every use of the body input reading operand `index` of `kernel` reads one scalar at a time
/// (a conv's input, a gemm/matmul's left operand, directly or through a reshape or slice) or vectors of channels
/// (a global pooling).
bool reads_scalars(const Module& module, const Op& kernel, size_t index) {
  auto body = kernel_body(module, kernel);
  if (!body) return false;
  const Value* param = (*body)->inputs().at(index);
  std::vector<const Value*> work = {param};
  while (!work.empty()) {
    const Value* v = work.back();
    work.pop_back();
    if (std::find((*body)->outputs().begin(), (*body)->outputs().end(), v) != (*body)->outputs().end()) return false;
    for (const Op* op : (*body)->ops()) {
      for (size_t i = 0; i < op->num_operands(); ++i) {
        if (op->operand(i) != v) continue;
        bool scalar_operand =
            i == 0 && (op->kind() == OpKind::Conv || op->kind() == OpKind::Gemm || op->kind() == OpKind::MatMul);
        if (scalar_operand || reduces_spatial_dims(*op)) continue;
        if ((op->kind() != OpKind::Reshape && op->kind() != OpKind::Slice) || v != param) return false;
        work.push_back(op->result());
      }
    }
  }
  return true;
}

/// The results to block: the candidates, shrunk until every rule of the header holds for all of them.
std::set<const Value*> choose(const Function& main, const Module& module, int64_t block) {
  std::set<const Value*> chosen;
  for (const Op* op : main.ops())
    if (is_kernel(op) && op->num_results() == 1 && blockable(main, module, op->result(), block))
      chosen.insert(op->result());
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto it = chosen.begin(); it != chosen.end();) {
      const Op* kernel = (*it)->producer();
      auto body = kernel_body(module, *kernel);
      bool reads_blocked = std::any_of(kernel->operands().begin(), kernel->operands().end(),
                                       [&](const Value* v) { return chosen.count(v) > 0; });
      bool keep = body && (body_has(**body, OpKind::Conv) || reads_blocked);
      auto readers = kernel_readers(main, *it);
      for (const Op* reader : readers ? *readers : std::vector<Op*>{}) {
        auto reader_body = kernel_body(module, *reader);
        if (!reader_body || (*reader_body)->num_ops() == 0) keep = false;  // nowhere to unblock it
        if (!keep || chosen.count(reader->result(0))) continue;
        for (size_t i = 0; i < reader->num_operands(); ++i)
          if (reader->operand(i) == *it && !reads_scalars(module, *reader, i)) keep = false;
      }
      if (keep) {
        ++it;
      } else {
        it = chosen.erase(it);
        changed = true;
      }
    }
  }
  return chosen;
}

Shape split_channels(const Shape& nchw, int64_t block) {
  return {nchw[0], Dim(*nchw[1].as_const() / block), Dim(block), nchw[2], nchw[3]};
}

/// Appends reshape + transpose of `v` (NCHW) into the blocked shape to `body`; returns the blocked value.
Value* to_blocks(Function& body, Value* v, int64_t block) {
  const Shape nchw = v->type().shape;
  std::string location = body.ops().back()->location();
  Value* split = body.append(OpKind::Reshape, {v}, {TensorType{v->type().dtype, split_channels(nchw, block)}},
                             {{"shape", split_channels(nchw, block)}}, location)
                     ->result();
  Shape blocked = {nchw[0], split->type().shape[1], nchw[2], nchw[3], Dim(block)};
  return body
      .append(OpKind::Transpose, {split}, {TensorType{v->type().dtype, blocked}},
              {{"perm", std::vector<int64_t>{0, 1, 3, 4, 2}}}, location)
      ->result();
}

/// The pads of a 4-D constant pad for the blocked shape, or empty when it pads N or C.
std::vector<int64_t> block_pads(const Op& pad) {
  if (pad.kind() != OpKind::Pad || pad.attr().s("mode") != "constant" || pad.num_operands() != 1) return {};
  const auto& pads = pad.attr().ints("pads");
  if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5]) return {};
  return {0, 0, pads[2], pads[3], 0, 0, 0, pads[6], pads[7], 0};
}

/// Appends to `body` the pad of `blocked` (blocked [N, C / B, H, W, B]) by `pads` (block_pads of `pad`),
/// with `pad`'s fill value; returns its result.
Value* append_pad_of_blocks(Function& body, Value* blocked, const Op& pad, const std::vector<int64_t>& pads) {
  Shape shape = blocked->type().shape;
  for (size_t d : {2, 3}) shape[d] = shape[d] + Dim(pads[d] + pads[d + 5]);
  return body
      .append(OpKind::Pad, {blocked}, {TensorType{blocked->type().dtype, shape}},
              {{"pads", pads}, {"mode", "constant"}, {"value", pad.attr().f("value")}}, pad.location())
      ->result();
}

/// Ends `body` with its output in blocks. An output that pads an anchor's result (the pad epilogue of a
/// conv) pads the blocks instead, so that it stays the kernel's last op: the lowering fills its border
/// apart and the anchor's nest stores the interior.
void block_output(Function& body, int64_t block) {
  Value* out = body.outputs()[0];
  Op* pad = out->producer();
  std::vector<int64_t> pads = pad ? block_pads(*pad) : std::vector<int64_t>{};
  if (pads.empty()) {
    body.set_outputs({to_blocks(body, out, block)}, body.output_names());
    return;
  }
  body.set_outputs({append_pad_of_blocks(body, to_blocks(body, pad->operand(0), block), *pad, pads)},
                   body.output_names());
  body.erase(pad);
}

/// Makes input `index` of `body` blocked and reads it back as NCHW through transpose + reshape.
Status unblock_input(Function& body, size_t index, const TensorType& blocked) {
  Value* param = body.inputs().at(index);
  const TensorType nchw = param->type();
  param->set_type(blocked);
  Op* first = body.ops().front();
  Rewriter rewriter(body, first, first->location());
  Value* moved = rewriter.op(OpKind::Transpose, {param}, {{"perm", std::vector<int64_t>{0, 1, 4, 2, 3}}});
  Value* read = rewriter.op(OpKind::Reshape, {moved}, {{"shape", nchw.shape}});
  TESSEL_TRY(rewriter.status());
  body.replace_all_uses(param, read);
  moved->producer()->set_operand(0, param);
  return Status();
}

/// A body that only pads a blocked input (not along N or C) pads the blocks instead: its output is then a
/// plain pad, which lowers as border fills and a dense copy (passes/LowerPad.cpp). False otherwise.
bool pad_blocks(Function& body) {
  Op* pad = body.outputs()[0]->producer();
  std::vector<int64_t> pads = pad ? block_pads(*pad) : std::vector<int64_t>{};
  if (pads.empty()) return false;
  const Op* reshape = pad->operand(0)->producer();
  const Op* transpose = reshape && reshape->kind() == OpKind::Reshape ? reshape->operand(0)->producer() : nullptr;
  if (!transpose || transpose->kind() != OpKind::Transpose) return false;
  Value* blocked = transpose->operand(0);
  if (blocked->producer() || count_uses(body, reshape->result()) != 1 || count_uses(body, transpose->result()) != 1)
    return false;
  body.set_outputs({append_pad_of_blocks(body, blocked, *pad, pads)}, body.output_names());
  for (Op* dead : {pad, const_cast<Op*>(reshape), const_cast<Op*>(transpose)}) body.erase(dead);
  return true;
}

}  // namespace

Expected<bool> block_activations(Module& module, PassContext& context) {
  Function* main = module.entry();
  if (!main || context.target.arch == TargetArch::Cuda) return false;
  int64_t block = context.target.vector_bits / 32;
  std::set<const Value*> chosen = choose(*main, module, block);
  for (Op* kernel : main->ops()) {
    if (!is_kernel(kernel) || !chosen.count(kernel->result(0))) continue;
    Value* result = kernel->result(0);
    TESSEL_ASSIGN(const Function* const_body, kernel_body(module, *kernel));
    Function* body = module.function(const_body->name());
    std::string where = fmt::format("block-activations: kernel @{}", body->name());
    if (!pad_blocks(*body)) block_output(*body, block);
    TensorType blocked = body->outputs()[0]->type();
    auto readers = kernel_readers(*main, result);
    for (Op* reader : readers ? *readers : std::vector<Op*>{}) {
      TESSEL_ASSIGN(const Function* reader_body, kernel_body(module, *reader));
      for (size_t i = 0; i < reader->num_operands(); ++i) {
        if (reader->operand(i) != result) continue;
        Status read = unblock_input(*module.function(reader_body->name()), i, blocked);
        if (!read.ok()) return read.error().at(where);
      }
    }
    result->set_type(blocked);
    if (context.log && context.options.verbose)
      *context.log << where << " (" << kernel->location() << "): result stored as " << blocked.str() << "\n";
  }
  return !chosen.empty();
}

}  // namespace tessel
