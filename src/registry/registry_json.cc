#include "registry/registry_json.h"
#include "common/json.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace meridian::registry {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, absl::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void Key(Writer& w, absl::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

// RFC 3339 in UTC with microseconds, the precision the stores keep.
void Time(Writer& w, absl::Time t) { Str(w, absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", t, absl::UTCTimeZone())); }

void TagsValue(Writer& w, const store::Tags& tags) {
  w.StartObject();
  for (const auto& [k, v] : tags) {
    Key(w, k);
    Str(w, v);
  }
  w.EndObject();
}

void ModelValue(Writer& w, const store::ModelRecord& m) {
  w.StartObject();
  Key(w, "name"), Str(w, m.name);
  Key(w, "namespace"), Str(w, m.namespace_name);
  Key(w, "description"), Str(w, m.description);
  Key(w, "tags"), TagsValue(w, m.tags);
  Key(w, "owner"), Str(w, m.owner);
  Key(w, "createdAt"), Time(w, m.created_at);
  Key(w, "updatedAt"), Time(w, m.updated_at);
  w.EndObject();
}

void VersionValue(Writer& w, const store::VersionRecord& v) {
  w.StartObject();
  Key(w, "model"), Str(w, v.model);
  Key(w, "version"), Str(w, v.version);
  Key(w, "framework"), Str(w, v.framework);
  Key(w, "status"), Str(w, store::VersionStatusName(v.status));
  Key(w, "artifact");
  w.StartObject();
  Key(w, "digest"), Str(w, v.artifact_digest);
  Key(w, "size"), w.Uint64(v.artifact_size);
  w.EndObject();
  Key(w, "metadata");
  w.RawValue(v.metadata_json.data(), v.metadata_json.size(), rapidjson::kObjectType);
  Key(w, "tags"), TagsValue(w, v.tags);
  Key(w, "lineage");
  w.StartObject();
  Key(w, "sourceUri"), Str(w, v.lineage.source_uri);
  Key(w, "parentVersion"), Str(w, v.lineage.parent_version);
  Key(w, "runId"), Str(w, v.lineage.run_id);
  w.EndObject();
  Key(w, "createdBy"), Str(w, v.created_by);
  Key(w, "createdAt"), Time(w, v.created_at);
  w.EndObject();
}

void AliasValue(Writer& w, const store::AliasRecord& a) {
  w.StartObject();
  Key(w, "model"), Str(w, a.model);
  Key(w, "alias"), Str(w, a.alias);
  Key(w, "version"), Str(w, a.version);
  Key(w, "updatedBy"), Str(w, a.updated_by);
  Key(w, "updatedAt"), Time(w, a.updated_at);
  w.EndObject();
}

template <typename Fn>
std::string Render(Fn fn) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  fn(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A parsed request body with field checks that name the field.
class Body {
 public:
  static absl::StatusOr<Body> Parse(absl::string_view text, std::set<std::string> known, bool allow_empty) {
    Body body;
    if (text.empty() && allow_empty) {
      body.doc_.SetObject();
      return body;
    }
    if (absl::Status parsed = ParseUntrustedJson(text, body.doc_); !parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the request body is ", parsed.message()));
    }
    if (!body.doc_.IsObject()) return absl::InvalidArgumentError("the request body must be a JSON object");
    for (const auto& member : body.doc_.GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      if (!known.contains(name)) {
        return absl::InvalidArgumentError(absl::StrCat("unknown field \"", name, "\" in the request body"));
      }
    }
    return body;
  }

  bool Has(const char* field) const { return doc_.HasMember(field) && !doc_[field].IsNull(); }

  absl::StatusOr<std::string> String(const char* field) const {
    if (!Has(field)) return std::string();
    const auto& v = doc_[field];
    if (!v.IsString()) return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\" must be a string"));
    return std::string(v.GetString(), v.GetStringLength());
  }

  absl::StatusOr<store::Tags> Tags(const char* field) const {
    store::Tags tags;
    if (!Has(field)) return tags;
    const auto& v = doc_[field];
    if (!v.IsObject()) return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\" must be an object of strings"));
    for (const auto& m : v.GetObject()) {
      if (!m.value.IsString()) {
        return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\" must be an object of strings"));
      }
      tags.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                   std::string(m.value.GetString(), m.value.GetStringLength()));
    }
    return tags;
  }

  // The field's JSON text (an object).
  absl::StatusOr<std::string> Object(const char* field) const {
    if (!Has(field)) return std::string("{}");
    const auto& v = doc_[field];
    if (!v.IsObject()) return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\" must be a JSON object"));
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    v.Accept(w);
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  const rapidjson::Value& operator[](const char* field) const { return doc_[field]; }

 private:
  rapidjson::Document doc_;
};

}  // namespace

std::string ModelJson(const store::ModelRecord& model) {
  return Render([&](Writer& w) { ModelValue(w, model); });
}

std::string ModelPageJson(const store::ModelPage& page) {
  return Render([&](Writer& w) {
    w.StartObject();
    Key(w, "models");
    w.StartArray();
    for (const auto& m : page.models) ModelValue(w, m);
    w.EndArray();
    Key(w, "nextPageToken"), Str(w, page.next_page_token);
    w.EndObject();
  });
}

std::string VersionJson(const store::VersionRecord& version) {
  return Render([&](Writer& w) { VersionValue(w, version); });
}

std::string VersionPageJson(const VersionPage& page) {
  return Render([&](Writer& w) {
    w.StartObject();
    Key(w, "versions");
    w.StartArray();
    for (const auto& v : page.versions) VersionValue(w, v);
    w.EndArray();
    Key(w, "nextPageToken"), Str(w, page.next_page_token);
    w.EndObject();
  });
}

std::string AliasJson(const store::AliasRecord& alias) {
  return Render([&](Writer& w) { AliasValue(w, alias); });
}

std::string AliasListJson(const std::vector<store::AliasRecord>& aliases) {
  return Render([&](Writer& w) {
    w.StartObject();
    Key(w, "aliases");
    w.StartArray();
    for (const auto& a : aliases) AliasValue(w, a);
    w.EndArray();
    w.EndObject();
  });
}

std::string AliasHistoryJson(const std::vector<store::AliasEvent>& events) {
  return Render([&](Writer& w) {
    w.StartObject();
    Key(w, "events");
    w.StartArray();
    for (const auto& e : events) {
      w.StartObject();
      Key(w, "id"), w.Int64(e.id);
      Key(w, "alias"), Str(w, e.alias);
      Key(w, "previousVersion"), Str(w, e.previous_version);
      Key(w, "version"), Str(w, e.version);
      Key(w, "actor"), Str(w, e.actor);
      Key(w, "reason"), Str(w, e.reason);
      Key(w, "time"), Time(w, e.time);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

absl::StatusOr<CreateModelRequest> ParseCreateModel(absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"name", "namespace", "description", "tags"}, false));
  CreateModelRequest r;
  ASSIGN_OR_RETURN(r.name, body.String("name"));
  if (r.name.empty()) return absl::InvalidArgumentError("field \"name\" is required");
  ASSIGN_OR_RETURN(std::string ns, body.String("namespace"));
  if (!ns.empty()) r.namespace_name = ns;
  ASSIGN_OR_RETURN(r.description, body.String("description"));
  ASSIGN_OR_RETURN(r.tags, body.Tags("tags"));
  return r;
}

absl::StatusOr<UpdateModelRequest> ParseUpdateModel(absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"description", "tags"}, false));
  UpdateModelRequest r;
  if (body.Has("description")) {
    ASSIGN_OR_RETURN(r.description, body.String("description"));
  }
  if (body.Has("tags")) {
    ASSIGN_OR_RETURN(r.tags, body.Tags("tags"));
  }
  return r;
}

absl::StatusOr<RegisterVersionRequest> ParseRegisterVersion(absl::string_view model, absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"version", "bump", "framework", "artifactDigest", "metadata",
                                                 "tags", "lineage"},
                                          false));
  RegisterVersionRequest r;
  r.model = std::string(model);
  ASSIGN_OR_RETURN(r.version, body.String("version"));
  ASSIGN_OR_RETURN(std::string bump, body.String("bump"));
  if (!bump.empty()) {
    if (!r.version.empty()) return absl::InvalidArgumentError("give either \"version\" or \"bump\", not both");
    ASSIGN_OR_RETURN(r.bump, ParseSemVerPart(bump));
  }
  ASSIGN_OR_RETURN(r.framework, body.String("framework"));
  if (r.framework.empty()) return absl::InvalidArgumentError("field \"framework\" is required");
  ASSIGN_OR_RETURN(r.artifact_digest, body.String("artifactDigest"));
  if (r.artifact_digest.empty()) return absl::InvalidArgumentError("field \"artifactDigest\" is required");
  ASSIGN_OR_RETURN(r.metadata_json, body.Object("metadata"));
  ASSIGN_OR_RETURN(r.tags, body.Tags("tags"));
  if (body.Has("lineage")) {
    ASSIGN_OR_RETURN(std::string lineage_json, body.Object("lineage"));
    ASSIGN_OR_RETURN(Body lineage, Body::Parse(lineage_json, {"sourceUri", "parentVersion", "runId"}, false));
    ASSIGN_OR_RETURN(r.lineage.source_uri, lineage.String("sourceUri"));
    ASSIGN_OR_RETURN(r.lineage.parent_version, lineage.String("parentVersion"));
    ASSIGN_OR_RETURN(r.lineage.run_id, lineage.String("runId"));
  }
  return r;
}

absl::StatusOr<UpdateVersionRequest> ParseUpdateVersion(absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"metadata", "tags", "status"}, false));
  UpdateVersionRequest r;
  if (body.Has("metadata")) {
    ASSIGN_OR_RETURN(r.metadata_json, body.Object("metadata"));
  }
  if (body.Has("tags")) {
    ASSIGN_OR_RETURN(r.tags, body.Tags("tags"));
  }
  if (body.Has("status")) {
    ASSIGN_OR_RETURN(std::string status, body.String("status"));
    ASSIGN_OR_RETURN(r.status, store::ParseVersionStatus(status));
  }
  return r;
}

absl::StatusOr<SetAliasRequest> ParseSetAlias(absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"version", "reason"}, false));
  SetAliasRequest r;
  ASSIGN_OR_RETURN(r.version, body.String("version"));
  if (r.version.empty()) return absl::InvalidArgumentError("field \"version\" is required");
  ASSIGN_OR_RETURN(r.reason, body.String("reason"));
  return r;
}

absl::StatusOr<std::string> ParseReason(absl::string_view text) {
  ASSIGN_OR_RETURN(Body body, Body::Parse(text, {"reason"}, true));
  return body.String("reason");
}

}  // namespace meridian::registry
