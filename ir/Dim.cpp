#include "ir/Dim.h"

#include <algorithm>

#include <fmt/format.h>

namespace tessel {
namespace {

using Term = Dim::Term;
using Atom = Dim::Atom;
using Poly = Dim::Poly;

std::vector<std::string> keys_of(const std::vector<std::shared_ptr<const Atom>>& factors) {
  std::vector<std::string> keys;
  for (const auto& atom : factors) keys.push_back(atom->key);
  return keys;
}

void add_term(Poly& poly, const Term& term) {
  if (term.coeff == 0) return;
  auto key = keys_of(term.factors);
  auto [it, inserted] = poly.try_emplace(key, term);
  if (inserted) return;
  it->second.coeff += term.coeff;
  if (it->second.coeff == 0) poly.erase(it);
}

Term multiply_terms(const Term& a, const Term& b) {
  Term product;
  product.coeff = a.coeff * b.coeff;
  product.factors = a.factors;
  product.factors.insert(product.factors.end(), b.factors.begin(), b.factors.end());
  std::stable_sort(product.factors.begin(), product.factors.end(),
                   [](const auto& x, const auto& y) { return x->key < y->key; });
  return product;
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

// True if the poly is a single atom with coefficient 1 (prints without parentheses).
bool is_single_atom(const Dim& dim) { return dim.as_symbol().has_value(); }

std::string term_str(const Term& term) {
  // A division or modulo atom inside a product needs parentheses: "3*((N+1)/2)"
  // must not read back as "(3*(N+1))/2".
  bool bare = term.coeff == 1 && term.factors.size() == 1;
  std::string factors;
  for (const auto& atom : term.factors) {
    if (!factors.empty()) factors += "*";
    bool wrap = !bare && atom->kind != Atom::Kind::Symbol;
    factors += wrap ? "(" + atom->key + ")" : atom->key;
  }
  if (factors.empty()) return std::to_string(term.coeff);
  if (term.coeff == 1) return factors;
  if (term.coeff == -1) return "-" + factors;
  return std::to_string(term.coeff) + "*" + factors;
}

}  // namespace

Dim Dim::from_poly(Poly poly) { return Dim(std::make_shared<const Poly>(std::move(poly))); }

Dim::Dim(int64_t value) {
  Poly poly;
  if (value != 0) poly[{}] = Term{{}, value};
  poly_ = std::make_shared<const Poly>(std::move(poly));
}

Dim Dim::symbol(const std::string& name) {
  auto atom = std::make_shared<Atom>();
  atom->kind = Atom::Kind::Symbol;
  atom->name = name;
  atom->key = name;
  Poly poly;
  poly[{name}] = Term{{atom}, 1};
  return from_poly(std::move(poly));
}

bool Dim::is_const() const { return poly_->empty() || (poly_->size() == 1 && poly_->begin()->first.empty()); }

std::optional<int64_t> Dim::as_const() const {
  if (poly_->empty()) return 0;
  if (!is_const()) return std::nullopt;
  return poly_->begin()->second.coeff;
}

std::optional<std::string> Dim::as_symbol() const {
  if (poly_->size() != 1) return std::nullopt;
  const Term& term = poly_->begin()->second;
  if (term.coeff != 1 || term.factors.size() != 1) return std::nullopt;
  if (term.factors[0]->kind != Atom::Kind::Symbol) return std::nullopt;
  return term.factors[0]->name;
}

Dim operator+(const Dim& a, const Dim& b) {
  Poly sum = *a.poly_;
  for (const auto& [key, term] : *b.poly_) add_term(sum, term);
  return Dim::from_poly(std::move(sum));
}

Dim Dim::operator-() const {
  Poly negated = *poly_;
  for (auto& [key, term] : negated) term.coeff = -term.coeff;
  return from_poly(std::move(negated));
}

Dim operator-(const Dim& a, const Dim& b) { return a + (-b); }

Dim operator*(const Dim& a, const Dim& b) {
  Poly product;
  for (const auto& [ka, ta] : *a.poly_)
    for (const auto& [kb, tb] : *b.poly_) add_term(product, multiply_terms(ta, tb));
  return Dim::from_poly(std::move(product));
}

Dim Dim::floordiv(int64_t divisor) const {
  if (divisor == 1) return *this;
  // (d*X + Y) floordiv d == X + Y floordiv d, exactly, for integers.
  Poly quotient, remainder;
  for (const auto& [key, term] : *poly_) {
    if (term.coeff % divisor == 0) {
      add_term(quotient, Term{term.factors, term.coeff / divisor});
    } else {
      add_term(remainder, term);
    }
  }
  Dim rest = from_poly(std::move(remainder));
  Dim result = from_poly(std::move(quotient));
  if (auto value = rest.as_const()) return result + Dim(floor_div(*value, divisor));
  auto atom = std::make_shared<Atom>();
  atom->kind = Atom::Kind::FloorDiv;
  atom->lhs = rest;
  atom->rhs = divisor;
  atom->key = (is_single_atom(rest) ? rest.str() : "(" + rest.str() + ")") + "/" + std::to_string(divisor);
  Poly poly;
  poly[{atom->key}] = Term{{atom}, 1};
  return result + from_poly(std::move(poly));
}

Dim Dim::mod(int64_t divisor) const {
  if (divisor == 1) return Dim(0);
  Poly remainder;
  for (const auto& [key, term] : *poly_)
    if (term.coeff % divisor != 0) add_term(remainder, term);
  Dim rest = from_poly(std::move(remainder));
  if (auto value = rest.as_const()) return Dim(floor_mod(*value, divisor));
  auto atom = std::make_shared<Atom>();
  atom->kind = Atom::Kind::Mod;
  atom->lhs = rest;
  atom->rhs = divisor;
  atom->key = (is_single_atom(rest) ? rest.str() : "(" + rest.str() + ")") + "%" + std::to_string(divisor);
  Poly poly;
  poly[{atom->key}] = Term{{atom}, 1};
  return from_poly(std::move(poly));
}

std::optional<Dim> Dim::divide_exact(const Dim& other) const {
  if (other.poly_->size() != 1) {
    if (*this == other) return Dim(1);
    return std::nullopt;
  }
  const Term& divisor = other.poly_->begin()->second;
  Poly quotient;
  for (const auto& [key, term] : *poly_) {
    if (term.coeff % divisor.coeff != 0) return std::nullopt;
    // Remove each factor of the divisor once from the term's factors.
    auto factors = term.factors;
    for (const auto& atom : divisor.factors) {
      auto it = std::find_if(factors.begin(), factors.end(),
                             [&](const auto& candidate) { return candidate->key == atom->key; });
      if (it == factors.end()) return std::nullopt;
      factors.erase(it);
    }
    add_term(quotient, Term{factors, term.coeff / divisor.coeff});
  }
  return from_poly(std::move(quotient));
}

bool Dim::operator==(const Dim& other) const {
  if (poly_ == other.poly_) return true;
  if (poly_->size() != other.poly_->size()) return false;
  for (auto a = poly_->begin(), b = other.poly_->begin(); a != poly_->end(); ++a, ++b)
    if (a->first != b->first || a->second.coeff != b->second.coeff) return false;
  return true;
}

std::string Dim::str() const {
  if (poly_->empty()) return "0";
  std::string text;
  const Term* constant = nullptr;
  for (const auto& [key, term] : *poly_) {
    if (key.empty()) {
      constant = &term;
      continue;
    }
    std::string part = term_str(term);
    if (!text.empty() && part[0] != '-') text += "+";
    text += part;
  }
  if (constant) {
    std::string part = term_str(*constant);
    if (!text.empty() && part[0] != '-') text += "+";
    text += part;
  }
  return text;
}

std::optional<int64_t> Dim::evaluate(const SymbolEnv& env) const {
  int64_t total = 0;
  for (const auto& [key, term] : *poly_) {
    int64_t value = term.coeff;
    for (const auto& atom : term.factors) {
      int64_t factor = 0;
      if (atom->kind == Atom::Kind::Symbol) {
        auto it = env.find(atom->name);
        if (it == env.end()) return std::nullopt;
        factor = it->second;
      } else {
        auto lhs = atom->lhs.evaluate(env);
        if (!lhs) return std::nullopt;
        factor = atom->kind == Atom::Kind::FloorDiv ? floor_div(*lhs, atom->rhs) : floor_mod(*lhs, atom->rhs);
      }
      value *= factor;
    }
    total += value;
  }
  return total;
}

void Dim::collect_symbols(std::set<std::string>& out) const {
  for (const auto& [key, term] : *poly_)
    for (const auto& atom : term.factors) {
      if (atom->kind == Atom::Kind::Symbol) {
        out.insert(atom->name);
      } else {
        atom->lhs.collect_symbols(out);
      }
    }
}

std::string shape_str(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += shape[i].str();
  }
  return text + "]";
}

Dim shape_numel(const Shape& shape) {
  Dim numel(1);
  for (const Dim& dim : shape) numel = numel * dim;
  return numel;
}

std::optional<std::vector<int64_t>> static_shape(const Shape& shape) {
  std::vector<int64_t> dims;
  for (const Dim& dim : shape) {
    auto value = dim.as_const();
    if (!value) return std::nullopt;
    dims.push_back(*value);
  }
  return dims;
}

Shape to_shape(const std::vector<int64_t>& dims) { return Shape(dims.begin(), dims.end()); }

}  // namespace tessel
