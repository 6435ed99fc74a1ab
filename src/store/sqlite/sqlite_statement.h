#pragma once

// Thin RAII wrappers over the SQLite C API for sqlite_store.cc.

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meridian::store::sqlite {

// Maps an SQLite result code to a Status: constraint violations become kAlreadyExists or
// kFailedPrecondition, busy/locked kUnavailable, anything else kInternal.
absl::Status SqliteError(sqlite3* db, int code, absl::string_view what);

class Statement {
 public:
  Statement(sqlite3* db, absl::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const absl::Status& status() const { return status_; }

  Statement& Bind(int index, absl::string_view text);
  Statement& Bind(int index, int64_t value);

  // Advances; true when a row is available, false when done. Errors land in status().
  bool Step();
  // Runs a statement that returns no rows.
  absl::Status Run();

  std::string Text(int column) const;
  int64_t Int(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status status_;
};

}  // namespace meridian::store::sqlite
