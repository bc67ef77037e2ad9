import RunnerCore

/// Numbered schema migrations. Never edit one that has shipped: add the next, and make `fresh`
/// what the migrations leave (a test compares the two schemas, table by table).
enum Migrations {
    /// The schema a new database gets at once: what every migration in turn leaves, without
    /// the tables, copies and renames of the way there (SQLite re-reads the schema after most
    /// DDL: replaying them slowed every first command; docs/DECISIONS.md, Store).
    static let bookkeeping = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"

    static let fresh = """
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          pipeline TEXT NOT NULL,
          pipeline_file TEXT NOT NULL,
          definition TEXT NOT NULL,
          status TEXT NOT NULL,
          trigger TEXT NOT NULL,
          params TEXT NOT NULL,
          parallelism INTEGER NOT NULL,
          concurrency_group TEXT,
          created_at REAL NOT NULL,
          started_at REAL,
          finished_at REAL,
          updated_at REAL NOT NULL,
          wake_at REAL,
          error_code TEXT,
          error_message TEXT,
          owner TEXT,
          lease_until REAL,
          cancel_requested_at REAL,
          refs TEXT,
          trigger_detail TEXT,
          epoch INTEGER NOT NULL DEFAULT 0,
          secret_params TEXT,
          idempotency_scope TEXT,
          idempotency_key TEXT,
          actor TEXT
        );
        CREATE INDEX runs_by_pipeline ON runs(pipeline, id);
        CREATE INDEX runs_by_status ON runs(status);
        CREATE INDEX runs_by_idempotency_key ON runs(idempotency_scope, idempotency_key)
          WHERE idempotency_key IS NOT NULL;
        CREATE TABLE steps (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          step TEXT NOT NULL,
          item TEXT,
          section TEXT NOT NULL,
          position INTEGER NOT NULL,
          status TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          serial INTEGER NOT NULL DEFAULT 0,
          retry_at REAL,
          error_code TEXT,
          error_message TEXT,
          progress INTEGER,
          progress_message TEXT,
          started_at REAL,
          finished_at REAL,
          PRIMARY KEY (run_id, name)
        ) WITHOUT ROWID;
        CREATE TABLE attempts (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step TEXT NOT NULL,
          serial INTEGER NOT NULL,
          attempt INTEGER NOT NULL,
          counted INTEGER NOT NULL DEFAULT 1,
          started_at REAL NOT NULL,
          finished_at REAL,
          pid INTEGER,
          exit_code INTEGER,
          signal INTEGER,
          timed_out INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          message TEXT,
          log_path TEXT,
          PRIMARY KEY (run_id, step, serial)
        ) WITHOUT ROWID;
        CREATE TABLE outputs (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (run_id, step, key)
        ) WITHOUT ROWID;
        CREATE TABLE events (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          id INTEGER NOT NULL,
          at REAL NOT NULL,
          kind TEXT NOT NULL,
          step TEXT,
          status TEXT,
          message TEXT,
          PRIMARY KEY (run_id, id)
        ) WITHOUT ROWID;
        CREATE TABLE tokens (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          role TEXT NOT NULL,
          hash TEXT NOT NULL,
          created_at REAL NOT NULL,
          revoked_at REAL
        );
        CREATE TABLE audit (
          seq INTEGER PRIMARY KEY,
          at REAL NOT NULL,
          action TEXT NOT NULL,
          run_id TEXT,
          pipeline TEXT,
          actor TEXT NOT NULL,
          params TEXT NOT NULL,
          trace_id TEXT,
          code TEXT
        );
        CREATE TABLE idempotency (
          scope TEXT NOT NULL,
          key TEXT NOT NULL,
          payload_hash TEXT NOT NULL,
          state TEXT NOT NULL,
          status INTEGER,
          body TEXT,
          run_id TEXT,
          created_at REAL NOT NULL,
          expires_at REAL NOT NULL,
          PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        CREATE TABLE schedule_state (
          pipeline TEXT NOT NULL,
          entry INTEGER NOT NULL,
          cron TEXT NOT NULL,
          last_fired_at REAL NOT NULL,
          PRIMARY KEY (pipeline, entry)
        ) WITHOUT ROWID;
        CREATE TABLE definitions (
          run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
          text TEXT NOT NULL
        );
        CREATE TRIGGER runs_terminal BEFORE UPDATE OF status ON runs
          WHEN instr('\(finishedRuns)', '|' || OLD.status || '|') > 0 AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished run cannot change status'); END;
        CREATE TRIGGER steps_terminal BEFORE UPDATE OF status ON steps
          WHEN instr('\(finishedSteps)', '|' || OLD.status || '|') > 0 AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished step cannot change status'); END;
        """

    /// `|succeeded|failed|...|`: the finished statuses, from the enums. A status added to one
    /// changes `fresh`, and the schema test then asks for the migration that changes the
    /// triggers of existing databases.
    private static let finishedRuns = "|" + RunStatus.allCases.filter(\.isTerminal).map { $0.rawValue + "|" }.joined()
    private static let finishedSteps = "|" + StepStatus.allCases.filter(\.isTerminal).map { $0.rawValue + "|" }.joined()

    static let all: [(version: Int, sql: String)] = [
        (1, """
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          pipeline TEXT NOT NULL,
          pipeline_file TEXT NOT NULL,
          definition TEXT NOT NULL,
          status TEXT NOT NULL,
          trigger TEXT NOT NULL,
          params TEXT NOT NULL,
          parallelism INTEGER NOT NULL,
          concurrency_group TEXT,
          created_at REAL NOT NULL,
          started_at REAL,
          finished_at REAL,
          updated_at REAL NOT NULL,
          wake_at REAL,
          error_code TEXT,
          error_message TEXT,
          owner TEXT,
          lease_until REAL,
          cancel_requested_at REAL
        );
        CREATE INDEX runs_by_pipeline ON runs(pipeline, id);
        CREATE INDEX runs_by_status ON runs(status);
        CREATE TABLE steps (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          step TEXT NOT NULL,
          item TEXT,
          section TEXT NOT NULL,
          position INTEGER NOT NULL,
          status TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          serial INTEGER NOT NULL DEFAULT 0,
          retry_at REAL,
          error_code TEXT,
          error_message TEXT,
          progress INTEGER,
          progress_message TEXT,
          started_at REAL,
          finished_at REAL,
          PRIMARY KEY (run_id, name)
        ) WITHOUT ROWID;
        CREATE TABLE attempts (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step TEXT NOT NULL,
          serial INTEGER NOT NULL,
          attempt INTEGER NOT NULL,
          counted INTEGER NOT NULL DEFAULT 1,
          started_at REAL NOT NULL,
          finished_at REAL,
          pid INTEGER,
          exit_code INTEGER,
          signal INTEGER,
          timed_out INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          message TEXT,
          log_path TEXT,
          PRIMARY KEY (run_id, step, serial)
        ) WITHOUT ROWID;
        CREATE TABLE outputs (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          step TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (run_id, step, key)
        ) WITHOUT ROWID;
        CREATE TABLE events (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          at REAL NOT NULL,
          kind TEXT NOT NULL,
          step TEXT,
          status TEXT,
          message TEXT
        );
        CREATE INDEX events_by_run ON events(run_id, id);
        -- Terminal states never change, whatever code writes.
        CREATE TRIGGER runs_terminal BEFORE UPDATE OF status ON runs
          WHEN OLD.status IN ('succeeded', 'failed', 'partial', 'cancelled', 'rolled_back', 'skipped') AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished run cannot change status'); END;
        CREATE TRIGGER steps_terminal BEFORE UPDATE OF status ON steps
          WHEN OLD.status IN ('succeeded', 'failed', 'skipped', 'cancelled') AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished step cannot change status'); END;
        """),
        // Events numbered per run and stored with their run (one B-tree, no rowid, no
        // separate index, no AUTOINCREMENT counter): appending one writes one page, not three.
        (2, """
        CREATE TABLE events_v2 (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          id INTEGER NOT NULL,
          at REAL NOT NULL,
          kind TEXT NOT NULL,
          step TEXT,
          status TEXT,
          message TEXT,
          PRIMARY KEY (run_id, id)
        ) WITHOUT ROWID;
        INSERT INTO events_v2
          SELECT run_id, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY id), at, kind, step, status, message FROM events;
        DROP TABLE events;
        ALTER TABLE events_v2 RENAME TO events;
        """),
        // The commits gitref params resolved to, and what launched a run (a hook's ref, pusher).
        (3, """
        ALTER TABLE runs ADD COLUMN refs TEXT;
        ALTER TABLE runs ADD COLUMN trigger_detail TEXT;
        """),
        // API tokens (their SHA-256 only) and the audit log.
        (4, """
        CREATE TABLE tokens (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          role TEXT NOT NULL,
          hash TEXT NOT NULL,
          created_at REAL NOT NULL,
          revoked_at REAL
        );
        CREATE TABLE audit (
          seq INTEGER PRIMARY KEY,
          at REAL NOT NULL,
          action TEXT NOT NULL,
          run_id TEXT,
          pipeline TEXT,
          actor TEXT NOT NULL,
          params TEXT NOT NULL,
          trace_id TEXT
        );
        """),
        // Idempotency keys (seed 002, IETF httpapi draft): the first response, replayed.
        (5, """
        CREATE TABLE idempotency (
          scope TEXT NOT NULL,
          key TEXT NOT NULL,
          payload_hash TEXT NOT NULL,
          state TEXT NOT NULL,
          status INTEGER,
          body TEXT,
          run_id TEXT,
          created_at REAL NOT NULL,
          expires_at REAL NOT NULL,
          PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        """),
        // When each schedule of each pipeline last fired (missed firings are run once at start).
        (6, """
        CREATE TABLE schedule_state (
          pipeline TEXT NOT NULL,
          entry INTEGER NOT NULL,
          cron TEXT NOT NULL,
          last_fired_at REAL NOT NULL,
          PRIMARY KEY (pipeline, entry)
        ) WITHOUT ROWID;
        """),
        // A run's pipeline definition in a table of its own (`runs.definition` stays empty):
        // SQLite rewrites a whole row at every update, and the run's row is updated at every
        // status change and lease renewal (a large pipeline's text each time).
        (7, """
        CREATE TABLE definitions (
          run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
          text TEXT NOT NULL
        );
        INSERT INTO definitions SELECT id, definition FROM runs;
        UPDATE runs SET definition = '';
        """),
        // The triggers that keep finished states finished, without an `IN (...)` list: SQLite
        // built a temporary table for the list at every update of a step (opening and closing
        // a B-tree each time: most of the store's time on a DAG of quick steps).
        (8, """
        DROP TRIGGER runs_terminal;
        DROP TRIGGER steps_terminal;
        CREATE TRIGGER runs_terminal BEFORE UPDATE OF status ON runs
          WHEN instr('|succeeded|failed|partial|cancelled|rolled_back|skipped|', '|' || OLD.status || '|') > 0 AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished run cannot change status'); END;
        CREATE TRIGGER steps_terminal BEFORE UPDATE OF status ON steps
          WHEN instr('|succeeded|failed|skipped|cancelled|', '|' || OLD.status || '|') > 0 AND NEW.status <> OLD.status
          BEGIN SELECT RAISE(ABORT, 'a finished step cannot change status'); END;
        """),
        // Fencing: each claim of a run bumps its epoch, which every write of its execution
        // checks. The names of its secret params, to mask them without its definition.
        (9, """
        ALTER TABLE runs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN secret_params TEXT;
        """),
        // The Idempotency-Key a run was launched with, in columns of its own (it was found
        // with json_extract over every run's trigger_detail); existing runs' keys copied.
        (10, """
        ALTER TABLE runs ADD COLUMN idempotency_scope TEXT;
        ALTER TABLE runs ADD COLUMN idempotency_key TEXT;
        UPDATE runs SET
          idempotency_scope = CASE WHEN json_valid(trigger_detail)
                              THEN json_extract(trigger_detail, '$.idempotency_scope') END,
          idempotency_key = CASE WHEN json_valid(trigger_detail)
                            THEN json_extract(trigger_detail, '$.idempotency_key') END
        WHERE trigger_detail LIKE '%idempotency_key%';
        CREATE INDEX runs_by_idempotency_key ON runs(idempotency_scope, idempotency_key)
          WHERE idempotency_key IS NOT NULL;
        """),
        // A refused action's code in a column of its own (it was kept in `action` after a space).
        (11, """
        ALTER TABLE audit ADD COLUMN code TEXT;
        UPDATE audit SET code = substr(action, instr(action, ' ') + 1),
          action = substr(action, 1, instr(action, ' ') - 1)
        WHERE instr(action, ' ') > 0;
        """),
        // Who launched each run (the launch's audit actor); earlier runs have none.
        (12, """
        ALTER TABLE runs ADD COLUMN actor TEXT;
        """),
    ]
}
