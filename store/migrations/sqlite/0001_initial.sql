-- Complaints, their outbox, workflow cases and the raw payloads they came from.
-- Times are UTC ISO-8601 text ('YYYY-MM-DDTHH:MM:SS.ffffffZ') so text order is time order.

CREATE TABLE complaints (
    id              TEXT PRIMARY KEY,
    tracking_id     TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    external_id     TEXT,
    request_hash    TEXT,
    profile         TEXT NOT NULL,
    reporter_name   TEXT,
    reporter_phone  TEXT,
    reporter_email  TEXT,
    reply_channel   TEXT,
    reply_address   TEXT,
    anonymous       INTEGER NOT NULL,
    confidential    INTEGER NOT NULL,
    classification  TEXT NOT NULL,
    category        TEXT,
    text            TEXT NOT NULL,
    text_original   TEXT NOT NULL,
    location        TEXT,
    incident_date   TEXT,
    attachments     TEXT NOT NULL,
    logged_by       TEXT,
    received_at     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX complaints_received ON complaints (received_at, id);

CREATE TABLE inbound_payloads (
    complaint_id  TEXT PRIMARY KEY REFERENCES complaints (id),
    content_type  TEXT NOT NULL,
    body          BLOB NOT NULL
);

CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    complaint_id   TEXT NOT NULL REFERENCES complaints (id),
    created_at     TEXT NOT NULL,
    claimed_until  TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    done_at        TEXT
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL;

CREATE TABLE cases (
    complaint_id         TEXT PRIMARY KEY REFERENCES complaints (id),
    tracking_id          TEXT NOT NULL,
    state                TEXT NOT NULL,
    suggested_agency     TEXT,
    agency               TEXT,
    verification_due     TEXT NOT NULL,
    completion_due       TEXT NOT NULL,
    verification_due_at  TEXT NOT NULL,
    completion_due_at    TEXT NOT NULL,
    opened_at            TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    closed_at            TEXT
);
CREATE INDEX cases_due ON cases (completion_due_at) WHERE closed_at IS NULL;

CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT,
    actor         TEXT,
    note          TEXT
);
CREATE INDEX case_events_complaint ON case_events (complaint_id, id);
