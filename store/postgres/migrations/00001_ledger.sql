-- The ledger and the query tables projected from it. Times are RFC 3339 UTC
-- with nine fractional digits (store.FormatTime), as in the SQLite store:
-- text order is time order, and the nanoseconds of evidence and decision
-- times survive, which timestamptz (microseconds) would drop.

-- +goose Up
CREATE TABLE entries (
    seq  bigint PRIMARY KEY CHECK (seq > 0),
    type text NOT NULL,
    key  text NOT NULL,
    hash text NOT NULL,
    -- The canonical JSON exactly as appended: bytea keeps every byte, where
    -- jsonb would reorder members and text would refuse some byte strings.
    body bytea NOT NULL
);

-- The ledger is append-only; whoever edits it by hand has to say so
-- (session_replication_role = replica, or dropping these triggers).
-- +goose StatementBegin
CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER entries_no_change BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_append_only();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_append_only();

CREATE TABLE evidence (
    digest       text PRIMARY KEY,
    kind         text NOT NULL,
    release_id   text NOT NULL,
    service      text NOT NULL,
    environment  text NOT NULL,
    "commit"     text NOT NULL,
    source       text NOT NULL,
    collected_at text NOT NULL,
    seq          bigint NOT NULL UNIQUE REFERENCES entries (seq),
    added_at     text NOT NULL
);

CREATE INDEX evidence_release ON evidence (release_id, seq);

CREATE TABLE decisions (
    id           text PRIMARY KEY,
    release_id   text NOT NULL,
    service      text NOT NULL,
    environment  text NOT NULL,
    gate         text NOT NULL,
    allow        boolean NOT NULL,
    dry_run      boolean NOT NULL,
    reason       text NOT NULL,
    evaluated_at text NOT NULL,
    seq          bigint NOT NULL UNIQUE REFERENCES entries (seq)
);

CREATE INDEX decisions_release ON decisions (release_id, seq);

CREATE TABLE violations (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('violation', 'obligation')),
    release_id  text NOT NULL,
    service     text NOT NULL,
    environment text NOT NULL,
    gate        text NOT NULL,
    decision_id text NOT NULL REFERENCES decisions (id),
    rules       text[] NOT NULL,
    actor       text NOT NULL,
    message     text NOT NULL,
    opened_at   text NOT NULL,
    due         text NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at   text,
    closed_by   text REFERENCES evidence (digest),
    seq         bigint NOT NULL UNIQUE REFERENCES entries (seq),
    CHECK ((status = 'open') = (closed_at IS NULL AND closed_by IS NULL))
);

CREATE INDEX violations_due ON violations (due, id);
CREATE INDEX violations_service ON violations (service, status);

-- +goose Down
DROP TABLE violations;
DROP TABLE decisions;
DROP TABLE evidence;
DROP TABLE entries;
DROP FUNCTION entries_append_only();
