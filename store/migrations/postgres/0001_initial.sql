-- The PostgreSQL store's schema: the same tables and columns as the embedded SQLite
-- store's after its migrations 0001-0011 (tests/store/test_postgres_schema.py holds them
-- to that), in PostgreSQL's own types: instants are timestamptz, calendar days date,
-- yes/no boolean, documents (attachments, an action's fields, an event's data) jsonb,
-- raw payloads bytea. Flags stay space-separated text, as the row mapping shared by both
-- backends reads them (store/rows.py).

CREATE TABLE complaints (
    id              text PRIMARY KEY,
    tracking_id     text NOT NULL UNIQUE,
    channel         text NOT NULL,
    external_id     text,
    request_hash    text,
    duplicate_key   text,
    profile         text NOT NULL,
    reporter_name   text,
    reporter_phone  text,
    reporter_email  text,
    reply_channel   text,
    reply_address   text,
    anonymous       boolean NOT NULL,
    confidential    boolean NOT NULL,
    classification  text NOT NULL,
    category        text,
    text            text NOT NULL,
    text_original   text NOT NULL,
    location        text,
    incident_date   date,
    attachments     jsonb NOT NULL,
    logged_by       text,
    received_at     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    flags           text NOT NULL DEFAULT '',
    UNIQUE (channel, external_id)
);
-- The recap counts a period's complaints by these columns from the index alone.
CREATE INDEX complaints_received ON complaints (received_at, id)
    INCLUDE (channel, category, classification);
CREATE INDEX complaints_duplicate ON complaints (duplicate_key, received_at)
    WHERE duplicate_key IS NOT NULL;
CREATE INDEX complaints_category ON complaints (category, received_at);
CREATE INDEX complaints_channel ON complaints (channel, received_at);

CREATE TABLE inbound_payloads (
    complaint_id  text PRIMARY KEY REFERENCES complaints (id),
    content_type  text NOT NULL,
    body          bytea NOT NULL
);

CREATE TABLE outbox (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,
    complaint_id   text NOT NULL REFERENCES complaints (id),
    created_at     timestamptz NOT NULL,
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    done_at        timestamptz,
    data           jsonb
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL;

CREATE TABLE cases (
    complaint_id         text PRIMARY KEY REFERENCES complaints (id),
    tracking_id          text NOT NULL,
    state                text NOT NULL,
    suggested_agency     text,
    agency               text,
    verification_due     date NOT NULL,
    completion_due       date NOT NULL,
    verification_due_at  timestamptz NOT NULL,
    completion_due_at    timestamptz NOT NULL,
    opened_at            timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    closed_at            timestamptz,
    version              integer NOT NULL DEFAULT 1,
    due_at               timestamptz,
    assignee             text,
    held_at              timestamptz,
    verified_at          timestamptz,
    answered_at          timestamptz,
    rating               text,
    dissatisfied         integer NOT NULL DEFAULT 0,
    verification_late    boolean NOT NULL DEFAULT false,
    completion_late      boolean NOT NULL DEFAULT false
);
-- The queue's sort by urgency, overall, per state and per agency (no deadline: last).
CREATE INDEX cases_urgency ON cases ((COALESCE(due_at, 'infinity')), complaint_id);
CREATE INDEX cases_state_urgency ON cases (state, (COALESCE(due_at, 'infinity')), complaint_id);
CREATE INDEX cases_agency_urgency
    ON cases (agency, (COALESCE(due_at, 'infinity')), complaint_id);

CREATE TABLE case_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES complaints (id),
    at            timestamptz NOT NULL,
    kind          text NOT NULL,
    state         text,
    actor         text,
    note          text,
    role          text,
    from_state    text,
    data          jsonb
);
CREATE INDEX case_events_complaint ON case_events (complaint_id, id);

-- The console's tab counts, kept by every step's transaction ('' while no agency).
CREATE TABLE case_counts (
    agency  text NOT NULL,
    state   text NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (agency, state)
);

CREATE TABLE case_agencies (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES complaints (id),
    agency        text NOT NULL,
    since         timestamptz NOT NULL,
    until         timestamptz
);
CREATE INDEX case_agencies_agency ON case_agencies (agency, complaint_id);
CREATE INDEX case_agencies_complaint ON case_agencies (complaint_id);

CREATE TABLE complaint_followups (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES complaints (id),
    channel       text NOT NULL,
    external_id   text NOT NULL,
    text          text NOT NULL,
    received_at   timestamptz NOT NULL,
    kind          text NOT NULL DEFAULT 'followup',
    rating        text,
    UNIQUE (channel, external_id)
);
CREATE INDEX complaint_followups_complaint ON complaint_followups (complaint_id, id);

CREATE TABLE complaint_blobs (
    sha256        text NOT NULL,
    complaint_id  text NOT NULL REFERENCES complaints (id),
    PRIMARY KEY (sha256, complaint_id)
);

-- The SMS channel.
CREATE TABLE sms_part_groups (
    id                 text PRIMARY KEY,
    gateway            text NOT NULL,
    sender             text NOT NULL,
    reference          integer NOT NULL,
    total              integer NOT NULL,
    first_received_at  timestamptz NOT NULL,
    closed_at          timestamptz
);
CREATE UNIQUE INDEX sms_part_groups_open ON sms_part_groups (gateway, sender, reference, total)
    WHERE closed_at IS NULL;
CREATE INDEX sms_part_groups_waiting ON sms_part_groups (first_received_at)
    WHERE closed_at IS NULL;

CREATE TABLE sms_parts (
    group_id      text NOT NULL REFERENCES sms_part_groups (id),
    seq           integer NOT NULL,
    gateway       text NOT NULL,
    message_id    text,
    text          text NOT NULL,
    received_at   timestamptz NOT NULL,
    content_type  text NOT NULL,
    body          bytea NOT NULL,
    PRIMARY KEY (group_id, seq)
);
CREATE UNIQUE INDEX sms_parts_message ON sms_parts (gateway, message_id)
    WHERE message_id IS NOT NULL;

CREATE TABLE sms_messages (
    gateway       text NOT NULL,
    message_id    text NOT NULL,
    sender        text NOT NULL,
    received_at   timestamptz NOT NULL,
    intent        text NOT NULL,
    complaint_id  text REFERENCES complaints (id),
    flags         text NOT NULL,
    reply         text,
    reply_via     text,
    PRIMARY KEY (gateway, message_id)
);
CREATE INDEX sms_messages_sender ON sms_messages (sender, received_at);
CREATE INDEX sms_messages_complaint ON sms_messages (complaint_id) WHERE complaint_id IS NOT NULL;

CREATE TABLE sms_outbound (
    id               text PRIMARY KEY,
    gateway          text NOT NULL,
    recipient        text NOT NULL,
    text             text NOT NULL,
    purpose          text NOT NULL,
    complaint_id     text REFERENCES complaints (id),
    state            text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    provider_id      text,
    last_error       text
);
CREATE INDEX sms_outbound_due ON sms_outbound (next_attempt_at) WHERE state = 'pending';
CREATE INDEX sms_outbound_failed ON sms_outbound (updated_at) WHERE state = 'failed';

CREATE TABLE sms_media (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id     text NOT NULL REFERENCES complaints (id),
    gateway          text NOT NULL,
    message_id       text NOT NULL,
    position         integer NOT NULL,
    url              text NOT NULL,
    content_type     text NOT NULL,
    state            text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    attachment       jsonb,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (gateway, message_id, position)
);
CREATE INDEX sms_media_complaint ON sms_media (complaint_id, id);
CREATE INDEX sms_media_due ON sms_media (next_attempt_at) WHERE state = 'pending';

-- Staff, their tokens and sessions, and failed sign-ins.
CREATE TABLE staff (
    username       text PRIMARY KEY,
    role           text NOT NULL,
    agency         text,
    name           text,
    jabatan        text,
    nip            text,
    password_hash  text NOT NULL,
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX staff_agency ON staff (agency, role) WHERE disabled_at IS NULL;

CREATE TABLE staff_tokens (
    token_hash   text PRIMARY KEY,
    username     text NOT NULL REFERENCES staff (username),
    kind         text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX staff_tokens_user ON staff_tokens (username);

CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    username     text NOT NULL,
    source       text NOT NULL,
    fingerprint  text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user ON sessions (source, username) WHERE revoked_at IS NULL;

CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username  text NOT NULL,
    address   text,
    at        timestamptz NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

-- The nota dinas, the messages to the citizen, the desk and the status page's codes.
CREATE TABLE nota_drafts (
    complaint_id  text NOT NULL REFERENCES complaints (id),
    version       integer NOT NULL,
    agency        text NOT NULL,
    perihal       text NOT NULL,
    isi           text NOT NULL,
    author        text NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, version)
);

CREATE TABLE nota_dinas (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id    text NOT NULL REFERENCES complaints (id),
    draft_version   integer NOT NULL,
    agency          text NOT NULL,
    year            integer NOT NULL,
    month           integer NOT NULL,
    seq             integer NOT NULL,
    number          text NOT NULL,
    number_format   text NOT NULL,
    perihal         text NOT NULL,
    isi             text NOT NULL,
    sha256          text NOT NULL,
    signer          text NOT NULL,
    signer_name     text NOT NULL,
    signer_jabatan  text,
    signer_nip      text,
    approved_at     timestamptz NOT NULL,
    published_at    timestamptz,
    UNIQUE (agency, year, seq)
);
CREATE INDEX nota_dinas_complaint ON nota_dinas (complaint_id, id);

CREATE TABLE nota_sequences (
    agency  text NOT NULL,
    year    integer NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (agency, year)
);

CREATE TABLE citizen_messages (
    id             text PRIMARY KEY,
    complaint_id   text NOT NULL REFERENCES complaints (id),
    purpose        text NOT NULL,
    text           text NOT NULL,
    state          text NOT NULL,
    channel        text,
    detail         text,
    claimed_until  timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX citizen_messages_pending ON citizen_messages (created_at) WHERE state = 'pending';
CREATE INDEX citizen_messages_complaint ON citizen_messages (complaint_id, created_at);

CREATE TABLE desk_items (
    message_id    text NOT NULL REFERENCES citizen_messages (id),
    kind          text NOT NULL,
    complaint_id  text NOT NULL REFERENCES complaints (id),
    created_at    timestamptz NOT NULL,
    done_at       timestamptz,
    done_by       text,
    PRIMARY KEY (message_id, kind)
);
CREATE INDEX desk_items_open ON desk_items (created_at) WHERE done_at IS NULL;

CREATE TABLE citizen_codes (
    complaint_id  text NOT NULL REFERENCES complaints (id),
    kind          text NOT NULL,
    code_hash     text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (complaint_id, kind)
);

-- How far the NATS relay has had the outbox acknowledged, per stream.
CREATE TABLE event_relay (
    stream      text PRIMARY KEY,
    seq         bigint NOT NULL,
    updated_at  timestamptz NOT NULL
);
