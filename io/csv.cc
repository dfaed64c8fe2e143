#include "io/csv.h"

#include "core/error.h"
#include "core/memory.h"
#include "io/file_bytes.h"

namespace thaw {

int CsvTable::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

bool is_blank(const std::vector<std::string>& record) { return record.size() == 1 && record[0].empty(); }

// The limits of csv.h, counted as each field is completed. Each field costs a std::string (32
// bytes) whatever its length, so a file of commas would expand 32 times: the parsed table's size is
// checked against memory as it grows, every 2^20 fields.
class FieldBudget {
 public:
  explicit FieldBudget(const std::string& name) : name_(name) {}
  void add(const std::string& field, size_t record_fields, int64_t line, int64_t record_line) {
    if (field.size() > kMaxCsvFieldBytes) {
      fail_user(name_, ": line ", line, ": a field of more than ", kMaxCsvFieldBytes >> 20, " MiB");
    }
    if ((++fields_ & ((int64_t{1} << 20) - 1)) == 0) {
      check_fits_in_memory(fields_ * static_cast<int64_t>(sizeof(std::string)) * 2, cat_str("the fields of ", name_));
    }
    if (static_cast<int64_t>(record_fields) >= kMaxCsvColumns) {
      fail_user(name_, ": line ", record_line, ": more than ", kMaxCsvColumns, " fields in one record");
    }
  }

 private:
  const std::string& name_;
  int64_t fields_ = 0;
};

// A quoted field from text[i] (the opening quote) to just past its closing quote; `line` counts
// the line breaks inside it.
void read_quoted(std::string_view text, size_t& i, std::string& field, int64_t& line, const std::string& name) {
  const int64_t open_line = line;
  const size_t n = text.size();
  ++i;
  while (true) {
    if (i >= n) fail_user(name, ": line ", open_line, ": a quoted field is never closed");
    const char c = text[i];
    if (c == '"') {
      if (i + 1 < n && text[i + 1] == '"') {
        field += '"';
        i += 2;
        continue;
      }
      ++i;
      break;
    }
    if (c == '\n') ++line;
    field += c;
    ++i;
  }
  if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
    fail_user(name, ": line ", line, ": unexpected character after a closing quote (expected a comma or a line end)");
  }
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& name) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable t;
  t.source = name;
  std::vector<std::string> record;
  std::string field;
  int64_t line = 1, record_line = 1;
  size_t i = 0;
  const size_t n = text.size();
  FieldBudget budget(name);
  auto count_field = [&] { budget.add(field, record.size(), line, record_line); };
  auto end_record = [&] {
    count_field();
    record.push_back(std::move(field));
    field.clear();
    if (!is_blank(record)) {
      if (t.header.empty()) {
        t.header = std::move(record);
      } else {
        if (record.size() != t.header.size()) {
          fail_user(name, ": line ", record_line, ": expected ", t.header.size(), " fields as in the header, got ",
                    record.size());
        }
        t.rows.push_back(std::move(record));
        t.lines.push_back(record_line);
      }
    }
    record.clear();
  };
  while (i < n) {
    // At the start of a field.
    if (text[i] == '"') {
      read_quoted(text, i, field, line, name);
    } else {
      while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        if (text[i] == '"') {
          fail_user(name, ": line ", line, ": a quote inside an unquoted field (quote the whole field and double the "
                    "quote: \"a \"\"b\"\"\")");
        }
        field += text[i++];
      }
    }
    if (i >= n) break;
    if (text[i] == ',') {
      count_field();
      record.push_back(std::move(field));
      field.clear();
      ++i;
      if (i >= n) break;  // a trailing comma at the end of the text: one more (empty) field
      continue;
    }
    // A line end: CRLF, LF, or a lone CR.
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
    ++i;
    end_record();
    ++line;
    record_line = line;
  }
  if (!record.empty() || !field.empty()) end_record();
  if (t.header.empty()) fail_user(name, ": no header line (expected a CSV file with a header)");
  return t;
}

CsvTable read_csv(const std::filesystem::path& path) { return parse_csv(read_file_bytes(path), path.string()); }

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace thaw
