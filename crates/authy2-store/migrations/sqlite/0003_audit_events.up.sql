-- The append-only audit log. No foreign keys on purpose: events outlive the users and
-- organizations they mention.
CREATE TABLE audit_events (
    id               BLOB PRIMARY KEY NOT NULL,
    occurred_at      TEXT NOT NULL,
    action           TEXT NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_user_id    BLOB,
    actor_ip         TEXT,
    actor_user_agent TEXT,
    organization_id  BLOB,
    target_type      TEXT,
    target_id        TEXT,
    subject_email    TEXT,
    request_id       TEXT,
    metadata         TEXT NOT NULL
);

CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, occurred_at, id);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, occurred_at, id);
CREATE INDEX audit_events_organization ON audit_events (organization_id, occurred_at, id);
