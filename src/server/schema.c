/*
 * schema.c - numbered migrations (see schema.h). SQL is portable where a standard form
 * exists; times are INTEGER seconds (or milliseconds where named *_ms) since the epoch, UTC.
 */
#include "server/schema.h"

#include <stdio.h>
#include <time.h>

typedef struct migration {
    int version;
    const char *name;
    const char *sql;
} migration;

static const migration migrations[] = {
    {1, "users, roles, tokens, audit log",
     "CREATE TABLE users ("
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL UNIQUE,"
     "  display_name TEXT NOT NULL DEFAULT '',"
     "  password_hash TEXT,"
     "  customer TEXT,"                       /* set: a customer-side user of that customer */
     "  disabled INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL);"
     "CREATE TABLE user_roles ("
     "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     "  role TEXT NOT NULL,"
     "  scope_kind TEXT NOT NULL DEFAULT '',"  /* '' = everywhere, 'product', 'customer' */
     "  scope TEXT NOT NULL DEFAULT '',"
     "  PRIMARY KEY (user_id, role, scope_kind, scope));"
     "CREATE TABLE tokens ("
     "  id INTEGER PRIMARY KEY,"
     "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     "  kind TEXT NOT NULL CHECK (kind IN ('session', 'api')),"
     "  name TEXT NOT NULL DEFAULT '',"
     "  token_hash TEXT NOT NULL UNIQUE,"      /* hex SHA-256 of the token; never the token */
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  revoked_at INTEGER);"
     "CREATE INDEX tokens_user ON tokens(user_id);"
     "CREATE TABLE audit ("
     "  seq INTEGER PRIMARY KEY,"
     "  ts_ms INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  on_behalf_of TEXT,"
     "  action TEXT NOT NULL,"
     "  object_kind TEXT NOT NULL DEFAULT '',"
     "  object_id TEXT NOT NULL DEFAULT '',"
     "  template_version INTEGER,"
     "  detail TEXT NOT NULL,"                 /* canonical JSON */
     "  prev_hash TEXT NOT NULL,"
     "  hash TEXT NOT NULL);"
     "CREATE INDEX audit_object ON audit(object_kind, object_id);"},
    {2, "workflow: templates, records, links, comments, attachments, approvals, SLA clocks",
     "CREATE TABLE templates ("
     "  id TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  sha256 TEXT NOT NULL,"                 /* of the canonical JSON: versions are immutable */
     "  body TEXT NOT NULL,"
     "  published_at INTEGER NOT NULL,"
     "  PRIMARY KEY (id, version));"
     "CREATE TABLE records ("
     "  id INTEGER PRIMARY KEY,"
     "  template_id TEXT NOT NULL,"
     "  template_version INTEGER NOT NULL,"
     "  record_type TEXT NOT NULL,"
     "  state TEXT NOT NULL,"
     "  revision INTEGER NOT NULL,"
     "  fields TEXT NOT NULL,"                 /* JSON object */
     "  customer TEXT,"
     "  product TEXT,"
     "  assignee TEXT,"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  FOREIGN KEY (template_id, template_version) REFERENCES templates(id, version));"
     "CREATE INDEX records_state ON records(state, id);"
     "CREATE INDEX records_template ON records(template_id, record_type, id);"
     "CREATE INDEX records_assignee ON records(assignee, id);"
     "CREATE INDEX records_customer ON records(customer, id);"
     "CREATE TABLE record_unique ("          /* values of fields marked unique */
     "  template_id TEXT NOT NULL, record_type TEXT NOT NULL, field TEXT NOT NULL,"
     "  value TEXT NOT NULL, record_id INTEGER NOT NULL REFERENCES records(id),"
     "  PRIMARY KEY (template_id, record_type, field, value));"
     "CREATE TABLE record_links ("
     "  from_id INTEGER NOT NULL REFERENCES records(id),"
     "  link TEXT NOT NULL,"
     "  to_id INTEGER NOT NULL REFERENCES records(id),"
     "  PRIMARY KEY (from_id, link, to_id));"
     "CREATE INDEX record_links_to ON record_links(to_id);"
     "CREATE TABLE record_history ("          /* one row per transition; mirrors the audit log */
     "  id INTEGER PRIMARY KEY,"
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  audit_seq INTEGER NOT NULL,"
     "  transition TEXT NOT NULL,"
     "  from_state TEXT,"
     "  to_state TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  on_behalf_of TEXT,"
     "  at_ms INTEGER NOT NULL,"
     "  fields TEXT NOT NULL);"                /* the record's fields after the transition */
     "CREATE INDEX record_history_record ON record_history(record_id, id);"
     "CREATE TABLE comments ("
     "  id INTEGER PRIMARY KEY,"
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  author TEXT NOT NULL,"
     "  body TEXT NOT NULL,"
     "  customer_visible INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL);"
     "CREATE INDEX comments_record ON comments(record_id);"
     "CREATE TABLE attachments ("
     "  id INTEGER PRIMARY KEY,"
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  sha256 TEXT NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  filename TEXT NOT NULL,"
     "  content_type TEXT NOT NULL,"
     "  customer_visible INTEGER NOT NULL DEFAULT 0,"
     "  uploaded_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);"
     "CREATE INDEX attachments_record ON attachments(record_id);"
     "CREATE TABLE approvals ("
     "  id INTEGER PRIMARY KEY,"
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  transition TEXT NOT NULL,"
     "  approver TEXT NOT NULL,"               /* the principal whose decision it is */
     "  recorded_by TEXT NOT NULL,"            /* differs for a proxy decision */
     "  decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),"
     "  comment TEXT NOT NULL DEFAULT '',"
     "  binding TEXT NOT NULL,"                /* sha256 of the bound fields' values */
     "  evidence INTEGER REFERENCES attachments(id),"
     "  audit_seq INTEGER NOT NULL,"           /* orders decisions against history */
     "  created_at INTEGER NOT NULL);"
     "CREATE INDEX approvals_record ON approvals(record_id, transition);"
     "CREATE TABLE sla_clocks ("             /* a cache of sla_compute, see sla_store.c */
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  sla_id TEXT NOT NULL,"
     "  cycle INTEGER NOT NULL,"
     "  position INTEGER NOT NULL,"            /* order of sla_compute's answer */
     "  stage TEXT NOT NULL,"                  /* running, paused, met, breached, cancelled */
     "  started_at_ms INTEGER NOT NULL,"
     "  deadline_ms INTEGER,"                  /* NULL: none known (no committed date yet) */
     "  original_deadline_ms INTEGER,"
     "  stopped_at_ms INTEGER,"
     "  breach_at_ms INTEGER,"                 /* open clocks: breached from then on */
     "  at_risk_at_ms INTEGER,"                /* open clocks: at risk from then on */
     "  computed_at_ms INTEGER NOT NULL,"
     "  detail TEXT NOT NULL DEFAULT '{}',"    /* the clock as sla_compute answered it */
     "  PRIMARY KEY (record_id, sla_id, cycle));"
     "CREATE INDEX sla_clocks_breach ON sla_clocks(breach_at_ms);"
     "CREATE INDEX sla_clocks_risk ON sla_clocks(at_risk_at_ms);"
     "CREATE INDEX sla_clocks_stage ON sla_clocks(stage);"},
    {3, "notifications: in-app notifications, webhook outbox, SLA events",
     "CREATE TABLE notifications ("          /* in-app, one row per recipient */
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL,"
     "  record_id INTEGER REFERENCES records(id),"
     "  event TEXT NOT NULL,"                  /* transition, approval_requested, sla_breach, ... */
     "  title TEXT NOT NULL,"
     "  body TEXT NOT NULL,"                   /* JSON object, cut to what the user may see */
     "  created_at INTEGER NOT NULL,"
     "  deliver_at INTEGER NOT NULL,"          /* held to working hours: not shown before */
     "  read_at INTEGER);"
     "CREATE INDEX notifications_user ON notifications(username, id);"
     "CREATE TABLE outbox ("                 /* written with the change, delivered after commit */
     "  id INTEGER PRIMARY KEY,"
     "  kind TEXT NOT NULL CHECK (kind IN ('webhook')),"
     "  event TEXT NOT NULL,"
     "  payload TEXT NOT NULL,"                /* canonical JSON: the exact bytes signed and sent */
     "  created_at INTEGER NOT NULL,"
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt_at INTEGER NOT NULL,"     /* first: the earliest delivery (working hours) */
     "  delivered_at INTEGER,"
     "  last_error TEXT);"
     "CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);"
     "CREATE TABLE sla_events ("             /* each warning and breach is emitted once */
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  sla_id TEXT NOT NULL,"
     "  cycle INTEGER NOT NULL,"
     "  kind TEXT NOT NULL CHECK (kind IN ('warning', 'breach')),"
     "  pct INTEGER NOT NULL,"                 /* the warning's percentage; 100 for a breach */
     "  at_ms INTEGER NOT NULL,"               /* when the clock reached it */
     "  PRIMARY KEY (record_id, sla_id, cycle, kind, pct));"
     /* clocks that ended breached before this version are history, not news */
     "INSERT INTO sla_events (record_id, sla_id, cycle, kind, pct, at_ms)"
     "  SELECT record_id, sla_id, cycle, 'breach', 100, COALESCE(deadline_ms, started_at_ms)"
     "  FROM sla_clocks WHERE stage = 'breached';"},
    {4, "TUF repositories: metadata versions, online keys, uploaded blobs, listed targets",
     "CREATE TABLE tuf_metadata ("           /* every version of every role, bytes as served */
     "  tenant TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  body BLOB NOT NULL,"
     "  sha256 TEXT NOT NULL,"
     "  expires INTEGER NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  created_by TEXT NOT NULL,"
     "  PRIMARY KEY (tenant, role, version));"
     "CREATE TABLE tuf_online_keys ("        /* snapshot and timestamp keys the server holds */
     "  tenant TEXT NOT NULL,"
     "  role TEXT NOT NULL CHECK (role IN ('snapshot', 'timestamp')),"
     "  keyid TEXT NOT NULL,"
     "  public_key TEXT NOT NULL,"             /* the TUF key object, JSON */
     "  key_file TEXT NOT NULL,"               /* private half: a 0600 file under data_dir */
     "  created_at INTEGER NOT NULL,"
     "  retired_at INTEGER,"                   /* a pushed root no longer lists it */
     "  PRIMARY KEY (tenant, keyid));"
     "CREATE TABLE tuf_blobs ("               /* uploaded target files, content-addressed */
     "  tenant TEXT NOT NULL,"
     "  sha256 TEXT NOT NULL,"
     "  sha1 TEXT NOT NULL,"
     "  md5 TEXT NOT NULL,"
     "  length INTEGER NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  created_by TEXT NOT NULL,"
     "  PRIMARY KEY (tenant, sha256));"
     "CREATE TABLE tuf_targets ("             /* what the current targets roles list */
     "  tenant TEXT NOT NULL,"
     "  path TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  sha256 TEXT NOT NULL,"
     "  length INTEGER NOT NULL,"
     "  custom TEXT,"                          /* JSON, as signed */
     "  PRIMARY KEY (tenant, role, path));"
     "CREATE INDEX tuf_targets_path ON tuf_targets(tenant, path);"},
    {5, "devices and rollouts: registry, groups, director keys, rollouts, actions, events",
     "CREATE TABLE tenants ("
     "  name TEXT PRIMARY KEY,"
     "  gateway_token_sha256 TEXT UNIQUE,"      /* registers unknown devices on first contact */
     "  created_at INTEGER NOT NULL);"
     "CREATE TABLE devices ("
     "  id INTEGER PRIMARY KEY,"
     "  tenant TEXT NOT NULL,"
     "  name TEXT NOT NULL,"                     /* the device id the device calls itself */
     "  token_sha256 TEXT UNIQUE,"
     "  attributes TEXT NOT NULL DEFAULT '{}',"  /* set by operators: site, customer, ... */
     "  inventory TEXT NOT NULL DEFAULT '{}',"   /* reported by the device */
     "  hardware TEXT NOT NULL DEFAULT '',"
     "  version TEXT NOT NULL DEFAULT '',"
     "  tags TEXT NOT NULL DEFAULT '[]',"
     "  state TEXT NOT NULL DEFAULT 'registered',"
     "  created_at INTEGER NOT NULL,"
     "  last_seen INTEGER,"
     "  UNIQUE (tenant, name));"
     "CREATE TABLE device_groups ("
     "  tenant TEXT NOT NULL,"
     "  name TEXT NOT NULL,"
     "  device INTEGER NOT NULL REFERENCES devices(id),"
     "  PRIMARY KEY (tenant, name, device));"
     "CREATE TABLE director_keys ("             /* signs each device's own targets file */
     "  tenant TEXT PRIMARY KEY,"
     "  keyid TEXT NOT NULL,"
     "  public_key TEXT NOT NULL,"
     "  key_file TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);"
     "CREATE TABLE rollouts ("
     "  id INTEGER PRIMARY KEY,"
     "  tenant TEXT NOT NULL,"
     "  name TEXT NOT NULL,"
     "  release TEXT NOT NULL,"                  /* the image index target path */
     "  version TEXT NOT NULL,"
     "  release_sha256 TEXT NOT NULL,"           /* index hash when created: the gate's binding */
     "  filter TEXT NOT NULL DEFAULT '',"
     "  group_name TEXT,"
     "  phases TEXT NOT NULL,"                   /* JSON [{name, percent} | {name, filter}] */
     "  success_threshold INTEGER NOT NULL,"     /* % of a phase succeeded: next phase */
     "  error_threshold INTEGER NOT NULL,"       /* % of started devices failed: stop */
     "  on_error TEXT NOT NULL CHECK (on_error IN ('pause', 'abort')),"
     "  start_mode TEXT NOT NULL CHECK (start_mode IN ('manual', 'auto', 'scheduled')),"
     "  start_at INTEGER,"
     "  action_type TEXT NOT NULL CHECK (action_type IN ('forced', 'soft', 'download_only')),"
     "  window TEXT,"                            /* JSON {cron, duration, tz} or NULL */
     "  priority INTEGER NOT NULL DEFAULT 0,"
     "  state TEXT NOT NULL,"                    /* created running paused finished canceled aborted */
     "  state_reason TEXT NOT NULL DEFAULT '',"
     "  current_phase INTEGER NOT NULL DEFAULT 0,"
     "  error_baseline INTEGER NOT NULL DEFAULT 0," /* failures accepted by a resume */
     "  rollback_of INTEGER REFERENCES rollouts(id),"
     "  created_by TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE TABLE rollout_changes ("            /* change records the rollout delivers */
     "  rollout INTEGER NOT NULL REFERENCES rollouts(id),"
     "  record_id INTEGER NOT NULL REFERENCES records(id),"
     "  delivered_at INTEGER,"
     "  reworked_at INTEGER,"
     "  PRIMARY KEY (rollout, record_id));"
     "CREATE TABLE actions ("                    /* one device in one rollout */
     "  id INTEGER PRIMARY KEY,"
     "  rollout INTEGER NOT NULL REFERENCES rollouts(id),"
     "  device INTEGER NOT NULL REFERENCES devices(id),"
     "  phase INTEGER NOT NULL,"
     "  state TEXT NOT NULL,"                    /* waiting assigned downloading ... success failure */
     "  progress INTEGER NOT NULL DEFAULT 0,"
     "  reason TEXT NOT NULL DEFAULT '',"
     "  log_tail TEXT NOT NULL DEFAULT '',"
     "  open INTEGER NOT NULL DEFAULT 1,"        /* 0 once success, failure, canceled */
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  UNIQUE (rollout, device));"
     "CREATE INDEX actions_device ON actions(device, open);"
     "CREATE INDEX actions_rollout ON actions(rollout, phase, state);"
     "CREATE TABLE device_events ("
     "  id INTEGER PRIMARY KEY,"
     "  device INTEGER NOT NULL REFERENCES devices(id),"
     "  action INTEGER REFERENCES actions(id),"
     "  step TEXT NOT NULL,"
     "  progress INTEGER,"
     "  reason TEXT NOT NULL DEFAULT '',"
     "  log_tail TEXT NOT NULL DEFAULT '',"
     "  at INTEGER NOT NULL);"
     "CREATE INDEX device_events_device ON device_events(device, id);"},
};

int schema_latest(void)
{
    return migrations[sizeof migrations / sizeof migrations[0] - 1].version;
}

static bool current_version(db *d, int64_t *version, uf_error *err)
{
    if (!db_exec(d,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                 DB_NO_ARGS, err))
        return false;
    bool found;
    if (!db_query_int(d, "SELECT MAX(version) FROM schema_migrations WHERE version > $1",
                      DB_ARGS(db_int(0)), version, &found, err))
        return false;
    return true;
}

static bool apply(db *d, const migration *m, uf_error *err)
{
    if (!db_begin(d, err))
        return false;
    if (!db_exec_script(d, m->sql, err) ||
        !db_exec(d, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                 DB_ARGS(db_int(m->version), db_text(m->name), db_int((int64_t)time(NULL))),
                 err) ||
        !db_commit(d, err)) {
        db_rollback(d);
        return uf_error_prefix(err, "migration %d (%s)", m->version, m->name);
    }
    return true;
}

bool schema_migrate(db *d, int *applied, uf_error *err)
{
    int64_t have = 0;
    if (applied)
        *applied = 0;
    if (!current_version(d, &have, err))
        return uf_error_prefix(err, "read schema version");
    if (have > schema_latest())
        return uf_error_set(err, UF_E_CONFLICT,
                            "the database has schema version %lld but this upflowd knows only "
                            "up to %d: refusing to run an older binary on a newer database",
                            (long long)have, schema_latest());
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        if (migrations[i].version <= have)
            continue;
        if (!apply(d, &migrations[i], err))
            return false;
        if (applied)
            (*applied)++;
    }
    return true;
}
