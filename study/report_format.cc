#include "study/report_format.h"

#include <cstdio>

namespace thaw {

using json = nlohmann::json;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string number_or_dash(const json& v, int digits) { return v.is_number() ? fixed(v.get<double>(), digits) : "-"; }

std::string p_value(const json& v) {
  if (!v.is_number()) return "-";
  const double p = v.get<double>();
  if (p < 1e-4) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1e", p);
    return buf;
  }
  return fixed(p, 4);
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace thaw
