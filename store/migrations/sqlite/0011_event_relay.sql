-- Events on NATS JetStream (issue 13): how far the relay has had the outbox acknowledged,
-- per stream. Its own cursor, apart from the dispatcher's `outbox.done_at`: an event the
-- dispatcher finished may still wait for NATS, and the other way round.
CREATE TABLE event_relay (
    stream      TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
