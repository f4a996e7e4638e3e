-- The SMS channel (issue 3) and what complaints need from it.

-- Why a complaint needs a person's look (normalizer.models.Flag), space-separated.
ALTER TABLE complaints ADD COLUMN flags TEXT NOT NULL DEFAULT '';

-- More words from the citizen about a complaint already filed (`TAMBAH <ID> ...`).
CREATE TABLE complaint_followups (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    text          TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX complaint_followups_complaint ON complaint_followups (complaint_id, id);

-- Parts of a long SMS waiting for the rest. A group is one (gateway, sender, reference,
-- total) while it is open; it is closed once its message has been taken in.
CREATE TABLE sms_part_groups (
    id                 TEXT PRIMARY KEY,
    gateway            TEXT NOT NULL,
    sender             TEXT NOT NULL,
    reference          INTEGER NOT NULL,
    total              INTEGER NOT NULL,
    first_received_at  TEXT NOT NULL,
    closed_at          TEXT
);
CREATE UNIQUE INDEX sms_part_groups_open ON sms_part_groups (gateway, sender, reference, total)
    WHERE closed_at IS NULL;
CREATE INDEX sms_part_groups_waiting ON sms_part_groups (first_received_at)
    WHERE closed_at IS NULL;

CREATE TABLE sms_parts (
    group_id      TEXT NOT NULL REFERENCES sms_part_groups (id),
    seq           INTEGER NOT NULL,
    gateway       TEXT NOT NULL,
    message_id    TEXT,
    text          TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (group_id, seq)
);
-- A part delivered again after its message was taken in is known by its id.
CREATE UNIQUE INDEX sms_parts_message ON sms_parts (gateway, message_id)
    WHERE message_id IS NOT NULL;

-- Every SMS taken in, whatever it asked for: the reply it got (a retry gets the same),
-- and the per-number rate limit counts these.
CREATE TABLE sms_messages (
    gateway       TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    sender        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    intent        TEXT NOT NULL,
    complaint_id  TEXT REFERENCES complaints (id),
    flags         TEXT NOT NULL,
    reply         TEXT,
    reply_via     TEXT,  -- 'http': in the answer to the delivery; 'sender': queued in sms_outbound
    PRIMARY KEY (gateway, message_id)
);
CREATE INDEX sms_messages_sender ON sms_messages (sender, received_at);
CREATE INDEX sms_messages_complaint ON sms_messages (complaint_id) WHERE complaint_id IS NOT NULL;

-- SMS to send. At most once: a row is marked 'sending' (committed) before the provider
-- is called, and a row found 'sending' after a restart becomes 'unknown', never resent.
CREATE TABLE sms_outbound (
    id               TEXT PRIMARY KEY,
    gateway          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    text             TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    complaint_id     TEXT REFERENCES complaints (id),
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    provider_id      TEXT,
    last_error       TEXT
);
CREATE INDEX sms_outbound_due ON sms_outbound (next_attempt_at) WHERE state = 'pending';
