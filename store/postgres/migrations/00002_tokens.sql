-- API tokens of `shipgate serve`: the SHA-256 of each secret, never the
-- secret. Rows are never deleted; revoking one stamps revoked_at/revoked_by.
-- Times are store.FormatTime text, as in the query tables.

-- +goose Up
CREATE TABLE tokens (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('pipeline', 'approver', 'auditor', 'admin')),
    hash       text NOT NULL UNIQUE,
    created_at text NOT NULL,
    created_by text NOT NULL,
    revoked_at text,
    revoked_by text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

-- +goose StatementBegin
CREATE FUNCTION tokens_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tokens are revoked, never deleted';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER tokens_no_delete BEFORE DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION tokens_no_delete();

-- +goose Down
DROP TABLE tokens;
DROP FUNCTION tokens_no_delete();
