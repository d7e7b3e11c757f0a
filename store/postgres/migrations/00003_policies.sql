-- The policy sets decisions were made under, one row per policy revision,
-- projected from the ledger's policy entries (the modules and data stay in
-- the entry's body). Ledgers written before this table have decisions
-- whose policy set was never recorded; their entries are unchanged.

-- +goose Up
CREATE TABLE policies (
    revision text PRIMARY KEY,
    modules  bigint NOT NULL CHECK (modules > 0),
    seq      bigint NOT NULL UNIQUE REFERENCES entries (seq),
    added_at text NOT NULL
);

-- +goose Down
DROP TABLE policies;
