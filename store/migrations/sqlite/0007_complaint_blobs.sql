-- Which stored files each complaint references, so that a file nobody references can be
-- found (and removed) without reading every complaint's attachments.
CREATE TABLE complaint_blobs (
    sha256        TEXT NOT NULL,
    complaint_id  TEXT NOT NULL REFERENCES complaints (id),
    PRIMARY KEY (sha256, complaint_id)
);
INSERT OR IGNORE INTO complaint_blobs (sha256, complaint_id)
    SELECT json_extract(a.value, '$.sha256'), c.id
    FROM complaints c, json_each(c.attachments) a;
