// Schedule text form (parser and printer) and validation against an iteration domain.
#include "ir/Schedule.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace tessel {
namespace {

std::string list_str(const std::vector<std::string>& names) {
  return "[" + fmt::format("{}", fmt::join(names, ",")) + "]";
}

std::string factors_str(const std::vector<AxisFactor>& items, bool force_list) {
  std::vector<std::string> parts;
  for (const AxisFactor& f : items) parts.push_back(fmt::format("{}:{}", f.axis, f.factor));
  if (parts.size() == 1 && !force_list) return parts[0];
  return list_str(parts);
}

class ScheduleParser {
 public:
  explicit ScheduleParser(std::string_view text) : text_(text) {}

  Expected<Schedule> parse() {
    Schedule s;
    std::set<std::string> seen;
    while (skip_space(), pos_ < text_.size()) {
      size_t key_pos = pos_;
      std::string key = name();
      if (key.empty()) return error(key_pos, "expected a field name such as order, tile or vectorize");
      if (!seen.insert(key).second) return error(key_pos, fmt::format("field '{}' is given twice", key));
      if (!eat('=')) return error(pos_, fmt::format("expected '=' after '{}'", key));
      Status status = field(s, key, key_pos);
      if (!status.ok()) return status.error();
      if (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])))
        return error(pos_, "expected a space before the next field");
    }
    return s;
  }

 private:
  Status field(Schedule& s, const std::string& key, size_t key_pos) {
    if (key == "order") return names(s.order, true);
    if (key == "parallel") return names(s.parallel, false);
    if (key == "gpu_blocks") return names(s.gpu_blocks, true);
    if (key == "gpu_threads") return names(s.gpu_threads, true);
    if (key == "shared") return names(s.shared, true);
    if (key == "tile") return factors(s.tile, true);
    if (key == "unroll") return factors(s.unroll, false);
    if (key == "prefetch") return names(s.prefetch, false);
    if (key == "vectorize") {
      TESSEL_TRY(factors(s.vectorize, false));
      if (s.vectorize.size() > 1) return error(key_pos, "vectorize takes one axis");
      return Status::success();
    }
    return error(key_pos, fmt::format("unknown schedule field '{}'", key))
        .with_hint("fields: order, tile, vectorize, parallel, unroll, prefetch, gpu_blocks, gpu_threads, shared");
  }

  Status names(std::vector<std::string>& out, bool list_required) {
    auto item = [&]() -> Status {
      size_t at = pos_;
      std::string n = name();
      if (n.empty()) return error(at, "expected an axis name");
      out.push_back(n);
      return Status::success();
    };
    return one_or_list(out, list_required, "expected '[' to start a list of axes", item);
  }

  Status factors(std::vector<AxisFactor>& out, bool list_required) {
    auto item = [&]() -> Status {
      size_t at = pos_;
      std::string n = name();
      if (n.empty()) return error(at, "expected an axis name");
      if (!eat(':')) return error(pos_, fmt::format("expected ':' and a factor after '{}'", n)).with_hint("e.g. ow:16");
      size_t digits_at = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (digits_at == pos_ || pos_ - digits_at > 9) return error(digits_at, "expected a positive integer factor");
      int64_t factor = std::stoll(std::string(text_.substr(digits_at, pos_ - digits_at)));
      if (factor < 1) return error(digits_at, "a factor must be at least 1");
      out.push_back({n, factor});
      return Status::success();
    };
    return one_or_list(out, list_required, "expected '[' to start a list such as [oh:4,ow:16]", item);
  }

  // One item, or `[item, item, ...]` (required when `list_required`); `item` appends to `out`.
  template <typename T, typename Item>
  Status one_or_list(const std::vector<T>& out, bool list_required, const char* list_expected, Item item) {
    if (!eat('[')) {
      if (list_required) return error(pos_, list_expected);
      return item();
    }
    while (skip_space(), !eat(']')) {
      if (!out.empty() && !eat(',')) return error(pos_, "expected ',' or ']'");
      skip_space();
      TESSEL_TRY(item());
    }
    return Status::success();
  }

  std::string name() {
    size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  Error error(size_t at, std::string message) const {
    std::string got = at < text_.size() ? fmt::format(" (at '{}')", text_.substr(at, 8)) : " (at the end)";
    return Error{message + got, fmt::format("schedule:1:{}", at + 1), {}};
  }

  std::string_view text_;
  size_t pos_ = 0;
};

const DomainAxis* find_axis(const std::vector<DomainAxis>& domain, const std::string& name) {
  auto it = std::find_if(domain.begin(), domain.end(), [&](const DomainAxis& a) { return a.name == name; });
  return it == domain.end() ? nullptr : &*it;
}

std::vector<std::string> axis_names(const std::vector<DomainAxis>& domain) {
  std::vector<std::string> names;
  for (const DomainAxis& a : domain) names.push_back(a.name);
  return names;
}

}  // namespace

bool Schedule::empty() const { return str().empty(); }

std::string Schedule::str() const {
  std::vector<std::string> parts;
  if (!order.empty()) parts.push_back("order=" + list_str(order));
  if (!tile.empty()) parts.push_back("tile=" + factors_str(tile, true));
  if (!vectorize.empty()) parts.push_back("vectorize=" + factors_str(vectorize, false));
  if (!parallel.empty()) parts.push_back("parallel=" + (parallel.size() == 1 ? parallel[0] : list_str(parallel)));
  if (!unroll.empty()) parts.push_back("unroll=" + factors_str(unroll, false));
  if (!prefetch.empty()) parts.push_back("prefetch=" + (prefetch.size() == 1 ? prefetch[0] : list_str(prefetch)));
  if (!gpu_blocks.empty()) parts.push_back("gpu_blocks=" + list_str(gpu_blocks));
  if (!gpu_threads.empty()) parts.push_back("gpu_threads=" + list_str(gpu_threads));
  if (!shared.empty()) parts.push_back("shared=" + list_str(shared));
  return fmt::format("{}", fmt::join(parts, " "));
}

static int64_t factor_of(const std::vector<AxisFactor>& items, const std::string& axis) {
  for (const AxisFactor& f : items)
    if (f.axis == axis) return f.factor;
  return 0;
}

int64_t Schedule::tile_of(const std::string& axis) const { return factor_of(tile, axis); }
int64_t Schedule::vector_width_of(const std::string& axis) const { return factor_of(vectorize, axis); }
int64_t Schedule::unroll_of(const std::string& axis) const { return factor_of(unroll, axis); }

Expected<Schedule> parse_schedule(std::string_view text) { return ScheduleParser(text).parse(); }

std::string domain_str(const std::vector<DomainAxis>& domain) {
  std::vector<std::string> parts;
  for (const DomainAxis& a : domain)
    parts.push_back(fmt::format("{}: {}{}", a.name, a.extent.str(), a.reduction ? " (reduction)" : ""));
  return "[" + fmt::format("{}", fmt::join(parts, ", ")) + "]";
}

Status validate_schedule(const Schedule& s, const std::vector<DomainAxis>& domain, std::vector<std::string>* notes) {
  std::string known = fmt::format("axes of this kernel: {}", fmt::join(axis_names(domain), ", "));
  auto check = [&](const std::string& field, const std::string& axis, bool spatial_only) -> Status {
    const DomainAxis* a = find_axis(domain, axis);
    if (!a) return make_error("schedule {}: unknown axis '{}'", field, axis).with_hint(known);
    if (spatial_only && a->reduction)
      return make_error("schedule {}: axis '{}' is a reduction axis; {} needs a spatial (output) axis", field, axis,
                        field);
    return Status::success();
  };
  auto check_list = [&](const std::string& field, const std::vector<std::string>& names, bool spatial_only) -> Status {
    std::set<std::string> seen;
    for (const std::string& n : names) {
      TESSEL_TRY(check(field, n, spatial_only));
      if (!seen.insert(n).second) return make_error("schedule {}: axis '{}' appears twice", field, n);
    }
    return Status::success();
  };
  auto check_factors = [&](const std::string& field, const std::vector<AxisFactor>& items,
                           bool spatial_only) -> Status {
    std::vector<std::string> names;
    for (const AxisFactor& f : items) {
      names.push_back(f.axis);
      if (f.factor < 1)
        return make_error("schedule {}: factor of '{}' must be at least 1, got {}", field, f.axis, f.factor);
      if (!find_axis(domain, f.axis)) continue;
      auto extent = find_axis(domain, f.axis)->extent.as_const();
      if (notes && extent && f.factor > *extent)
        notes->push_back(fmt::format("{} {}:{} is larger than the axis extent {}", field, f.axis, f.factor, *extent));
    }
    return check_list(field, names, spatial_only);
  };
  TESSEL_TRY(check_list("order", s.order, false));
  TESSEL_TRY(check_factors("tile", s.tile, false));
  TESSEL_TRY(check_factors("vectorize", s.vectorize, true));
  TESSEL_TRY(check_list("parallel", s.parallel, true));
  TESSEL_TRY(check_factors("unroll", s.unroll, false));
  TESSEL_TRY(check_list("prefetch", s.prefetch, true));
  TESSEL_TRY(check_list("gpu_blocks", s.gpu_blocks, true));
  TESSEL_TRY(check_list("gpu_threads", s.gpu_threads, true));
  for (const AxisFactor& v : s.vectorize) {
    if (v.factor < 2 || v.factor > 1024 || (v.factor & (v.factor - 1)) != 0)
      return make_error("schedule vectorize: width {} of '{}' is not a power of two in [2, 1024]", v.factor, v.axis);
    int64_t tile = s.tile_of(v.axis);
    if (tile && tile % v.factor != 0)
      return make_error("schedule vectorize: width {} of '{}' does not divide its tile {}", v.factor, v.axis, tile);
    if (s.unroll_of(v.axis) && !tile)
      return make_error("schedule unroll: '{}' is vectorized and not tiled, so it has no scalar loop to unroll",
                        v.axis);
  }
  for (const std::string& t : s.gpu_threads)
    if (!s.tile_of(t))
      return make_error("schedule gpu_threads: axis '{}' is not tiled; its tile size is the thread count", t)
          .with_hint(fmt::format("add tile=[{}:32] or similar", t));
  if (!s.gpu_threads.empty() && (!s.vectorize.empty() || !s.parallel.empty()))
    return make_error("schedule: gpu_threads does not combine with vectorize or parallel (CPU mappings)");
  if (!s.prefetch.empty() && (!s.gpu_blocks.empty() || !s.gpu_threads.empty()))
    return make_error("schedule: prefetch is a CPU cache hint and does not combine with gpu_blocks or gpu_threads");
  return Status::success();
}

}  // namespace tessel
