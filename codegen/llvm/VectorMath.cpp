// exp and tanh of f32 vectors as inline code. LLVM lowers llvm.exp on a vector to one libm call per
// lane, which makes softmax, sigmoid and GELU epilogues call-bound; these are the Cephes expf/tanhf
// approximations (range reduction + minimax polynomial), within 2 ulp of libm over the whole range.
// Scalars keep the libm calls. NaN propagates, exp(+-inf) = inf / 0, tanh(+-inf) = +-1.
#include "codegen/llvm/Emitter.h"

namespace tessel::llvmgen {

namespace {

/// Horner's rule: ((c0 * x + c1) * x + c2) ...
llvm::Value* horner(llvm::IRBuilder<>& b, llvm::Value* x, std::initializer_list<double> coefficients) {
  llvm::Value* acc = nullptr;
  for (double c : coefficients) {
    llvm::Value* constant = llvm::ConstantFP::get(x->getType(), c);
    acc = acc ? b.CreateFAdd(b.CreateFMul(acc, x), constant) : constant;
  }
  return acc;
}

}  // namespace

llvm::Value* Emitter::vector_exp_f32(llvm::Value* x) {
  llvm::IRBuilder<>& b = builder_;
  llvm::Type* type = x->getType();
  auto f = [&](double v) { return llvm::ConstantFP::get(type, v); };
  constexpr double kHigh = 88.72283935546875, kLow = -87.33654022216797;
  // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two so that n * ln2 is exact enough.
  llvm::Value* clamped = b.CreateMinNum(b.CreateMaxNum(x, f(kLow)), f(kHigh));
  llvm::Value* n = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, b.CreateFMul(clamped, f(1.44269504088896341)));
  llvm::Value* r =
      b.CreateFSub(b.CreateFSub(clamped, b.CreateFMul(n, f(0.693359375))), b.CreateFMul(n, f(-2.12194440e-4)));
  llvm::Value* p = horner(
      b, r, {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1});
  llvm::Value* y = b.CreateFAdd(b.CreateFAdd(b.CreateFMul(p, b.CreateFMul(r, r)), r), f(1.0));
  // y * 2^n with n in [-126, 128] after the clamp: 2^128 has no f32 exponent, so scale by 2^(n/2) and
  // 2^(n - n/2), both built from exponent bits and exact.
  auto* vec = llvm::cast<llvm::FixedVectorType>(type);
  llvm::Type* ints = llvm::FixedVectorType::get(b.getInt32Ty(), vec->getNumElements());
  auto power_of_two = [&](llvm::Value* e) {
    llvm::Value* biased = b.CreateAdd(e, llvm::ConstantInt::get(ints, 127));
    return b.CreateBitCast(b.CreateShl(biased, llvm::ConstantInt::get(ints, 23)), type);
  };
  llvm::Value* whole = b.CreateFPToSI(n, ints);
  llvm::Value* half = b.CreateAShr(whole, llvm::ConstantInt::get(ints, 1));
  llvm::Value* result = b.CreateFMul(b.CreateFMul(y, power_of_two(half)), power_of_two(b.CreateSub(whole, half)));
  result = b.CreateSelect(b.CreateFCmpOGT(x, f(kHigh)), f(INFINITY), result);
  result = b.CreateSelect(b.CreateFCmpOLT(x, f(kLow)), f(0.0), result);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, result);
}

llvm::Value* Emitter::vector_tanh_f32(llvm::Value* x) {
  llvm::IRBuilder<>& b = builder_;
  llvm::Type* type = x->getType();
  auto f = [&](double v) { return llvm::ConstantFP::get(type, v); };
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  // |x| < 0.625: x + x^3 P(x^2) (no cancellation near 0); else 1 - 2 / (exp(2|x|) + 1) with x's sign.
  llvm::Value* z = b.CreateFMul(x, x);
  llvm::Value* poly =
      horner(b, z, {-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1});
  llvm::Value* small = b.CreateFAdd(x, b.CreateFMul(b.CreateFMul(poly, z), x));
  llvm::Value* e = vector_exp_f32(b.CreateFMul(ax, f(2.0)));
  llvm::Value* large = b.CreateFSub(f(1.0), b.CreateFDiv(f(2.0), b.CreateFAdd(e, f(1.0))));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  llvm::Value* result = b.CreateSelect(b.CreateFCmpOLT(ax, f(0.625)), small, large);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, result);
}

}  // namespace tessel::llvmgen
