-- The verification and routing workflow (issue 11): staff accounts, every action with its
-- version and timeline, the agencies a case went through, the nota dinas, the messages to
-- the citizen, and the desk's answer letters.

CREATE TABLE staff (
    username       TEXT PRIMARY KEY,
    role           TEXT NOT NULL,
    agency         TEXT,
    name           TEXT,
    jabatan        TEXT,
    nip            TEXT,
    password_hash  TEXT NOT NULL,
    disabled_at    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX staff_agency ON staff (agency, role) WHERE disabled_at IS NULL;

-- Bearer tokens and sessions, kept only as SHA-256 hashes.
CREATE TABLE staff_tokens (
    token_hash   TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES staff (username),
    kind         TEXT NOT NULL,  -- 'api' or 'session'
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX staff_tokens_user ON staff_tokens (username);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    username  TEXT NOT NULL,
    address   TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);

-- The case's version (optimistic concurrency), its current deadline and what the steps set.
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN due_at TEXT;
ALTER TABLE cases ADD COLUMN assignee TEXT;
ALTER TABLE cases ADD COLUMN held_at TEXT;
ALTER TABLE cases ADD COLUMN verified_at TEXT;
ALTER TABLE cases ADD COLUMN answered_at TEXT;
ALTER TABLE cases ADD COLUMN rating TEXT;
ALTER TABLE cases ADD COLUMN dissatisfied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN verification_late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN completion_late INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET due_at = verification_due_at WHERE state = 'diterima';
UPDATE cases SET due_at = completion_due_at WHERE state = 'diteruskan';
DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_state ON cases (state, due_at);

-- Who did what: the role and the state it came from, and the action's fields (JSON).
ALTER TABLE case_events ADD COLUMN role TEXT;
ALTER TABLE case_events ADD COLUMN from_state TEXT;
ALTER TABLE case_events ADD COLUMN data TEXT;

-- Every agency a case was forwarded to, and until when: an agency's staff see the cases
-- that are or were theirs, and of one moved away only that it moved.
CREATE TABLE case_agencies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    agency        TEXT NOT NULL,
    since         TEXT NOT NULL,
    until         TEXT
);
CREATE INDEX case_agencies_agency ON case_agencies (agency, complaint_id);
CREATE INDEX case_agencies_complaint ON case_agencies (complaint_id);

-- The nota dinas: every draft version, and every approved (frozen, numbered) text.
CREATE TABLE nota_drafts (
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    version       INTEGER NOT NULL,
    agency        TEXT NOT NULL,
    perihal       TEXT NOT NULL,
    isi           TEXT NOT NULL,
    author        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (complaint_id, version)
);

CREATE TABLE nota_dinas (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id    TEXT NOT NULL REFERENCES complaints (id),
    draft_version   INTEGER NOT NULL,
    agency          TEXT NOT NULL,
    year            INTEGER NOT NULL,
    month           INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    number          TEXT NOT NULL,
    number_format   TEXT NOT NULL,
    perihal         TEXT NOT NULL,
    isi             TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    signer          TEXT NOT NULL,
    signer_name     TEXT NOT NULL,
    signer_jabatan  TEXT,
    signer_nip      TEXT,
    approved_at     TEXT NOT NULL,
    published_at    TEXT,
    UNIQUE (agency, year, seq)
);
CREATE INDEX nota_dinas_complaint ON nota_dinas (complaint_id, id);

-- Each agency numbers its nota dinas from 1 every year.
CREATE TABLE nota_sequences (
    agency  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (agency, year)
);

-- "Tell this complaint's citizen this text": handed to the channel of the reply address
-- by the notifier, at least once (a channel takes each message id once).
CREATE TABLE citizen_messages (
    id             TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL REFERENCES complaints (id),
    purpose        TEXT NOT NULL,
    text           TEXT NOT NULL,
    state          TEXT NOT NULL,  -- pending, queued, sent, desk, status_page, failed
    channel        TEXT,
    detail         TEXT,
    claimed_until  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX citizen_messages_pending ON citizen_messages (created_at) WHERE state = 'pending';
CREATE INDEX citizen_messages_complaint ON citizen_messages (complaint_id, created_at);

-- Walk-in and phone complaints: answer letters to print and citizens to call, at the desk.
CREATE TABLE desk_items (
    message_id    TEXT NOT NULL REFERENCES citizen_messages (id),
    kind          TEXT NOT NULL,  -- 'letter' or 'call'
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    created_at    TEXT NOT NULL,
    done_at       TEXT,
    done_by       TEXT,
    PRIMARY KEY (message_id, kind)
);
CREATE INDEX desk_items_open ON desk_items (created_at) WHERE done_at IS NULL;

-- The 6-digit codes that let a citizen answer or rate on the public status page: one
-- printed on the desk's receipt ('desk', no expiry), one sent on request ('sent').
CREATE TABLE citizen_codes (
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    kind          TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (complaint_id, kind)
);

-- A follow-up can be a rating of the answer; the workflow takes it in from the outbox.
ALTER TABLE complaint_followups ADD COLUMN kind TEXT NOT NULL DEFAULT 'followup';
ALTER TABLE complaint_followups ADD COLUMN rating TEXT;

-- The health check counts the SMS that failed lately.
CREATE INDEX sms_outbound_failed ON sms_outbound (updated_at) WHERE state = 'failed';

-- What an event is about beyond its complaint (JSON), for the dispatcher and consumers.
ALTER TABLE outbox ADD COLUMN data TEXT;
