-- Photos and videos an MMS brought (Twilio's MediaUrl{N}): recorded with the SMS, in its
-- transaction, and fetched afterwards by the SMS channel's media loop into the blob store.
-- A fetched one's attachment (JSON, normalizer.models.Attachment) is also appended to the
-- complaint's `attachments`, in the transaction that marks it fetched.
CREATE TABLE sms_media (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id     TEXT NOT NULL REFERENCES complaints (id),
    gateway          TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    position         INTEGER NOT NULL,  -- N of MediaUrl{N}
    url              TEXT NOT NULL,
    content_type     TEXT NOT NULL,     -- as the provider announced it, not yet checked
    state            TEXT NOT NULL,     -- pending, fetched, failed, refused
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    attachment       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (gateway, message_id, position)
);
CREATE INDEX sms_media_complaint ON sms_media (complaint_id, id);
CREATE INDEX sms_media_due ON sms_media (next_attempt_at) WHERE state = 'pending';
