-- The ledger and the query tables projected from it. Times are RFC 3339 UTC
-- with nine fractional digits, so that text order is time order.

-- +goose Up
CREATE TABLE entries (
    seq  INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    key  TEXT NOT NULL,
    hash TEXT NOT NULL,
    body BLOB NOT NULL
) STRICT;

-- The ledger is append-only; whoever edits the file by hand has to say so.
-- +goose StatementBegin
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
-- +goose StatementEnd

CREATE TABLE evidence (
    digest       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    release_id   TEXT NOT NULL,
    service      TEXT NOT NULL,
    environment  TEXT NOT NULL,
    "commit"     TEXT NOT NULL,
    source       TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    seq          INTEGER NOT NULL UNIQUE REFERENCES entries (seq),
    added_at     TEXT NOT NULL
) STRICT;

CREATE INDEX evidence_release ON evidence (release_id, seq);

CREATE TABLE decisions (
    id           TEXT PRIMARY KEY,
    release_id   TEXT NOT NULL,
    service      TEXT NOT NULL,
    environment  TEXT NOT NULL,
    gate         TEXT NOT NULL,
    allow        INTEGER NOT NULL CHECK (allow IN (0, 1)),
    dry_run      INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    reason       TEXT NOT NULL,
    evaluated_at TEXT NOT NULL,
    seq          INTEGER NOT NULL UNIQUE REFERENCES entries (seq)
) STRICT;

CREATE INDEX decisions_release ON decisions (release_id, seq);

CREATE TABLE violations (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('violation', 'obligation')),
    release_id  TEXT NOT NULL,
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    gate        TEXT NOT NULL,
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    rules       TEXT NOT NULL, -- JSON array of rule ids
    actor       TEXT NOT NULL,
    message     TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    due         TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at   TEXT,
    closed_by   TEXT REFERENCES evidence (digest),
    seq         INTEGER NOT NULL UNIQUE REFERENCES entries (seq),
    CHECK ((status = 'open') = (closed_at IS NULL AND closed_by IS NULL))
) STRICT;

CREATE INDEX violations_due ON violations (due, id);
CREATE INDEX violations_service ON violations (service, status);

-- +goose Down
DROP TABLE violations;
DROP TABLE decisions;
DROP TABLE evidence;
DROP TABLE entries;
