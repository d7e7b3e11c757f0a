-- The policy sets decisions were made under, one row per policy revision,
-- projected from the ledger's policy entries (the modules and data stay in
-- the entry's body). Ledgers written before this table have decisions
-- whose policy set was never recorded; their entries are unchanged.

-- +goose Up
CREATE TABLE policies (
    revision TEXT PRIMARY KEY,
    modules  INTEGER NOT NULL CHECK (modules > 0),
    seq      INTEGER NOT NULL UNIQUE REFERENCES entries (seq),
    added_at TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE policies;
