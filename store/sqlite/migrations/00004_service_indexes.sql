-- Every deploy decision reads the Deploys of its service and, when one of
-- them is past its verification deadline, the service's verify decisions
-- (a deploy whose smoke tests were skipped stays a violation); a sweep reads
-- a service's evidence by kind. Without these indexes each such read
-- scanned a whole table, which grows with every document and decision.

-- +goose Up
CREATE INDEX evidence_service ON evidence (service, kind, seq);
CREATE INDEX decisions_service ON decisions (service, gate, seq);

-- +goose Down
DROP INDEX decisions_service;
DROP INDEX evidence_service;
