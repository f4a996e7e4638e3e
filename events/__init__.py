"""Every outbox event published to NATS JetStream for other systems (README "Events on NATS
JetStream"): the schema of what is published, the streams, the relay and `events tail`."""
