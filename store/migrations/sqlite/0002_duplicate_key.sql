-- The same text from the same reply address within a window is answered with the
-- complaint already filed (normalizer/dedup.py); the index serves that look-up.
ALTER TABLE complaints ADD COLUMN duplicate_key TEXT;
CREATE INDEX complaints_duplicate ON complaints (duplicate_key, received_at)
    WHERE duplicate_key IS NOT NULL;
