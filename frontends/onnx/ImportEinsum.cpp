// Einsum as a composition: every operand is brought to one shared letter order (diagonals of repeated
// letters taken by masking with an identity and summing), broadcast-multiplied with the others, summed
// over the letters the output drops, and transposed to the output's order. Simple and exact; it
// materializes the full product, which is fine for the small contractions Einsum usually expresses
// (matmul-shaped ones could later map to matmul). "..." stands for right-aligned broadcast dims.
#include <algorithm>
#include <map>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

// Letters of one term, with "..." expanded into `ellipsis` placeholder letters ('0', '1', ...).
std::optional<std::string> expand_term(const std::string& term, int64_t rank) {
  auto dots = term.find("...");
  if (dots == std::string::npos) return term;
  int64_t named = static_cast<int64_t>(term.size()) - 3;
  int64_t count = rank - named;
  if (count < 0 || count > 10) return std::nullopt;
  std::string ellipsis;
  // Right-aligned: the last ellipsis dim is always '9', so operands of different ranks line up.
  for (int64_t i = 0; i < count; ++i) ellipsis += static_cast<char>('9' - (count - 1 - i));
  return term.substr(0, dots) + ellipsis + term.substr(dots + 3);
}

// Takes the diagonal of `x` wherever a letter repeats, so each letter appears once.
Value* take_diagonals(NodeContext& ctx, Value* x, std::string& letters) {
  for (size_t a = 0; a < letters.size() && x; ++a) {
    size_t b = letters.find(letters[a], a + 1);
    if (b == std::string::npos) continue;
    auto n = x->type().shape[a].as_const();
    if (!n) return ctx.fail_unsupported(make_error("Einsum diagonals need constant dims, got {}", x->type().str()));
    std::vector<int64_t> shape(static_cast<size_t>(x->type().rank()), 1);
    shape[a] = shape[b] = *n;
    Tensor eye(x->type().dtype, shape);
    int64_t stride_a = 1, stride_b = 1;
    for (size_t i = a + 1; i < shape.size(); ++i) stride_a *= shape[i];
    for (size_t i = b + 1; i < shape.size(); ++i) stride_b *= shape[i];
    for (int64_t i = 0; i < *n; ++i) eye.set_double(i * stride_a + i * stride_b, 1.0);
    x = ctx.op(OpKind::ReduceSum, {ctx.op(OpKind::Mul, {x, ctx.constant(eye, "eye")})},
               {{"axes", std::vector<int64_t>{static_cast<int64_t>(b)}}, {"keepdims", int64_t{0}}});
    letters.erase(b, 1);
    --a;  // the letter may repeat a third time
  }
  return x;
}

}  // namespace

void import_einsum(NodeContext& ctx) {
  std::string equation;
  for (char c : ctx.attr_s("equation"))
    if (c != ' ') equation += c;
  auto arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != ctx.num_inputs())
    return (void)ctx.fail(
        make_error("equation '{}' has {} terms for {} inputs", equation, terms.size(), ctx.num_inputs()));

  std::vector<Value*> operands;
  std::vector<std::string> letters;
  int64_t max_ellipsis = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    Value* x = ctx.input(static_cast<int>(i));
    if (!x) return;
    auto expanded = expand_term(terms[i], x->type().rank());
    if (!expanded || static_cast<int64_t>(expanded->size()) != x->type().rank())
      return (void)ctx.fail(make_error("term '{}' does not match input {}", terms[i], x->type().str()));
    if (terms[i].find("...") != std::string::npos)
      max_ellipsis = std::max<int64_t>(max_ellipsis, x->type().rank() - (static_cast<int64_t>(terms[i].size()) - 3));
    x = take_diagonals(ctx, x, *expanded);
    operands.push_back(x);
    letters.push_back(*expanded);
  }
  std::string output;
  if (arrow != std::string::npos) {
    output = equation.substr(arrow + 2);
    auto dots = output.find("...");
    if (dots != std::string::npos) {
      std::string ellipsis;
      for (int64_t i = 0; i < max_ellipsis; ++i) ellipsis += static_cast<char>('9' - (max_ellipsis - 1 - i));
      output = output.substr(0, dots) + ellipsis + output.substr(dots + 3);
    }
  } else {
    // Implicit output: ellipsis dims, then the letters used once, alphabetically.
    std::map<char, int> uses;
    for (const auto& l : letters)
      for (char c : l) ++uses[c];
    for (const auto& [c, n] : uses)
      if (std::isdigit(static_cast<unsigned char>(c))) output += c;
    for (const auto& [c, n] : uses)
      if (!std::isdigit(static_cast<unsigned char>(c)) && n == 1) output += c;
  }
  // The shared order: output letters first, then the summed ones.
  std::string all = output;
  for (const auto& l : letters)
    for (char c : l)
      if (all.find(c) == std::string::npos) all += c;

  Value* product = nullptr;
  for (size_t i = 0; i < operands.size(); ++i) {
    Value* x = operands[i];
    if (!x) return;
    std::vector<int64_t> perm;
    std::string ordered;
    for (char c : all)
      if (auto pos = letters[i].find(c); pos != std::string::npos) {
        perm.push_back(static_cast<int64_t>(pos));
        ordered += c;
      }
    if (perm.size() > 1) x = ctx.op(OpKind::Transpose, {x}, {{"perm", perm}});
    std::vector<int64_t> missing;
    for (size_t k = 0; k < all.size(); ++k)
      if (ordered.find(all[k]) == std::string::npos) missing.push_back(static_cast<int64_t>(k));
    if (!missing.empty()) x = ctx.op(OpKind::Unsqueeze, {x}, {{"axes", missing}});
    product = product ? ctx.op(OpKind::Mul, {product, x}) : x;
  }
  std::vector<int64_t> summed;
  for (size_t k = output.size(); k < all.size(); ++k) summed.push_back(static_cast<int64_t>(k));
  if (!summed.empty()) product = ctx.op(OpKind::ReduceSum, {product}, {{"axes", summed}, {"keepdims", int64_t{0}}});
  ctx.set_output(0, product);
}

}  // namespace tessel::onnx
