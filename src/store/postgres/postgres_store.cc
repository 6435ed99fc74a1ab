#include "store/postgres/postgres_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/tags_json.h"

namespace meridian::store {
namespace {

// Same schema as the SQLite store, in PostgreSQL's dialect; never edit a released entry.
const std::vector<const char*>& Migrations() {
  static const auto* const migrations = new std::vector<const char*>{
      R"sql(
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        description TEXT NOT NULL,
        tags JSONB NOT NULL,
        owner TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL);
      CREATE TABLE versions (
        model TEXT NOT NULL REFERENCES models(name),
        version TEXT NOT NULL,
        framework TEXT NOT NULL,
        artifact_digest TEXT NOT NULL,
        artifact_size BIGINT NOT NULL,
        metadata TEXT NOT NULL,
        tags JSONB NOT NULL,
        source_uri TEXT NOT NULL,
        parent_version TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (model, version));
      CREATE INDEX versions_by_digest ON versions(artifact_digest);
      CREATE TABLE aliases (
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        version TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES versions(model, version));
      CREATE TABLE alias_events (
        id BIGSERIAL PRIMARY KEY,
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        previous_version TEXT NOT NULL,
        version TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        time BIGINT NOT NULL);
      CREATE INDEX alias_events_by_alias ON alias_events(model, alias, id);
      CREATE TABLE version_references (
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        holder TEXT NOT NULL,
        PRIMARY KEY (model, version, holder),
        FOREIGN KEY (model, version) REFERENCES versions(model, version));
      )sql",
      R"sql(
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        description TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT NOT NULL);
      CREATE TABLE roles (
        name TEXT PRIMARY KEY,
        rules TEXT NOT NULL,
        updated_at BIGINT NOT NULL);
      CREATE TABLE role_bindings (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        subjects TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, name));
      CREATE TABLE audit_events (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
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
      CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
      )sql",
      R"sql(
      CREATE TABLE deployments (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        current_revision BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, name));
      CREATE TABLE deployment_revisions (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        revision BIGINT NOT NULL,
        spec TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, name, revision),
        FOREIGN KEY (namespace, name) REFERENCES deployments(namespace, name) ON DELETE CASCADE);
      CREATE TABLE resource_quotas (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        hard TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, name));
      )sql",
  };
  return *migrations;
}

// Any number that stays the same across releases; identifies our migration lock.
constexpr int64_t kMigrationLock = 0x6d6572696469616eLL;  // "meridian"

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }
std::string S(absl::string_view v) { return std::string(v); }

constexpr char kVersionColumns[] =
    "model, version, framework, artifact_digest, artifact_size, metadata, tags::text, source_uri, "
    "parent_version, run_id, created_by, created_at, status";
constexpr char kModelColumns[] = "name, namespace, description, tags::text, owner, created_at, updated_at";

absl::StatusOr<ModelRecord> ReadModel(const pqxx::row& r) {
  ModelRecord m;
  m.name = r[0].as<std::string>();
  m.namespace_name = r[1].as<std::string>();
  m.description = r[2].as<std::string>();
  ASSIGN_OR_RETURN(m.tags, TagsFromJson(r[3].as<std::string>()));
  m.owner = r[4].as<std::string>();
  m.created_at = FromMicros(r[5].as<int64_t>());
  m.updated_at = FromMicros(r[6].as<int64_t>());
  return m;
}

absl::StatusOr<VersionRecord> ReadVersion(const pqxx::row& r) {
  VersionRecord v;
  v.model = r[0].as<std::string>();
  v.version = r[1].as<std::string>();
  v.framework = r[2].as<std::string>();
  v.artifact_digest = r[3].as<std::string>();
  v.artifact_size = static_cast<uint64_t>(r[4].as<int64_t>());
  v.metadata_json = r[5].as<std::string>();
  ASSIGN_OR_RETURN(v.tags, TagsFromJson(r[6].as<std::string>()));
  v.lineage = Lineage{r[7].as<std::string>(), r[8].as<std::string>(), r[9].as<std::string>()};
  v.created_by = r[10].as<std::string>();
  v.created_at = FromMicros(r[11].as<int64_t>());
  ASSIGN_OR_RETURN(v.status, ParseVersionStatus(r[12].as<std::string>()));
  return v;
}

AliasRecord ReadAlias(const pqxx::row& r) {
  return AliasRecord{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     r[3].as<std::string>(), FromMicros(r[4].as<int64_t>())};
}

absl::Status ModelNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("model \"", name, "\" not found"));
}
absl::Status VersionNotFound(absl::string_view model, absl::string_view version) {
  return absl::NotFoundError(absl::StrCat("version ", version, " of model \"", model, "\" not found"));
}

}  // namespace

struct PostgresStore::Connection {
  explicit Connection(const std::string& url) : pq(url) {}
  pqxx::connection pq;
};

// The statements of one transaction.
class PostgresStore::Transaction {
 public:
  explicit Transaction(pqxx::work& work) : work_(work) {}
  template <typename... Args>
  pqxx::result Exec(const std::string& sql, Args&&... args) {
    return work_.exec_params(sql, std::forward<Args>(args)...);
  }
  // Several statements, no parameters (migrations).
  void ExecScript(const std::string& sql) { work_.exec(sql); }

 private:
  pqxx::work& work_;
};

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresStoreOptions& options) {
  auto store = std::unique_ptr<PostgresStore>(new PostgresStore(options.url));
  {
    absl::MutexLock lock(&store->mu_);
    RETURN_IF_ERROR(store->Connect());
  }
  RETURN_IF_ERROR(store->Migrate());
  return store;
}

PostgresStore::PostgresStore(std::string url) : url_(std::move(url)) {}
PostgresStore::~PostgresStore() = default;

absl::Status PostgresStore::Connect() {
  try {
    connection_ = std::make_unique<Connection>(url_);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    connection_.reset();
    // The connection string may hold a password: name the failure, not the string.
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", e.what()));
  }
}

template <typename Body>
auto PostgresStore::InTransaction(Body body) -> decltype(body(std::declval<Transaction&>())) {
  absl::MutexLock lock(&mu_);
  for (int attempt = 0;; ++attempt) {
    if (!connection_ || !connection_->pq.is_open()) RETURN_IF_ERROR(Connect());
    try {
      pqxx::work work(connection_->pq);
      Transaction tx(work);
      auto result = body(tx);
      if (result.ok()) work.commit();
      return result;
    } catch (const pqxx::in_doubt_error& e) {
      connection_.reset();
      return absl::UnavailableError(absl::StrCat("PostgreSQL connection lost during commit; the change may or may not "
                                                 "have been applied: ", e.what()));
    } catch (const pqxx::broken_connection& e) {
      connection_.reset();
      if (attempt >= 1) return absl::UnavailableError(absl::StrCat("PostgreSQL connection lost: ", e.what()));
    } catch (const pqxx::unique_violation& e) {
      return absl::AlreadyExistsError(e.what());
    } catch (const pqxx::foreign_key_violation& e) {
      return absl::FailedPreconditionError(e.what());
    } catch (const pqxx::sql_error& e) {
      return absl::InternalError(absl::StrCat("PostgreSQL error: ", e.what()));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("PostgreSQL client error: ", e.what()));
    }
  }
}

absl::Status PostgresStore::Migrate() {
  return InTransaction([](Transaction& tx) -> absl::Status {
    tx.Exec("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    const int current = tx.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
    const auto& migrations = Migrations();
    if (current > static_cast<int>(migrations.size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database schema (version ", current, ") is newer than this meridian understands (",
          migrations.size(), "); upgrade meridian"));
    }
    for (int v = current + 1; v <= static_cast<int>(migrations.size()); ++v) {
      tx.ExecScript(migrations[v - 1]);
      tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", v, Micros(absl::Now()));
    }
    return absl::OkStatus();
  });
}

int PostgresStore::schema_version() {
  auto v = InTransaction([](Transaction& tx) -> absl::StatusOr<int> {
    return tx.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
  });
  return v.ok() ? *v : 0;
}

absl::Status PostgresStore::CreateModel(const ModelRecord& m) {
  absl::Status s = InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec(absl::StrCat("INSERT INTO models (", "name, namespace, description, tags, owner, created_at, updated_at",
                         ") VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)"),
            m.name, m.namespace_name, m.description, TagsToJson(m.tags), m.owner, Micros(m.created_at),
            Micros(m.updated_at));
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("model \"", m.name, "\" already exists"));
  return s;
}

absl::StatusOr<ModelRecord> PostgresStore::GetModel(absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<ModelRecord> {
    auto r = tx.Exec(absl::StrCat("SELECT ", kModelColumns, " FROM models WHERE name = $1"), S(name));
    if (r.empty()) return ModelNotFound(name);
    return ReadModel(r[0]);
  });
}

absl::StatusOr<ModelPage> PostgresStore::ListModels(const ListModelsOptions& options) {
  std::string after;
  if (!options.page_token.empty()) {
    if (!absl::WebSafeBase64Unescape(options.page_token, &after) || after.empty()) {
      return absl::InvalidArgumentError("invalid pageToken: pass the nextPageToken of the previous page");
    }
  }
  const int page_size = std::clamp(options.page_size, 1, 1000);
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<ModelPage> {
    // COLLATE "C": byte order, the same order as SQLite and as the page token assumes.
    std::string sql = absl::StrCat("SELECT ", kModelColumns,
                                   " FROM models WHERE name COLLATE \"C\" > $1 AND left(name, length($2)) = $2");
    pqxx::result r;
    if (options.tag) {
      r = tx.Exec(sql + " AND tags ->> $3 = $4 ORDER BY name COLLATE \"C\" LIMIT $5", after, options.name_prefix,
                  options.tag->first, options.tag->second, page_size + 1);
    } else {
      r = tx.Exec(sql + " ORDER BY name COLLATE \"C\" LIMIT $3", after, options.name_prefix, page_size + 1);
    }
    ModelPage page;
    for (const auto& row : r) {
      ASSIGN_OR_RETURN(ModelRecord m, ReadModel(row));
      page.models.push_back(std::move(m));
    }
    if (static_cast<int>(page.models.size()) > page_size) {
      page.models.pop_back();
      page.next_page_token = absl::WebSafeBase64Escape(page.models.back().name);
    }
    return page;
  });
}

absl::Status PostgresStore::UpdateModel(const ModelRecord& m) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    auto r = tx.Exec("UPDATE models SET description = $1, tags = $2::jsonb, updated_at = $3 WHERE name = $4",
                     m.description, TagsToJson(m.tags), Micros(m.updated_at), m.name);
    if (r.affected_rows() == 0) return ModelNotFound(m.name);
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::DeleteModel(absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM models WHERE name = $1 FOR UPDATE", S(name)).empty()) return ModelNotFound(name);
    const int64_t versions = tx.Exec("SELECT COUNT(*) FROM versions WHERE model = $1", S(name))[0][0].as<int64_t>();
    if (versions > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("model \"", name, "\" still has ", versions, " version(s); delete them first"));
    }
    tx.Exec("DELETE FROM alias_events WHERE model = $1", S(name));
    tx.Exec("DELETE FROM models WHERE name = $1", S(name));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::CreateVersion(const VersionRecord& v) {
  absl::Status s = InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM models WHERE name = $1", v.model).empty()) return ModelNotFound(v.model);
    tx.Exec(absl::StrCat("INSERT INTO versions (model, version, framework, artifact_digest, artifact_size, metadata, "
                         "tags, source_uri, parent_version, run_id, created_by, created_at, status) VALUES "
                         "($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13)"),
            v.model, v.version, v.framework, v.artifact_digest, static_cast<int64_t>(v.artifact_size),
            v.metadata_json, TagsToJson(v.tags), v.lineage.source_uri, v.lineage.parent_version, v.lineage.run_id,
            v.created_by, Micros(v.created_at), S(VersionStatusName(v.status)));
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("version ", v.version, " of model \"", v.model, "\" already exists"));
  }
  return s;
}

absl::StatusOr<VersionRecord> PostgresStore::GetVersion(absl::string_view model, absl::string_view version) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<VersionRecord> {
    auto r = tx.Exec(absl::StrCat("SELECT ", kVersionColumns, " FROM versions WHERE model = $1 AND version = $2"),
                     S(model), S(version));
    if (r.empty()) return VersionNotFound(model, version);
    return ReadVersion(r[0]);
  });
}

absl::StatusOr<std::vector<VersionRecord>> PostgresStore::ListVersions(absl::string_view model) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<VersionRecord>> {
    if (tx.Exec("SELECT 1 FROM models WHERE name = $1", S(model)).empty()) return ModelNotFound(model);
    std::vector<VersionRecord> out;
    for (const auto& row : tx.Exec(absl::StrCat("SELECT ", kVersionColumns, " FROM versions WHERE model = $1"), S(model))) {
      ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(row));
      out.push_back(std::move(v));
    }
    return out;
  });
}

absl::Status PostgresStore::UpdateVersion(const VersionRecord& v) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    auto r = tx.Exec("UPDATE versions SET metadata = $1, tags = $2::jsonb, status = $3 WHERE model = $4 AND version = $5",
                     v.metadata_json, TagsToJson(v.tags), S(VersionStatusName(v.status)), v.model, v.version);
    if (r.affected_rows() == 0) return VersionNotFound(v.model, v.version);
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::DeleteVersion(absl::string_view model, absl::string_view version) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM versions WHERE model = $1 AND version = $2 FOR UPDATE", S(model), S(version)).empty()) {
      return VersionNotFound(model, version);
    }
    auto alias = tx.Exec("SELECT alias FROM aliases WHERE model = $1 AND version = $2 ORDER BY alias LIMIT 1",
                         S(model), S(version));
    if (!alias.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("version ", version, " of model \"", model,
                                                        "\" is the target of alias \"", alias[0][0].as<std::string>(),
                                                        "\"; move or delete the alias first"));
    }
    auto holder = tx.Exec(
        "SELECT holder FROM version_references WHERE model = $1 AND version = $2 ORDER BY holder LIMIT 1", S(model),
        S(version));
    if (!holder.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("version ", version, " of model \"", model,
                                                        "\" is in use by ", holder[0][0].as<std::string>()));
    }
    tx.Exec("DELETE FROM versions WHERE model = $1 AND version = $2", S(model), S(version));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PostgresStore::CountArtifactUses(absl::string_view digest) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<int64_t> {
    return tx.Exec("SELECT COUNT(*) FROM versions WHERE artifact_digest = $1", S(digest))[0][0].as<int64_t>();
  });
}

absl::Status PostgresStore::SetAlias(const AliasRecord& a, absl::string_view reason) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM versions WHERE model = $1 AND version = $2 FOR SHARE", a.model, a.version).empty()) {
      return VersionNotFound(a.model, a.version);
    }
    auto previous = tx.Exec("SELECT version FROM aliases WHERE model = $1 AND alias = $2 FOR UPDATE", a.model, a.alias);
    tx.Exec("INSERT INTO aliases (model, alias, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_by = excluded.updated_by, "
            "updated_at = excluded.updated_at",
            a.model, a.alias, a.version, a.updated_by, Micros(a.updated_at));
    tx.Exec("INSERT INTO alias_events (model, alias, previous_version, version, actor, reason, time) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            a.model, a.alias, previous.empty() ? std::string() : previous[0][0].as<std::string>(), a.version,
            a.updated_by, S(reason), Micros(a.updated_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<AliasRecord> PostgresStore::GetAlias(absl::string_view model, absl::string_view alias) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<AliasRecord> {
    auto r = tx.Exec("SELECT model, alias, version, updated_by, updated_at FROM aliases WHERE model = $1 AND alias = $2",
                     S(model), S(alias));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("alias \"", alias, "\" of model \"", model, "\" not found"));
    return ReadAlias(r[0]);
  });
}

absl::StatusOr<std::vector<AliasRecord>> PostgresStore::ListAliases(absl::string_view model) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<AliasRecord>> {
    std::vector<AliasRecord> out;
    for (const auto& row : tx.Exec("SELECT model, alias, version, updated_by, updated_at FROM aliases WHERE model = $1 "
                                   "ORDER BY alias COLLATE \"C\"",
                                   S(model))) {
      out.push_back(ReadAlias(row));
    }
    return out;
  });
}

absl::Status PostgresStore::DeleteAlias(absl::string_view model, absl::string_view alias, absl::string_view actor,
                                        absl::string_view reason, absl::Time time) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    auto r = tx.Exec("DELETE FROM aliases WHERE model = $1 AND alias = $2 RETURNING version", S(model), S(alias));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("alias \"", alias, "\" of model \"", model, "\" not found"));
    tx.Exec("INSERT INTO alias_events (model, alias, previous_version, version, actor, reason, time) "
            "VALUES ($1, $2, $3, '', $4, $5, $6)",
            S(model), S(alias), r[0][0].as<std::string>(), S(actor), S(reason), Micros(time));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AliasEvent>> PostgresStore::AliasHistory(absl::string_view model, absl::string_view alias) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<AliasEvent>> {
    std::vector<AliasEvent> out;
    for (const auto& r : tx.Exec("SELECT id, model, alias, previous_version, version, actor, reason, time "
                                 "FROM alias_events WHERE model = $1 AND alias = $2 ORDER BY id",
                                 S(model), S(alias))) {
      out.push_back({r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                     r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(),
                     FromMicros(r[7].as<int64_t>())});
    }
    return out;
  });
}

absl::Status PostgresStore::AddVersionReference(absl::string_view model, absl::string_view version,
                                                absl::string_view holder) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM versions WHERE model = $1 AND version = $2 FOR SHARE", S(model), S(version)).empty()) {
      return VersionNotFound(model, version);
    }
    tx.Exec("INSERT INTO version_references (model, version, holder) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            S(model), S(version), S(holder));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::RemoveVersionReference(absl::string_view model, absl::string_view version,
                                                   absl::string_view holder) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec("DELETE FROM version_references WHERE model = $1 AND version = $2 AND holder = $3", S(model), S(version),
            S(holder));
    return absl::OkStatus();
  });
}

namespace {

// Times that may be "never" (expiry, revocation) are stored as 0.
int64_t MicrosOrZero(absl::Time t) { return t == absl::InfiniteFuture() ? 0 : Micros(t); }
absl::Time TimeOrNever(int64_t us) { return us == 0 ? absl::InfiniteFuture() : FromMicros(us); }

constexpr char kTokenColumns[] =
    "id, secret_hash, subject_kind, subject, description, created_by, created_at, expires_at, revoked_at";

}  // namespace

absl::Status PostgresStore::CreateToken(const TokenRecord& t) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec(absl::StrCat("INSERT INTO api_tokens (", kTokenColumns, ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            t.id, t.secret_hash, t.subject_kind, t.subject, t.description, t.created_by, Micros(t.created_at),
            MicrosOrZero(t.expires_at), MicrosOrZero(t.revoked_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TokenRecord>> PostgresStore::ListTokens() {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<TokenRecord>> {
    std::vector<TokenRecord> out;
    for (const auto& r : tx.Exec(absl::StrCat("SELECT ", kTokenColumns, " FROM api_tokens ORDER BY created_at, id"))) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                     r[4].as<std::string>(), r[5].as<std::string>(), FromMicros(r[6].as<int64_t>()),
                     TimeOrNever(r[7].as<int64_t>()), TimeOrNever(r[8].as<int64_t>())});
    }
    return out;
  });
}

absl::Status PostgresStore::RevokeToken(absl::string_view id, absl::Time time) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("SELECT 1 FROM api_tokens WHERE id = $1 FOR UPDATE", S(id)).empty()) {
      return absl::NotFoundError(absl::StrCat("token \"", id, "\" not found"));
    }
    tx.Exec("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0", Micros(time), S(id));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::PutRole(const RoleRecord& r) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec("INSERT INTO roles (name, rules, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE "
            "SET rules = excluded.rules, updated_at = excluded.updated_at",
            r.name, r.rules_json, Micros(r.updated_at));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::DeleteRole(absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    auto used = tx.Exec("SELECT name FROM role_bindings WHERE role = $1 LIMIT 1", S(name));
    if (!used.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("role \"", name, "\" is used by role binding \"",
                                                        used[0][0].as<std::string>(), "\"; delete the binding first"));
    }
    if (tx.Exec("DELETE FROM roles WHERE name = $1", S(name)).affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("role \"", name, "\" not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RoleRecord>> PostgresStore::ListRoles() {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<RoleRecord>> {
    std::vector<RoleRecord> out;
    for (const auto& r : tx.Exec("SELECT name, rules, updated_at FROM roles ORDER BY name COLLATE \"C\"")) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), FromMicros(r[2].as<int64_t>())});
    }
    return out;
  });
}

absl::Status PostgresStore::PutRoleBinding(const RoleBindingRecord& b) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec("INSERT INTO role_bindings (namespace, name, role, subjects, updated_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (namespace, name) DO UPDATE SET role = excluded.role, subjects = excluded.subjects, "
            "updated_at = excluded.updated_at",
            b.namespace_name, b.name, b.role, b.subjects_json, Micros(b.updated_at));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::DeleteRoleBinding(absl::string_view namespace_name, absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("DELETE FROM role_bindings WHERE namespace = $1 AND name = $2", S(namespace_name), S(name))
            .affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("role binding \"", name, "\" not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RoleBindingRecord>> PostgresStore::ListRoleBindings() {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<RoleBindingRecord>> {
    std::vector<RoleBindingRecord> out;
    for (const auto& r : tx.Exec("SELECT name, namespace, role, subjects, updated_at FROM role_bindings "
                                 "ORDER BY namespace COLLATE \"C\", name COLLATE \"C\"")) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                     FromMicros(r[4].as<int64_t>())});
    }
    return out;
  });
}

absl::Status PostgresStore::AppendAudit(const std::vector<AuditRecord>& records) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    for (const AuditRecord& r : records) {
      tx.Exec("INSERT INTO audit_events (time, request_id, subject, client, method, target, namespace, resource, "
              "verb, status, result, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
              Micros(r.time), r.request_id, r.subject, r.client, r.method, r.target, r.namespace_name, r.resource,
              r.verb, r.status, r.result, r.reason);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AuditRecord>> PostgresStore::QueryAudit(const AuditQuery& q) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<AuditRecord>> {
    std::vector<AuditRecord> out;
    auto rows = tx.Exec(
        "SELECT id, time, request_id, subject, client, method, target, namespace, resource, verb, status, result, "
        "reason FROM audit_events WHERE id > $1 AND time >= $2 AND time < $3 AND ($4 = '' OR subject = $4) "
        "AND ($5 = '' OR resource = $5) AND ($6 = '' OR verb = $6) AND ($7 = '' OR result = $7) "
        "AND ($8 = '' OR namespace = $8) ORDER BY id LIMIT $9",
        q.after_id, q.since == absl::InfinitePast() ? INT64_MIN : Micros(q.since),
        q.until == absl::InfiniteFuture() ? INT64_MAX : Micros(q.until), q.subject, q.resource, q.verb, q.result,
        q.namespace_name, q.limit);
    for (const auto& r : rows) {
      out.push_back({r[0].as<int64_t>(), FromMicros(r[1].as<int64_t>()), r[2].as<std::string>(),
                     r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(),
                     r[7].as<std::string>(), r[8].as<std::string>(), r[9].as<std::string>(), r[10].as<int>(),
                     r[11].as<std::string>(), r[12].as<std::string>()});
    }
    return out;
  });
}

// DeploymentStore.

namespace {

constexpr char kRevisionColumns[] = "r.namespace, r.name, r.revision, r.spec, r.spec_hash, r.actor, r.reason, r.created_at";

DeploymentRevisionRecord ReadRevision(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<std::string>(),
          r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(), FromMicros(r[7].as<int64_t>())};
}

std::string DeploymentQuery(absl::string_view where) {
  return absl::StrCat("SELECT ", kRevisionColumns, ", d.created_at FROM deployments d JOIN deployment_revisions r ",
                      "ON r.namespace = d.namespace AND r.name = d.name AND r.revision = d.current_revision ", where,
                      " ORDER BY d.namespace, d.name");
}

DeploymentRecord ReadDeployment(const pqxx::row& r) {
  DeploymentRevisionRecord current = ReadRevision(r);
  return {current.namespace_name, current.name, current, FromMicros(r[8].as<int64_t>())};
}

absl::Status DeploymentNotFound(absl::string_view namespace_name, absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("deployment \"", name, "\" not found in namespace \"", namespace_name, "\""));
}

}  // namespace

absl::StatusOr<DeploymentRecord> PostgresStore::AppendDeploymentRevision(const DeploymentRevisionRecord& rev) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<DeploymentRecord> {
    tx.Exec("INSERT INTO deployments (namespace, name, current_revision, created_at) VALUES ($1, $2, 0, $3) "
            "ON CONFLICT (namespace, name) DO NOTHING",
            rev.namespace_name, rev.name, Micros(rev.created_at));
    // Serialises concurrent appends to one deployment.
    tx.Exec("SELECT 1 FROM deployments WHERE namespace = $1 AND name = $2 FOR UPDATE", rev.namespace_name, rev.name);
    const int64_t number =
        tx.Exec("SELECT COALESCE(MAX(revision), 0) FROM deployment_revisions WHERE namespace = $1 AND name = $2",
                rev.namespace_name, rev.name)[0][0]
            .as<int64_t>() +
        1;
    tx.Exec("INSERT INTO deployment_revisions (namespace, name, revision, spec, spec_hash, actor, reason, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            rev.namespace_name, rev.name, number, rev.spec_json, rev.spec_hash, rev.actor, rev.reason,
            Micros(rev.created_at));
    tx.Exec("UPDATE deployments SET current_revision = $1 WHERE namespace = $2 AND name = $3", number,
            rev.namespace_name, rev.name);
    pqxx::result r = tx.Exec(DeploymentQuery("WHERE d.namespace = $1 AND d.name = $2"), rev.namespace_name, rev.name);
    if (r.empty()) return DeploymentNotFound(rev.namespace_name, rev.name);
    return ReadDeployment(r[0]);
  });
}

absl::StatusOr<DeploymentRecord> PostgresStore::GetDeployment(absl::string_view namespace_name,
                                                              absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<DeploymentRecord> {
    pqxx::result r = tx.Exec(DeploymentQuery("WHERE d.namespace = $1 AND d.name = $2"), S(namespace_name), S(name));
    if (r.empty()) return DeploymentNotFound(namespace_name, name);
    return ReadDeployment(r[0]);
  });
}

absl::StatusOr<std::vector<DeploymentRecord>> PostgresStore::ListDeployments(absl::string_view namespace_name) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<DeploymentRecord>> {
    std::vector<DeploymentRecord> out;
    for (const auto& row : tx.Exec(DeploymentQuery("WHERE ($1 = '' OR d.namespace = $1)"), S(namespace_name))) {
      out.push_back(ReadDeployment(row));
    }
    return out;
  });
}

absl::StatusOr<std::vector<DeploymentRevisionRecord>> PostgresStore::ListDeploymentRevisions(
    absl::string_view namespace_name, absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<DeploymentRevisionRecord>> {
    std::vector<DeploymentRevisionRecord> out;
    for (const auto& row : tx.Exec(absl::StrCat("SELECT ", kRevisionColumns,
                                                " FROM deployment_revisions r WHERE r.namespace = $1 AND r.name = $2 "
                                                "ORDER BY r.revision"),
                                   S(namespace_name), S(name))) {
      out.push_back(ReadRevision(row));
    }
    if (out.empty()) return DeploymentNotFound(namespace_name, name);
    return out;
  });
}

absl::Status PostgresStore::DeleteDeployment(absl::string_view namespace_name, absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("DELETE FROM deployments WHERE namespace = $1 AND name = $2", S(namespace_name), S(name))
            .affected_rows() == 0) {
      return DeploymentNotFound(namespace_name, name);
    }
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::PutResourceQuota(const ResourceQuotaRecord& q) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    tx.Exec("INSERT INTO resource_quotas (namespace, name, hard, updated_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (namespace, name) DO UPDATE SET hard = excluded.hard, updated_at = excluded.updated_at",
            q.namespace_name, q.name, q.hard_json, Micros(q.updated_at));
    return absl::OkStatus();
  });
}

absl::Status PostgresStore::DeleteResourceQuota(absl::string_view namespace_name, absl::string_view name) {
  return InTransaction([&](Transaction& tx) -> absl::Status {
    if (tx.Exec("DELETE FROM resource_quotas WHERE namespace = $1 AND name = $2", S(namespace_name), S(name))
            .affected_rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("resource quota \"", name, "\" not found in namespace \"", namespace_name, "\""));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ResourceQuotaRecord>> PostgresStore::ListResourceQuotas() {
  return InTransaction([&](Transaction& tx) -> absl::StatusOr<std::vector<ResourceQuotaRecord>> {
    std::vector<ResourceQuotaRecord> out;
    for (const auto& r : tx.Exec("SELECT namespace, name, hard, updated_at FROM resource_quotas ORDER BY namespace, name")) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     FromMicros(r[3].as<int64_t>())});
    }
    return out;
  });
}

}  // namespace meridian::store
