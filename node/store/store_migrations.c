/*
 * The node's schema as the steps that built it (see store.c's invariants).
 */
#include <stddef.h>
#include <stdint.h>

#include "store_priv.h"

/*
 * Migration step i brings user_version from i to i + 1.  Append only: a
 * shipped step is never edited.
 */
const char *const store_migrations[] = {
	/* 1: metadata, last known peers, remote state, events. */
	"CREATE TABLE meta ("
	"  key   TEXT PRIMARY KEY NOT NULL,"
	"  value"
	");"
	"CREATE TABLE peers ("
	"  node_id          TEXT PRIMARY KEY NOT NULL,"
	"  addresses        TEXT CHECK (addresses IS NULL OR json_valid(addresses)),"
	"  observed_address TEXT,"
	"  labels           TEXT CHECK (labels IS NULL OR json_valid(labels)),"
	"  cert_fingerprint TEXT,"
	"  last_seen_ms     INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE remote_state ("
	"  origin      TEXT PRIMARY KEY NOT NULL,"
	"  incarnation INTEGER NOT NULL,"
	"  seq         INTEGER NOT NULL,"
	"  status      BLOB,"
	"  updated_ms  INTEGER NOT NULL"
	");"
	"CREATE TABLE events ("
	"  origin      TEXT NOT NULL,"
	"  incarnation INTEGER NOT NULL,"
	"  seq         INTEGER NOT NULL,"
	"  kind        INTEGER NOT NULL,"
	"  time_ms     INTEGER NOT NULL,"
	"  body        BLOB,"
	"  PRIMARY KEY (origin, incarnation, seq)"
	");"
	"CREATE INDEX events_time ON events (time_ms);"
	"CREATE INDEX events_kind_time ON events (kind, time_ms);",
	/* 2: when each event reached this node (propagation delay). */
	"ALTER TABLE events ADD COLUMN received_ms INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 3: the work the mesh carries (store_work.c).  Each row keeps the
	 * columns it is looked up by and its whole record as JSON, the form
	 * the API serves.
	 */
	"CREATE TABLE tasks ("
	"  node       TEXT NOT NULL,"
	"  task_id    TEXT NOT NULL,"
	"  name       TEXT NOT NULL,"
	"  state      TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  body       TEXT NOT NULL CHECK (json_valid(body)),"
	"  PRIMARY KEY (node, task_id)"
	");"
	"CREATE INDEX tasks_updated ON tasks (updated_ms);"
	"CREATE TABLE task_logs ("
	"  node     TEXT NOT NULL,"
	"  task_id  TEXT NOT NULL,"
	"  line_seq INTEGER NOT NULL,"
	"  time_ms  INTEGER NOT NULL,"
	"  body     TEXT NOT NULL CHECK (json_valid(body)),"
	"  PRIMARY KEY (node, task_id, line_seq)"
	");"
	"CREATE TABLE alerts ("
	"  node       TEXT NOT NULL,"
	"  alert_id   TEXT NOT NULL,"
	"  state      TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  body       TEXT NOT NULL CHECK (json_valid(body)),"
	"  PRIMARY KEY (node, alert_id)"
	");"
	"CREATE TABLE commands ("
	"  id              TEXT PRIMARY KEY NOT NULL,"
	"  idempotency_key TEXT UNIQUE,"
	"  issued_ms       INTEGER NOT NULL,"
	"  body            TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE TABLE commands_seen ("
	"  id          TEXT PRIMARY KEY NOT NULL,"
	"  origin      TEXT NOT NULL,"
	"  received_ms INTEGER NOT NULL,"
	"  result      BLOB"
	");"
	"CREATE TABLE audit ("
	"  seq     INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time_ms INTEGER NOT NULL,"
	"  node    TEXT NOT NULL,"
	"  action  TEXT NOT NULL,"
	"  body    TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX audit_time ON audit (time_ms);",
	/*
	 * 4: the nodes we forgot (forget.c), so a restart does not bring
	 * them back: the highest life forgotten (0: none held) and the
	 * signal's clock at the forget, as we estimated it.
	 */
	"CREATE TABLE forgotten ("
	"  node_id     TEXT PRIMARY KEY NOT NULL,"
	"  forgot_ms   INTEGER NOT NULL,"
	"  incarnation INTEGER NOT NULL,"
	"  signal_ms   INTEGER NOT NULL"
	");",
	/* 5: signed API tokens issued here (store_tokens.h). */
	"CREATE TABLE api_tokens ("
	"  id         TEXT PRIMARY KEY NOT NULL,"
	"  name       TEXT NOT NULL,"
	"  role       TEXT NOT NULL,"
	"  iss        TEXT NOT NULL,"
	"  iat_ms     INTEGER NOT NULL,"
	"  exp_ms     INTEGER NOT NULL,"
	"  revoked_ms INTEGER NOT NULL DEFAULT 0"
	");",
	/* 6: the origin's signature of each event, replayed with it. */
	"ALTER TABLE events ADD COLUMN sig BLOB;",
	/* 7: job result callbacks waiting or done (store_callbacks.h). */
	"CREATE TABLE callbacks ("
	"  job_id      TEXT PRIMARY KEY NOT NULL,"
	"  url         TEXT NOT NULL,"
	"  secret      TEXT NOT NULL,"
	"  body        BLOB NOT NULL,"
	"  deadline_ms INTEGER NOT NULL,"
	"  next_ms     INTEGER NOT NULL,"
	"  attempts    INTEGER NOT NULL,"
	"  state       TEXT NOT NULL,"
	"  history     TEXT NOT NULL CHECK (json_valid(history))"
	");"
	"CREATE INDEX callbacks_state ON callbacks (state, next_ms);",
	/* 8: tasks' process groups, ended after a crash (store_runs.h). */
	"CREATE TABLE task_groups (pgid INTEGER PRIMARY KEY, task_id TEXT NOT NULL,"
	"  start_ticks INTEGER NOT NULL, boot_id TEXT NOT NULL,"
	"  started_ms INTEGER NOT NULL);",
	/* 9: the certificate each token was signed under, and every
	 * token issuer's certificates learnt, so a token outlives its
	 * issuer's certificate rotation (store_tokens.h). */
	"ALTER TABLE api_tokens ADD COLUMN kid TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE issuer_certs ("
	"  node_id TEXT NOT NULL,"
	"  kid     TEXT NOT NULL,"
	"  der     BLOB NOT NULL,"
	"  last_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (node_id, kid)"
	");",
	/*
	 * 10: durable jobs (store_jobs.h).  jobs and job_history on the
	 * issuer; job_runs on the executor, one row per (job, epoch), with
	 * the result until the issuer has it (delivered).
	 */
	"CREATE TABLE jobs ("
	"  id              TEXT PRIMARY KEY NOT NULL,"
	"  state           TEXT NOT NULL,"
	"  task            TEXT NOT NULL,"
	"  idempotency_key TEXT UNIQUE,"
	"  updated_ms      INTEGER NOT NULL,"
	"  body            TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX jobs_state ON jobs (state);"
	"CREATE TABLE job_history ("
	"  seq     INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  job_id  TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL,"
	"  body    TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX job_history_job ON job_history (job_id, seq);"
	"CREATE TABLE job_runs ("
	"  job_id     TEXT NOT NULL,"
	"  epoch      INTEGER NOT NULL,"
	"  issuer     TEXT NOT NULL,"
	"  key        TEXT,"
	"  state      TEXT NOT NULL,"
	"  delivered  INTEGER NOT NULL DEFAULT 0,"
	"  updated_ms INTEGER NOT NULL,"
	"  body       TEXT NOT NULL CHECK (json_valid(body)),"
	"  PRIMARY KEY (job_id, epoch)"
	");"
	"CREATE INDEX job_runs_key ON job_runs (key);"
	"CREATE TABLE job_fences ("
	"  job_id TEXT NOT NULL,"
	"  node   TEXT NOT NULL,"
	"  epoch  INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, node)"
	");",
	/*
	 * 11: workflows on their coordinator (store_workflows.h): a row per
	 * workflow, a row per step, and every transition of either in
	 * workflow_history, written in the state change's transaction.
	 */
	"CREATE TABLE workflows ("
	"  id                TEXT PRIMARY KEY NOT NULL,"
	"  name              TEXT NOT NULL,"
	"  definition        TEXT NOT NULL CHECK (json_valid(definition)),"
	"  params            TEXT NOT NULL CHECK (json_valid(params)),"
	"  principal         TEXT NOT NULL,"
	"  state             TEXT NOT NULL,"
	"  coordinator       TEXT NOT NULL,"
	"  coordinator_epoch INTEGER NOT NULL DEFAULT 1,"
	"  budget_deadline_ms INTEGER NOT NULL DEFAULT 0,"
	"  created_ms        INTEGER NOT NULL,"
	"  updated_ms        INTEGER NOT NULL,"
	"  finished_ms       INTEGER NOT NULL DEFAULT 0,"
	"  reason            TEXT"
	");"
	"CREATE INDEX workflows_state ON workflows (state);"
	"CREATE TABLE workflow_steps ("
	"  workflow_id   TEXT NOT NULL,"
	"  name          TEXT NOT NULL,"
	"  idx           INTEGER NOT NULL,"
	"  state         TEXT NOT NULL,"
	"  attempt       INTEGER NOT NULL DEFAULT 0,"
	"  tries         INTEGER NOT NULL DEFAULT 0,"
	"  job_id        TEXT,"
	"  node          TEXT,"
	"  started_ms    INTEGER NOT NULL DEFAULT 0,"
	"  finished_ms   INTEGER NOT NULL DEFAULT 0,"
	"  result        TEXT CHECK (result IS NULL OR json_valid(result)),"
	"  next_retry_ms INTEGER NOT NULL DEFAULT 0,"
	"  approved_by   TEXT,"
	"  comment       TEXT,"
	"  error         TEXT,"
	"  PRIMARY KEY (workflow_id, name)"
	");"
	"CREATE TABLE workflow_history ("
	"  seq         INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  workflow_id TEXT NOT NULL,"
	"  time_ms     INTEGER NOT NULL,"
	"  body        TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX workflow_history_wf ON workflow_history (workflow_id, seq);",
	/*
	 * 12: schedules, mesh state
	 * (node/work/schedules.h).  Every schedule of the mesh as this
	 * node holds it, tombstones too; body is the merged record.
	 */
	"CREATE TABLE schedules ("
	"  name       TEXT PRIMARY KEY NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  body       TEXT NOT NULL CHECK (json_valid(body))"
	");",
	/*
	 * 13: a workflow taken over (node/work/workflows_takeover.h): the
	 * node a step's attempt was dispatched to by the coordinator before,
	 * where the taker submits the same attempt again, so that the run
	 * already there answers it (job_runs.h's idempotency key).
	 */
	"ALTER TABLE workflow_steps ADD COLUMN reattach TEXT;",
	/*
	 * 14: services (node/work/services.h): each definition this node
	 * keeps, its desired state (1 running, 0 stopped), set from anywhere
	 * and kept over a restart, and the restarts counted so far.
	 */
	"CREATE TABLE services ("
	"  name       TEXT PRIMARY KEY NOT NULL,"
	"  spec       TEXT NOT NULL CHECK (json_valid(spec)),"
	"  desired    INTEGER NOT NULL CHECK (desired IN (0, 1)),"
	"  updated_ms INTEGER NOT NULL"
	");",
	/*
	 * 15: the node's own metric history, a row per minute
	 * (node/host/history.h, store_history.h): the point as JSON, kept
	 * seven days.
	 */
	"CREATE TABLE metric_minutes ("
	"  t_ms INTEGER PRIMARY KEY NOT NULL,"
	"  body TEXT NOT NULL CHECK (json_valid(body))"
	");",
	/*
	 * 16: alert notices over a restart (node/work/notify.h,
	 * store_notify.h): each notice still waiting for its channel (kind
	 * "notice": its attempts so far and the wall time of its next try)
	 * or in an open group (kind "group": when the group goes), the
	 * channel by name and the alerts it speaks of as JSON, never a
	 * secret; and what became of each alert's notices.
	 */
	"CREATE TABLE notify_waiting ("
	"  id       INTEGER PRIMARY KEY NOT NULL,"
	"  kind     TEXT NOT NULL,"
	"  channel  TEXT NOT NULL,"
	"  what     TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_ms  INTEGER NOT NULL,"
	"  body     TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE TABLE notify_outcomes ("
	"  seq      INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  alert_id TEXT NOT NULL,"
	"  body     TEXT NOT NULL CHECK (json_valid(body))"
	");"
	"CREATE INDEX notify_outcomes_alert ON notify_outcomes (alert_id, seq);",
	/*
	 * 17: an event taken straight from its origin on its link's
	 * certificate, its signature not checked (node/mesh/sync_vouch.c):
	 * checked before a replay hands it on.
	 */
	"ALTER TABLE events ADD COLUMN unchecked INTEGER NOT NULL DEFAULT 0;",
};

const size_t store_nmigrations = sizeof(store_migrations) /
    sizeof(store_migrations[0]);
