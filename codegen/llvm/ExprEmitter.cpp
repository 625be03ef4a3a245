// Expressions of the loop IR as LLVM values. Values live in "register types" (Emitter::reg_type): f16 and bf16
// are computed in float and rounded after each operation, as the loop IR's semantics say, so the compiled code
// and the loop evaluator agree. Integer division by zero gives 0 and INT_MIN / -1 wraps (never a trap); float
// min/max propagate NaN; float -> int casts saturate with NaN -> 0 (llvm.fpto[su]i.sat).
#include <llvm/IR/Intrinsics.h>

#include "codegen/llvm/Emitter.h"

namespace tessel::llvmgen {

using loop::BinOp;
using loop::ExprKind;
using loop::ExprNode;
using loop::Intrinsic;

llvm::Type* Emitter::reg_type(loop::Type type) {
  llvm::Type* scalar = nullptr;
  switch (type.elem) {
    case DType::F16:
    case DType::BF16:
    case DType::F32: scalar = builder_.getFloatTy(); break;
    case DType::F64: scalar = builder_.getDoubleTy(); break;
    case DType::Bool: scalar = builder_.getInt1Ty(); break;
    default: scalar = builder_.getIntNTy(static_cast<unsigned>(dtype_size(type.elem) * 8)); break;
  }
  return type.lanes > 1 ? llvm::FixedVectorType::get(scalar, type.lanes) : scalar;
}

llvm::Type* Emitter::mem_type(DType dtype) {
  switch (dtype) {
    case DType::F16: return builder_.getHalfTy();
    case DType::BF16: return builder_.getInt16Ty();
    case DType::Bool: return builder_.getInt8Ty();
    default: return reg_type(loop::Type{dtype, 1});
  }
}

llvm::Value* Emitter::splat_if_vector(llvm::Value* scalar, int lanes) {
  return lanes > 1 ? builder_.CreateVectorSplat(lanes, scalar) : scalar;
}

llvm::Value* Emitter::round_to(DType dtype, llvm::Value* value) {
  llvm::Type* type = value->getType();
  auto lanes = [&](llvm::Type* scalar) -> llvm::Type* {
    if (auto* v = llvm::dyn_cast<llvm::FixedVectorType>(type))
      return llvm::FixedVectorType::get(scalar, v->getNumElements());
    return scalar;
  };
  if (dtype == DType::F16)
    return builder_.CreateFPExt(builder_.CreateFPTrunc(value, lanes(builder_.getHalfTy())), type);
  if (dtype != DType::BF16) return value;
  // Round to nearest even on the top 16 bits; NaN stays a (quiet) NaN.
  llvm::Type* int_type = lanes(builder_.getInt32Ty());
  auto constant = [&](uint32_t v) { return llvm::ConstantInt::get(int_type, v); };
  llvm::Value* bits = builder_.CreateBitCast(value, int_type);
  llvm::Value* odd = builder_.CreateAnd(builder_.CreateLShr(bits, constant(16)), constant(1));
  llvm::Value* rounded =
      builder_.CreateAnd(builder_.CreateAdd(bits, builder_.CreateAdd(odd, constant(0x7fff))), constant(0xffff0000u));
  llvm::Value* quiet = builder_.CreateAnd(builder_.CreateOr(bits, constant(0x00400000u)), constant(0xffff0000u));
  llvm::Value* is_nan = builder_.CreateFCmpUNO(value, value);
  return builder_.CreateBitCast(builder_.CreateSelect(is_nan, quiet, rounded), type);
}

llvm::Value* Emitter::from_memory(DType dtype, llvm::Value* value) {
  llvm::Type* type = value->getType();
  auto vec = llvm::dyn_cast<llvm::FixedVectorType>(type);
  auto lanes = [&](llvm::Type* scalar) -> llvm::Type* {
    return vec ? llvm::FixedVectorType::get(scalar, vec->getNumElements()) : scalar;
  };
  switch (dtype) {
    case DType::F16: return builder_.CreateFPExt(value, lanes(builder_.getFloatTy()));
    case DType::BF16: {
      llvm::Value* wide = builder_.CreateZExt(value, lanes(builder_.getInt32Ty()));
      wide = builder_.CreateShl(wide, llvm::ConstantInt::get(lanes(builder_.getInt32Ty()), 16));
      return builder_.CreateBitCast(wide, lanes(builder_.getFloatTy()));
    }
    case DType::Bool: return builder_.CreateICmpNE(value, llvm::Constant::getNullValue(type));
    default: return value;
  }
}

llvm::Value* Emitter::to_memory(DType dtype, llvm::Value* value) {
  llvm::Type* type = value->getType();
  auto vec = llvm::dyn_cast<llvm::FixedVectorType>(type);
  auto lanes = [&](llvm::Type* scalar) -> llvm::Type* {
    return vec ? llvm::FixedVectorType::get(scalar, vec->getNumElements()) : scalar;
  };
  switch (dtype) {
    case DType::F16: return builder_.CreateFPTrunc(value, lanes(builder_.getHalfTy()));
    case DType::BF16: {
      llvm::Value* bits = builder_.CreateBitCast(value, lanes(builder_.getInt32Ty()));
      bits = builder_.CreateLShr(bits, llvm::ConstantInt::get(lanes(builder_.getInt32Ty()), 16));
      return builder_.CreateTrunc(bits, lanes(builder_.getInt16Ty()));
    }
    case DType::Bool: return builder_.CreateZExt(value, lanes(builder_.getInt8Ty()));
    default: return value;
  }
}

Expected<BufferRef> Emitter::find_buffer(const std::string& name) {
  auto it = scope_.buffers.find(name);
  if (it == scope_.buffers.end())
    return make_error("kernel {}: buffer '{}' is used outside its scope", kernel_name_, name);
  return it->second;
}

Expected<llvm::Value*> Emitter::expr(const loop::Expr& e) {
  switch (e->kind) {
    case ExprKind::IntImm: return llvm::ConstantInt::get(reg_type(e->type), static_cast<uint64_t>(e->int_value));
    case ExprKind::FloatImm: return llvm::ConstantFP::get(reg_type(e->type), e->float_value);
    case ExprKind::Var: {
      auto it = scope_.vars.find(e->name);
      if (it == scope_.vars.end())
        return make_error("kernel {}: variable '{}' is not bound (loop IR bug)", kernel_name_, e->name);
      return it->second;
    }
    case ExprKind::Binary: return binary(*e);
    case ExprKind::Select: {
      TESSEL_ASSIGN(llvm::Value * c, expr(e->arg(0)));
      TESSEL_ASSIGN(llvm::Value * t, expr(e->arg(1)));
      TESSEL_ASSIGN(llvm::Value * f, expr(e->arg(2)));
      return builder_.CreateSelect(c, t, f);
    }
    case ExprKind::Cast: {
      TESSEL_ASSIGN(llvm::Value * x, expr(e->arg(0)));
      return cast(e->arg(0)->type, e->type, x);
    }
    case ExprKind::Reinterpret: {
      // Through the memory representations, where the bits are (f16 as half, bf16 as i16, bool as i8):
      // the same conversions that loads and stores make, so a bool result is bits != 0.
      TESSEL_ASSIGN(llvm::Value * x, expr(e->arg(0)));
      llvm::Type* bits = mem_type(e->type.elem);
      if (e->type.lanes > 1) bits = llvm::FixedVectorType::get(bits, e->type.lanes);
      return from_memory(e->type.elem, builder_.CreateBitCast(to_memory(e->arg(0)->type.elem, x), bits));
    }
    case ExprKind::Load: return load(*e);
    case ExprKind::Ramp: {
      TESSEL_ASSIGN(llvm::Value * base, expr(e->arg(0)));
      TESSEL_ASSIGN(llvm::Value * stride, expr(e->arg(1)));
      int lanes = e->type.lanes;
      std::vector<llvm::Constant*> steps;
      for (int i = 0; i < lanes; ++i) steps.push_back(llvm::ConstantInt::get(base->getType(), i));
      llvm::Value* offsets =
          builder_.CreateMul(llvm::ConstantVector::get(steps), builder_.CreateVectorSplat(lanes, stride));
      return builder_.CreateAdd(builder_.CreateVectorSplat(lanes, base), offsets);
    }
    case ExprKind::Broadcast: {
      TESSEL_ASSIGN(llvm::Value * v, expr(e->arg(0)));
      return builder_.CreateVectorSplat(e->type.lanes, v);
    }
    case ExprKind::Call: return call(*e);
  }
  return make_error("kernel {}: unknown expression kind", kernel_name_);
}

llvm::Value* Emitter::int_divide(llvm::Value* a, llvm::Value* b, bool is_unsigned, bool remainder) {
  llvm::Type* type = b->getType();
  llvm::Value* zero = llvm::Constant::getNullValue(type);
  llvm::Value* one = llvm::ConstantInt::get(type, 1);
  llvm::Value* is_zero = builder_.CreateICmpEQ(b, zero);
  if (is_unsigned) {
    llvm::Value* safe = builder_.CreateSelect(is_zero, one, b);
    llvm::Value* r = remainder ? builder_.CreateURem(a, safe) : builder_.CreateUDiv(a, safe);
    return builder_.CreateSelect(is_zero, zero, r);
  }
  // b == -1 is special-cased: INT_MIN / -1 overflows (a trap on x86); the IR says it wraps.
  llvm::Value* is_minus_one = builder_.CreateICmpEQ(b, llvm::Constant::getAllOnesValue(type));
  llvm::Value* safe = builder_.CreateSelect(builder_.CreateOr(is_zero, is_minus_one), one, b);
  llvm::Value* r = remainder ? builder_.CreateSRem(a, safe) : builder_.CreateSDiv(a, safe);
  r = builder_.CreateSelect(is_minus_one, remainder ? zero : builder_.CreateSub(zero, a), r);
  return builder_.CreateSelect(is_zero, zero, r);
}

Expected<llvm::Value*> Emitter::binary(const ExprNode& e) {
  TESSEL_ASSIGN(llvm::Value * a, expr(e.arg(0)));
  TESSEL_ASSIGN(llvm::Value * b, expr(e.arg(1)));
  DType d = e.arg(0)->type.elem;
  if (is_float(d)) {  // f16/bf16 too: they live in float registers
    llvm::Value* r = nullptr;
    switch (e.op) {
      case BinOp::Add: r = builder_.CreateFAdd(a, b); break;
      case BinOp::Sub: r = builder_.CreateFSub(a, b); break;
      case BinOp::Mul: r = builder_.CreateFMul(a, b); break;
      case BinOp::Div: r = builder_.CreateFDiv(a, b); break;
      case BinOp::Mod: r = builder_.CreateFRem(a, b); break;
      case BinOp::Min: r = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, b); break;
      case BinOp::Max: r = builder_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, b); break;
      case BinOp::Eq: return builder_.CreateFCmpOEQ(a, b);
      case BinOp::Ne: return builder_.CreateFCmpUNE(a, b);
      case BinOp::Lt: return builder_.CreateFCmpOLT(a, b);
      case BinOp::Le: return builder_.CreateFCmpOLE(a, b);
      case BinOp::Gt: return builder_.CreateFCmpOGT(a, b);
      case BinOp::Ge: return builder_.CreateFCmpOGE(a, b);
      default:
        return make_error("kernel {}: '{}' on {} has no code generation", kernel_name_, loop::binop_name(e.op),
                          dtype_name(d));
    }
    return round_to(d, r);
  }
  bool is_unsigned = !is_signed_integer(d);  // bool and unsigned compare and divide as unsigned
  switch (e.op) {
    case BinOp::Add: return builder_.CreateAdd(a, b);
    case BinOp::Sub: return builder_.CreateSub(a, b);
    case BinOp::Mul: return builder_.CreateMul(a, b);
    case BinOp::Div: return int_divide(a, b, is_unsigned, false);
    case BinOp::Mod: return int_divide(a, b, is_unsigned, true);
    case BinOp::Min:
      return builder_.CreateBinaryIntrinsic(is_unsigned ? llvm::Intrinsic::umin : llvm::Intrinsic::smin, a, b);
    case BinOp::Max:
      return builder_.CreateBinaryIntrinsic(is_unsigned ? llvm::Intrinsic::umax : llvm::Intrinsic::smax, a, b);
    case BinOp::Eq: return builder_.CreateICmpEQ(a, b);
    case BinOp::Ne: return builder_.CreateICmpNE(a, b);
    case BinOp::Lt: return is_unsigned ? builder_.CreateICmpULT(a, b) : builder_.CreateICmpSLT(a, b);
    case BinOp::Le: return is_unsigned ? builder_.CreateICmpULE(a, b) : builder_.CreateICmpSLE(a, b);
    case BinOp::Gt: return is_unsigned ? builder_.CreateICmpUGT(a, b) : builder_.CreateICmpSGT(a, b);
    case BinOp::Ge: return is_unsigned ? builder_.CreateICmpUGE(a, b) : builder_.CreateICmpSGE(a, b);
    case BinOp::And: return builder_.CreateAnd(a, b);  // bitwise on integers, logical on bool (i1)
    case BinOp::Or: return builder_.CreateOr(a, b);
    case BinOp::Xor: return builder_.CreateXor(a, b);
  }
  return make_error("kernel {}: unknown binary operation", kernel_name_);
}

Expected<llvm::Value*> Emitter::cast(loop::Type from, loop::Type to, llvm::Value* x) {
  llvm::Type* target = reg_type(to);
  if (from.elem == to.elem) return x;
  if (to.elem == DType::Bool) {
    if (is_float(from.elem)) return builder_.CreateFCmpUNE(x, llvm::Constant::getNullValue(x->getType()));
    return builder_.CreateICmpNE(x, llvm::Constant::getNullValue(x->getType()));
  }
  if (is_float(from.elem)) {
    if (is_float(to.elem)) return round_to(to.elem, builder_.CreateFPCast(x, target));
    auto id = is_signed_integer(to.elem) ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
    return builder_.CreateIntrinsic(id, {target, x->getType()}, {x});
  }
  bool from_unsigned = !is_signed_integer(from.elem);
  if (is_float(to.elem)) {
    if (to.elem == DType::F32 || to.elem == DType::F64)
      return from_unsigned ? builder_.CreateUIToFP(x, target) : builder_.CreateSIToFP(x, target);
    llvm::Type* wide = reg_type(loop::Type{DType::F64, to.lanes});
    llvm::Value* d = from_unsigned ? builder_.CreateUIToFP(x, wide) : builder_.CreateSIToFP(x, wide);
    return round_to(to.elem, builder_.CreateFPTrunc(d, target));
  }
  return builder_.CreateIntCast(x, target, !from_unsigned);
}

Expected<llvm::Value*> Emitter::load(const ExprNode& e) {
  TESSEL_ASSIGN(BufferRef buffer, find_buffer(e.name));
  llvm::Type* elem = mem_type(buffer.elem);
  llvm::Align align(dtype_size(buffer.elem));
  const loop::Expr& index = e.arg(0);
  int lanes = e.type.lanes;
  if (lanes == 1) {
    TESSEL_ASSIGN(llvm::Value * i, expr(index));
    llvm::Value* address = builder_.CreateInBoundsGEP(elem, buffer.ptr, i);
    return from_memory(buffer.elem, builder_.CreateAlignedLoad(elem, address, align));
  }
  llvm::Type* vector = llvm::FixedVectorType::get(elem, lanes);
  if (index->kind == ExprKind::Ramp && loop::is_const_int(index->arg(1), 1)) {
    TESSEL_ASSIGN(llvm::Value * base, expr(index->arg(0)));
    llvm::Value* address = builder_.CreateInBoundsGEP(elem, buffer.ptr, base);
    return from_memory(buffer.elem, builder_.CreateAlignedLoad(vector, address, align));
  }
  const int64_t* stride = index->kind == ExprKind::Ramp ? loop::as_int_const(index->arg(1)) : nullptr;
  if (stride && *stride >= 2 && *stride <= 4) {
    // A short constant stride (pooling, strided slices): one masked contiguous load of lanes x stride
    // elements, only every stride-th enabled (masked-off lanes are never read, so no bounds issue), then
    // a shuffle that keeps the enabled lanes -- much cheaper than a gather.
    int wide = lanes * static_cast<int>(*stride);
    std::vector<llvm::Constant*> mask;
    std::vector<int> keep;
    for (int i = 0; i < wide; ++i) mask.push_back(builder_.getInt1(i % *stride == 0));
    for (int i = 0; i < lanes; ++i) keep.push_back(i * static_cast<int>(*stride));
    TESSEL_ASSIGN(llvm::Value * base, expr(index->arg(0)));
    llvm::Value* address = builder_.CreateInBoundsGEP(elem, buffer.ptr, base);
    llvm::Value* loaded = builder_.CreateMaskedLoad(llvm::FixedVectorType::get(elem, wide), address, align,
                                                    llvm::ConstantVector::get(mask));
    return from_memory(buffer.elem, builder_.CreateShuffleVector(loaded, keep));
  }
  TESSEL_ASSIGN(llvm::Value * indices, expr(index));
  llvm::Value* addresses = builder_.CreateInBoundsGEP(elem, buffer.ptr, indices);
  return from_memory(buffer.elem, builder_.CreateMaskedGather(vector, addresses, align));
}

llvm::Value* Emitter::libm_call(const char* name, llvm::Value* x, llvm::Value* y) {
  llvm::Type* type = x->getType();
  auto* vec = llvm::dyn_cast<llvm::FixedVectorType>(type);
  llvm::Type* scalar = vec ? vec->getElementType() : type;
  std::string symbol = name;
  if (scalar->isFloatTy()) symbol += "f";
  std::vector<llvm::Type*> params(y ? 2 : 1, scalar);
  llvm::FunctionCallee fn = runtime_function(symbol.c_str(), llvm::FunctionType::get(scalar, params, false));
  if (!vec) return y ? builder_.CreateCall(fn, {x, y}) : builder_.CreateCall(fn, {x});
  llvm::Value* result = llvm::PoisonValue::get(type);
  for (unsigned i = 0; i < vec->getNumElements(); ++i) {
    llvm::Value* xi = builder_.CreateExtractElement(x, i);
    llvm::Value* r =
        y ? builder_.CreateCall(fn, {xi, builder_.CreateExtractElement(y, i)}) : builder_.CreateCall(fn, {xi});
    result = builder_.CreateInsertElement(result, r, i);
  }
  return result;
}

namespace {

bool is_f32_vector(llvm::Value* x) {
  auto* vec = llvm::dyn_cast<llvm::FixedVectorType>(x->getType());
  return vec && vec->getElementType()->isFloatTy();
}

}  // namespace

llvm::Value* Emitter::float_call(Intrinsic fn, llvm::Value* x, llvm::Value* y) {
  auto unary = [&](llvm::Intrinsic::ID id) { return builder_.CreateUnaryIntrinsic(id, x); };
  switch (fn) {
    case Intrinsic::Neg: return builder_.CreateFNeg(x);
    case Intrinsic::Abs: return unary(llvm::Intrinsic::fabs);
    case Intrinsic::Exp: return is_f32_vector(x) ? vector_exp_f32(x) : unary(llvm::Intrinsic::exp);
    case Intrinsic::Log: return unary(llvm::Intrinsic::log);
    case Intrinsic::Sqrt: return unary(llvm::Intrinsic::sqrt);
    case Intrinsic::Sin: return unary(llvm::Intrinsic::sin);
    case Intrinsic::Cos: return unary(llvm::Intrinsic::cos);
    case Intrinsic::Floor: return unary(llvm::Intrinsic::floor);
    case Intrinsic::Ceil: return unary(llvm::Intrinsic::ceil);
    case Intrinsic::Round: return unary(llvm::Intrinsic::roundeven);
    case Intrinsic::Pow: return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
    case Intrinsic::Sigmoid: {
      // 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise: never exp of a large positive number.
      llvm::Value* e = builder_.CreateUnaryIntrinsic(
          llvm::Intrinsic::exp, builder_.CreateFNeg(builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x)));
      llvm::Value* one = llvm::ConstantFP::get(x->getType(), 1.0);
      llvm::Value* denominator = builder_.CreateFAdd(one, e);
      llvm::Value* positive = builder_.CreateFCmpOGE(x, llvm::Constant::getNullValue(x->getType()));
      return builder_.CreateFDiv(builder_.CreateSelect(positive, one, e), denominator);
    }
    case Intrinsic::Tanh: return is_f32_vector(x) ? vector_tanh_f32(x) : libm_call("tanh", x, nullptr);
    case Intrinsic::Erf: return libm_call("erf", x, nullptr);
    case Intrinsic::Tan: return libm_call("tan", x, nullptr);
    case Intrinsic::Asin: return libm_call("asin", x, nullptr);
    case Intrinsic::Acos: return libm_call("acos", x, nullptr);
    case Intrinsic::Atan: return libm_call("atan", x, nullptr);
    case Intrinsic::Sinh: return libm_call("sinh", x, nullptr);
    case Intrinsic::Cosh: return libm_call("cosh", x, nullptr);
    case Intrinsic::Asinh: return libm_call("asinh", x, nullptr);
    case Intrinsic::Acosh: return libm_call("acosh", x, nullptr);
    case Intrinsic::Atanh: return libm_call("atanh", x, nullptr);
    default: return nullptr;
  }
}

llvm::Value* Emitter::int_call(Intrinsic fn, DType dtype, llvm::Value* x, llvm::Value* y, DType y_dtype) {
  llvm::Type* type = x->getType();
  llvm::Value* zero = llvm::Constant::getNullValue(type);
  switch (fn) {
    case Intrinsic::Neg: return builder_.CreateSub(zero, x);
    case Intrinsic::Not: return builder_.CreateNot(x);  // logical on bool (i1), bitwise on integers
    case Intrinsic::Abs:
      if (!is_signed_integer(dtype)) return x;
      return builder_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, builder_.getFalse());
    case Intrinsic::Floor:
    case Intrinsic::Ceil:
    case Intrinsic::Round: return x;
    case Intrinsic::Pow: {
      // Integer pow in the runtime (tessel_ipow), lane by lane.
      llvm::Type* i64 = builder_.getInt64Ty();
      llvm::FunctionCallee ipow =
          runtime_function("tessel_ipow", llvm::FunctionType::get(i64, {i64, i64, builder_.getInt32Ty()}, false));
      auto one_lane = [&](llvm::Value* a, llvm::Value* b) {
        llvm::Value* wide_a = builder_.CreateIntCast(a, i64, is_signed_integer(dtype));
        llvm::Value* wide_b = builder_.CreateIntCast(b, i64, is_signed_integer(y_dtype));
        llvm::Value* r = builder_.CreateCall(ipow, {wide_a, wide_b, builder_.getInt32(is_signed_integer(y_dtype))});
        return builder_.CreateTrunc(r, a->getType());
      };
      auto* vec = llvm::dyn_cast<llvm::FixedVectorType>(type);
      if (!vec) return one_lane(x, y);
      llvm::Value* result = llvm::PoisonValue::get(type);
      for (unsigned i = 0; i < vec->getNumElements(); ++i)
        result = builder_.CreateInsertElement(
            result, one_lane(builder_.CreateExtractElement(x, i), builder_.CreateExtractElement(y, i)), i);
      return result;
    }
    default: return nullptr;
  }
}

Expected<llvm::Value*> Emitter::call(const ExprNode& e) {
  TESSEL_ASSIGN(llvm::Value * x, expr(e.arg(0)));
  llvm::Value* y = nullptr;
  if (e.args.size() > 1) {
    TESSEL_ASSIGN(y, expr(e.arg(1)));
  }
  DType d = e.arg(0)->type.elem;
  if (e.fn == Intrinsic::IsNan || e.fn == Intrinsic::IsInf) {
    if (!is_float(d)) return llvm::Constant::getNullValue(reg_type(e.type));
    if (e.fn == Intrinsic::IsNan) return builder_.CreateFCmpUNO(x, x);
    llvm::Value* magnitude = builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    return builder_.CreateFCmpOEQ(magnitude, llvm::ConstantFP::getInfinity(x->getType()));
  }
  llvm::Value* r = nullptr;
  if (is_float(d)) {
    if (y && !is_float(e.arg(1)->type.elem)) {
      TESSEL_ASSIGN(y, cast(e.arg(1)->type, e.arg(0)->type, y));
    }
    r = float_call(e.fn, x, y);
    if (r) r = round_to(d, r);
  } else {
    r = int_call(e.fn, d, x, y, y ? e.arg(1)->type.elem : d);
  }
  if (!r)
    return make_error("kernel {}: {}() on {} has no code generation", kernel_name_, loop::intrinsic_name(e.fn),
                      dtype_name(d));
  return r;
}

}  // namespace tessel::llvmgen
