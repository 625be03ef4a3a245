// Tensor dimensions: an integer constant or a symbolic expression over named
// symbols ("N", "seq"). Expressions are kept in a canonical form -- a sum of
// monomials with integer coefficients, where a monomial is a product of atoms
// (a symbol, or a floor-division / modulo of an expression by a positive
// constant) -- so that structurally equal dims compare equal: N*32 == 32*N and
// (2*N+2)/2 == N+1.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessel {

/// Values bound to symbols, e.g. {"N": 8}.
using SymbolEnv = std::map<std::string, int64_t>;

class Dim {
 public:
  Dim() : Dim(int64_t{0}) {}
  Dim(int64_t value);  // NOLINT: constants convert implicitly, as in shape lists.
  Dim(int value) : Dim(int64_t{value}) {}
  static Dim symbol(const std::string& name);

  bool is_const() const;
  std::optional<int64_t> as_const() const;
  /// Single symbol name if the dim is exactly one symbol.
  std::optional<std::string> as_symbol() const;

  friend Dim operator+(const Dim& a, const Dim& b);
  friend Dim operator-(const Dim& a, const Dim& b);
  friend Dim operator*(const Dim& a, const Dim& b);
  Dim operator-() const;
  /// Floor division by a positive constant.
  Dim floordiv(int64_t divisor) const;
  /// Remainder of floor division by a positive constant (result in [0, divisor)).
  Dim mod(int64_t divisor) const;
  /// this / other if the quotient is exactly a dim expression (e.g. 12*N / 12 == N,
  /// N*seq / seq == N); nullopt when it is not provably exact.
  std::optional<Dim> divide_exact(const Dim& other) const;

  bool operator==(const Dim& other) const;
  bool operator!=(const Dim& other) const { return !(*this == other); }
  /// A total order (by canonical text) so dims can key maps.
  bool operator<(const Dim& other) const { return str() < other.str(); }

  /// Canonical text: "N", "2*N+1", "(N+1)/2", "N%4". Parses back with parse_dim.
  std::string str() const;
  /// Value under `env`; nullopt if a symbol is unbound.
  std::optional<int64_t> evaluate(const SymbolEnv& env) const;
  void collect_symbols(std::set<std::string>& out) const;

  struct Atom;
  struct Term;
  using Poly = std::map<std::vector<std::string>, Term>;

 private:
  explicit Dim(std::shared_ptr<const Poly> poly) : poly_(std::move(poly)) {}
  static Dim from_poly(Poly poly);
  std::shared_ptr<const Poly> poly_;
};

/// A product of atoms times a coefficient; atoms sorted by key, repeated for powers.
struct Dim::Term {
  std::vector<std::shared_ptr<const Atom>> factors;
  int64_t coeff = 0;
};

struct Dim::Atom {
  enum class Kind { Symbol, FloorDiv, Mod } kind;
  std::string name;  ///< the symbol, for Kind::Symbol
  Dim lhs;           ///< the dividend, for FloorDiv / Mod
  int64_t rhs = 1;   ///< the divisor, for FloorDiv / Mod
  std::string key;   ///< canonical text, used for ordering and equality
};

using Shape = std::vector<Dim>;

std::string shape_str(const Shape& shape);  ///< "[N, 3, 224, 224]"
/// Product of all dims (1 for a scalar).
Dim shape_numel(const Shape& shape);
/// The shape with every dim constant, or nullopt.
std::optional<std::vector<int64_t>> static_shape(const Shape& shape);
Shape to_shape(const std::vector<int64_t>& dims);

}  // namespace tessel
