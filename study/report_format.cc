#include "study/report_format.h"

#include <cstdio>
#include <sstream>

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

std::string markdown_table(const std::vector<std::vector<std::string>>& rows, bool code) {
  std::ostringstream os;
  for (size_t i = 0; i < rows.size(); ++i) {
    os << '|';
    for (const std::string& c : rows[i]) os << ' ' << (i > 0 && code ? "`" + c + "`" : c) << " |";
    os << '\n';
    if (i == 0) {
      os << '|';
      for (size_t j = 0; j < rows[0].size(); ++j) os << " --- |";
      os << '\n';
    }
  }
  return os.str();
}

std::string html_table(const std::vector<std::vector<std::string>>& rows, bool code) {
  std::ostringstream os;
  os << "<div class=\"wide\"><table>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    os << "<tr>";
    for (const std::string& c : rows[i]) {
      if (i == 0) {
        os << "<th>" << html_escape(c) << "</th>";
      } else {
        os << "<td>" << (code ? "<code>" : "") << html_escape(c) << (code ? "</code>" : "") << "</td>";
      }
    }
    os << "</tr>\n";
  }
  os << "</table></div>\n";
  return os.str();
}

}  // namespace thaw
