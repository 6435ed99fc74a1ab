#include "store/sqlite/sqlite_store.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite/sqlite_statement.h"
#include "store/tags_json.h"

namespace meridian::store {
namespace {

using sqlite::Statement;

// Each entry moves the schema one version up; never edit an entry once released.
const std::vector<const char*>& Migrations() {
  static const auto* const migrations = new std::vector<const char*>{
      // 1: models, versions, aliases and their history, references.
      R"sql(
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        owner TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL);
      CREATE TABLE versions (
        model TEXT NOT NULL REFERENCES models(name),
        version TEXT NOT NULL,
        framework TEXT NOT NULL,
        artifact_digest TEXT NOT NULL,
        artifact_size INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        tags TEXT NOT NULL,
        source_uri TEXT NOT NULL,
        parent_version TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (model, version));
      CREATE INDEX versions_by_digest ON versions(artifact_digest);
      CREATE TABLE aliases (
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        version TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES versions(model, version));
      CREATE TABLE alias_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        previous_version TEXT NOT NULL,
        version TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        time INTEGER NOT NULL);
      CREATE INDEX alias_events_by_alias ON alias_events(model, alias, id);
      CREATE TABLE version_references (
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        holder TEXT NOT NULL,
        PRIMARY KEY (model, version, holder),
        FOREIGN KEY (model, version) REFERENCES versions(model, version));
      )sql",
      // 2: API tokens (hashes only), roles, role bindings, the audit log.
      R"sql(
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        description TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER NOT NULL);
      CREATE TABLE roles (
        name TEXT PRIMARY KEY,
        rules TEXT NOT NULL,
        updated_at INTEGER NOT NULL);
      CREATE TABLE role_bindings (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        subjects TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, name));
      CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        client TEXT NOT NULL,
        method TEXT NOT NULL,
        target TEXT NOT NULL,
        namespace TEXT NOT NULL,
        resource TEXT NOT NULL,
        verb TEXT NOT NULL,
        status INTEGER NOT NULL,
        result TEXT NOT NULL,
        reason TEXT NOT NULL);
      CREATE INDEX audit_events_by_time ON audit_events(time);
      CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      )sql",
      R"sql(
      CREATE TABLE deployments (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        current_revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, name));
      CREATE TABLE deployment_revisions (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        spec TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, name, revision),
        FOREIGN KEY (namespace, name) REFERENCES deployments(namespace, name) ON DELETE CASCADE);
      CREATE TABLE resource_quotas (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        hard TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, name));
      )sql",
  };
  return *migrations;
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

absl::Status NotFound(absl::string_view what) { return absl::NotFoundError(what); }

constexpr char kVersionColumns[] =
    "model, version, framework, artifact_digest, artifact_size, metadata, tags, source_uri, "
    "parent_version, run_id, created_by, created_at, status";

absl::StatusOr<VersionRecord> ReadVersion(const Statement& s) {
  VersionRecord v;
  v.model = s.Text(0);
  v.version = s.Text(1);
  v.framework = s.Text(2);
  v.artifact_digest = s.Text(3);
  v.artifact_size = static_cast<uint64_t>(s.Int(4));
  v.metadata_json = s.Text(5);
  ASSIGN_OR_RETURN(v.tags, TagsFromJson(s.Text(6)));
  v.lineage = Lineage{s.Text(7), s.Text(8), s.Text(9)};
  v.created_by = s.Text(10);
  v.created_at = FromMicros(s.Int(11));
  ASSIGN_OR_RETURN(v.status, ParseVersionStatus(s.Text(12)));
  return v;
}

absl::StatusOr<ModelRecord> ReadModel(const Statement& s) {
  ModelRecord m;
  m.name = s.Text(0);
  m.namespace_name = s.Text(1);
  m.description = s.Text(2);
  ASSIGN_OR_RETURN(m.tags, TagsFromJson(s.Text(3)));
  m.owner = s.Text(4);
  m.created_at = FromMicros(s.Int(5));
  m.updated_at = FromMicros(s.Int(6));
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open database ", options.path, ": ", message));
  }
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(db));
  RETURN_IF_ERROR(store->Migrate());
  return store;
}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::Status SqliteStore::Exec(absl::string_view sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    absl::Status s = sqlite::SqliteError(db_, rc, "executing SQL");
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Migrate() {
  absl::MutexLock lock(&mu_);
  sqlite3_busy_timeout(db_, 5000);
  RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  int current = 0;
  {
    Statement s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (s.Step()) current = static_cast<int>(s.Int(0));
    RETURN_IF_ERROR(s.status());
  }
  const auto& migrations = Migrations();
  if (current > static_cast<int>(migrations.size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database schema (version ", current, ") is newer than this meridian understands (",
        migrations.size(), "); upgrade meridian"));
  }
  for (int v = current + 1; v <= static_cast<int>(migrations.size()); ++v) {
    RETURN_IF_ERROR(InTransaction([&]() -> absl::Status {
      RETURN_IF_ERROR(Exec(migrations[v - 1]));
      Statement s(db_, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      return s.Bind(1, int64_t{v}).Bind(2, ToMicros(absl::Now())).Run();
    }));
  }
  return absl::OkStatus();
}

int SqliteStore::schema_version() {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return s.Step() ? static_cast<int>(s.Int(0)) : 0;
}

absl::StatusOr<bool> SqliteStore::ModelExists(absl::string_view name) {
  Statement s(db_, "SELECT 1 FROM models WHERE name = ?");
  s.Bind(1, name);
  bool found = s.Step();
  RETURN_IF_ERROR(s.status());
  return found;
}

absl::Status SqliteStore::CreateModel(const ModelRecord& m) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "INSERT INTO models (name, namespace, description, tags, owner, created_at, updated_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, m.name).Bind(2, m.namespace_name).Bind(3, m.description).Bind(4, TagsToJson(m.tags))
      .Bind(5, m.owner).Bind(6, ToMicros(m.created_at)).Bind(7, ToMicros(m.updated_at));
  absl::Status status = s.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("model \"", m.name, "\" already exists"));
  }
  return status;
}

absl::StatusOr<ModelRecord> SqliteStore::GetModel(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT name, namespace, description, tags, owner, created_at, updated_at FROM models "
              "WHERE name = ?");
  s.Bind(1, name);
  if (!s.Step()) {
    RETURN_IF_ERROR(s.status());
    return NotFound(absl::StrCat("model \"", name, "\" not found"));
  }
  return ReadModel(s);
}

absl::StatusOr<ModelPage> SqliteStore::ListModels(const ListModelsOptions& options) {
  std::string after;
  if (!options.page_token.empty()) {
    if (!absl::WebSafeBase64Unescape(options.page_token, &after) || after.empty()) {
      return absl::InvalidArgumentError("invalid pageToken: pass the nextPageToken of the previous page");
    }
  }
  const int page_size = std::clamp(options.page_size, 1, 1000);
  absl::MutexLock lock(&mu_);
  std::string sql =
      "SELECT name, namespace, description, tags, owner, created_at, updated_at FROM models "
      "WHERE name > ? AND substr(name, 1, length(?)) = ?";
  if (options.tag) sql += " AND json_extract(tags, ?) = ?";
  sql += " ORDER BY name LIMIT ?";
  Statement s(db_, sql);
  s.Bind(1, after).Bind(2, options.name_prefix).Bind(3, options.name_prefix);
  int next = 4;
  if (options.tag) {
    s.Bind(4, absl::StrCat("$.\"", options.tag->first, "\"")).Bind(5, options.tag->second);
    next = 6;
  }
  s.Bind(next, int64_t{page_size + 1});
  ModelPage page;
  while (s.Step()) {
    ASSIGN_OR_RETURN(ModelRecord m, ReadModel(s));
    page.models.push_back(std::move(m));
  }
  RETURN_IF_ERROR(s.status());
  if (static_cast<int>(page.models.size()) > page_size) {
    page.models.pop_back();
    page.next_page_token = absl::WebSafeBase64Escape(page.models.back().name);
  }
  return page;
}

absl::Status SqliteStore::UpdateModel(const ModelRecord& m) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "UPDATE models SET description = ?, tags = ?, updated_at = ? WHERE name = ?");
  RETURN_IF_ERROR(s.Bind(1, m.description).Bind(2, TagsToJson(m.tags)).Bind(3, ToMicros(m.updated_at))
                      .Bind(4, m.name).Run());
  if (sqlite3_changes(db_) == 0) return NotFound(absl::StrCat("model \"", m.name, "\" not found"));
  return absl::OkStatus();
}

absl::Status SqliteStore::DeleteModel(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(bool exists, ModelExists(name));
    if (!exists) return NotFound(absl::StrCat("model \"", name, "\" not found"));
    Statement count(db_, "SELECT COUNT(*) FROM versions WHERE model = ?");
    count.Bind(1, name);
    const int64_t versions = count.Step() ? count.Int(0) : 0;
    RETURN_IF_ERROR(count.status());
    if (versions > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model \"", name, "\" still has ", versions, " version(s); delete them first"));
    }
    RETURN_IF_ERROR(Statement(db_, "DELETE FROM alias_events WHERE model = ?").Bind(1, name).Run());
    return Statement(db_, "DELETE FROM models WHERE name = ?").Bind(1, name).Run();
  });
}

absl::Status SqliteStore::CreateVersion(const VersionRecord& v) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(bool exists, ModelExists(v.model));
    if (!exists) return NotFound(absl::StrCat("model \"", v.model, "\" not found"));
    Statement s(db_, absl::StrCat("INSERT INTO versions (", kVersionColumns,
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    s.Bind(1, v.model).Bind(2, v.version).Bind(3, v.framework).Bind(4, v.artifact_digest)
        .Bind(5, static_cast<int64_t>(v.artifact_size)).Bind(6, v.metadata_json)
        .Bind(7, TagsToJson(v.tags)).Bind(8, v.lineage.source_uri).Bind(9, v.lineage.parent_version)
        .Bind(10, v.lineage.run_id).Bind(11, v.created_by).Bind(12, ToMicros(v.created_at))
        .Bind(13, VersionStatusName(v.status));
    absl::Status status = s.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(
          absl::StrCat("version ", v.version, " of model \"", v.model, "\" already exists"));
    }
    return status;
  });
}

absl::StatusOr<VersionRecord> SqliteStore::GetVersionLocked(absl::string_view model,
                                                            absl::string_view version) {
  Statement s(db_, absl::StrCat("SELECT ", kVersionColumns, " FROM versions WHERE model = ? AND version = ?"));
  s.Bind(1, model).Bind(2, version);
  if (!s.Step()) {
    RETURN_IF_ERROR(s.status());
    return NotFound(absl::StrCat("version ", version, " of model \"", model, "\" not found"));
  }
  return ReadVersion(s);
}

absl::StatusOr<VersionRecord> SqliteStore::GetVersion(absl::string_view model, absl::string_view version) {
  absl::MutexLock lock(&mu_);
  return GetVersionLocked(model, version);
}

absl::StatusOr<std::vector<VersionRecord>> SqliteStore::ListVersions(absl::string_view model) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(bool exists, ModelExists(model));
  if (!exists) return NotFound(absl::StrCat("model \"", model, "\" not found"));
  Statement s(db_, absl::StrCat("SELECT ", kVersionColumns, " FROM versions WHERE model = ?"));
  s.Bind(1, model);
  std::vector<VersionRecord> out;
  while (s.Step()) {
    ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(s));
    out.push_back(std::move(v));
  }
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::UpdateVersion(const VersionRecord& v) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "UPDATE versions SET metadata = ?, tags = ?, status = ? WHERE model = ? AND version = ?");
  RETURN_IF_ERROR(s.Bind(1, v.metadata_json).Bind(2, TagsToJson(v.tags)).Bind(3, VersionStatusName(v.status))
                      .Bind(4, v.model).Bind(5, v.version).Run());
  if (sqlite3_changes(db_) == 0) {
    return NotFound(absl::StrCat("version ", v.version, " of model \"", v.model, "\" not found"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::DeleteVersion(absl::string_view model, absl::string_view version) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(GetVersionLocked(model, version).status());
    Statement alias(db_, "SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias LIMIT 1");
    alias.Bind(1, model).Bind(2, version);
    if (alias.Step()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", version, " of model \"", model, "\" is the target of alias \"", alias.Text(0),
          "\"; move or delete the alias first"));
    }
    RETURN_IF_ERROR(alias.status());
    Statement holder(db_, "SELECT holder FROM version_references WHERE model = ? AND version = ? ORDER BY holder LIMIT 1");
    holder.Bind(1, model).Bind(2, version);
    if (holder.Step()) {
      return absl::FailedPreconditionError(absl::StrCat("version ", version, " of model \"", model,
                                                        "\" is in use by ", holder.Text(0)));
    }
    RETURN_IF_ERROR(holder.status());
    return Statement(db_, "DELETE FROM versions WHERE model = ? AND version = ?").Bind(1, model).Bind(2, version).Run();
  });
}

absl::StatusOr<int64_t> SqliteStore::CountArtifactUses(absl::string_view digest) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT COUNT(*) FROM versions WHERE artifact_digest = ?");
  s.Bind(1, digest);
  const int64_t n = s.Step() ? s.Int(0) : 0;
  RETURN_IF_ERROR(s.status());
  return n;
}

absl::Status SqliteStore::SetAlias(const AliasRecord& a, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    RETURN_IF_ERROR(GetVersionLocked(a.model, a.version).status());
    std::string previous;
    {
      Statement s(db_, "SELECT version FROM aliases WHERE model = ? AND alias = ?");
      s.Bind(1, a.model).Bind(2, a.alias);
      if (s.Step()) previous = s.Text(0);
      RETURN_IF_ERROR(s.status());
    }
    RETURN_IF_ERROR(
        Statement(db_,
                  "INSERT INTO aliases (model, alias, version, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, "
                  "updated_by = excluded.updated_by, updated_at = excluded.updated_at")
            .Bind(1, a.model).Bind(2, a.alias).Bind(3, a.version).Bind(4, a.updated_by)
            .Bind(5, ToMicros(a.updated_at)).Run());
    return Statement(db_,
                     "INSERT INTO alias_events (model, alias, previous_version, version, actor, reason, time) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .Bind(1, a.model).Bind(2, a.alias).Bind(3, previous).Bind(4, a.version).Bind(5, a.updated_by)
        .Bind(6, reason).Bind(7, ToMicros(a.updated_at)).Run();
  });
}

absl::StatusOr<AliasRecord> SqliteStore::GetAlias(absl::string_view model, absl::string_view alias) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT model, alias, version, updated_by, updated_at FROM aliases WHERE model = ? AND alias = ?");
  s.Bind(1, model).Bind(2, alias);
  if (!s.Step()) {
    RETURN_IF_ERROR(s.status());
    return NotFound(absl::StrCat("alias \"", alias, "\" of model \"", model, "\" not found"));
  }
  return AliasRecord{s.Text(0), s.Text(1), s.Text(2), s.Text(3), FromMicros(s.Int(4))};
}

absl::StatusOr<std::vector<AliasRecord>> SqliteStore::ListAliases(absl::string_view model) {
  absl::MutexLock lock(&mu_);
  Statement s(db_, "SELECT model, alias, version, updated_by, updated_at FROM aliases WHERE model = ? ORDER BY alias");
  s.Bind(1, model);
  std::vector<AliasRecord> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), FromMicros(s.Int(4))});
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::DeleteAlias(absl::string_view model, absl::string_view alias,
                                      absl::string_view actor, absl::string_view reason, absl::Time time) {
  absl::MutexLock lock(&mu_);
  return InTransaction([&]() -> absl::Status {
    Statement s(db_, "SELECT version FROM aliases WHERE model = ? AND alias = ?");
    s.Bind(1, model).Bind(2, alias);
    if (!s.Step()) {
      RETURN_IF_ERROR(s.status());
      return NotFound(absl::StrCat("alias \"", alias, "\" of model \"", model, "\" not found"));
    }
    const std::string previous = s.Text(0);
    RETURN_IF_ERROR(Statement(db_, "DELETE FROM aliases WHERE model = ? AND alias = ?").Bind(1, model).Bind(2, alias).Run());
    return Statement(db_,
                     "INSERT INTO alias_events (model, alias, previous_version, version, actor, reason, time) "
                     "VALUES (?, ?, ?, '', ?, ?, ?)")
        .Bind(1, model).Bind(2, alias).Bind(3, previous).Bind(4, actor).Bind(5, reason)
        .Bind(6, ToMicros(time)).Run();
  });
}

absl::StatusOr<std::vector<AliasEvent>> SqliteStore::AliasHistory(absl::string_view model,
                                                                  absl::string_view alias) {
  absl::MutexLock lock(&mu_);
  Statement s(db_,
              "SELECT id, model, alias, previous_version, version, actor, reason, time FROM alias_events "
              "WHERE model = ? AND alias = ? ORDER BY id");
  s.Bind(1, model).Bind(2, alias);
  std::vector<AliasEvent> out;
  while (s.Step()) {
    out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), FromMicros(s.Int(7))});
  }
  RETURN_IF_ERROR(s.status());
  return out;
}

absl::Status SqliteStore::AddVersionReference(absl::string_view model, absl::string_view version,
                                              absl::string_view holder) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(GetVersionLocked(model, version).status());
  return Statement(db_, "INSERT OR IGNORE INTO version_references (model, version, holder) VALUES (?, ?, ?)")
      .Bind(1, model).Bind(2, version).Bind(3, holder).Run();
}

absl::Status SqliteStore::RemoveVersionReference(absl::string_view model, absl::string_view version,
                                                 absl::string_view holder) {
  absl::MutexLock lock(&mu_);
  return Statement(db_, "DELETE FROM version_references WHERE model = ? AND version = ? AND holder = ?")
      .Bind(1, model).Bind(2, version).Bind(3, holder).Run();
}

}  // namespace meridian::store
