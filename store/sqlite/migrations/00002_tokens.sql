-- API tokens of `shipgate serve`: the SHA-256 of each secret, never the
-- secret. Rows are never deleted; revoking one stamps revoked_at/revoked_by.
-- Times are store.FormatTime text, as in the query tables.

-- +goose Up
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('pipeline', 'approver', 'auditor', 'admin')),
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER tokens_no_delete BEFORE DELETE ON tokens
BEGIN
    SELECT RAISE(ABORT, 'tokens are revoked, never deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tokens;
