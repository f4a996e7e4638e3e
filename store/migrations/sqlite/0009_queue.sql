-- The console's queue at scale (issue 12): its sort by urgency, per state and per agency,
-- on indexes; and the count of cases per (agency, state) kept by every step, so the
-- console's tabs never count by scanning.
DROP INDEX IF EXISTS cases_due;
DROP INDEX IF EXISTS cases_state;
CREATE INDEX cases_urgency
    ON cases (COALESCE(due_at, '9999-12-31T00:00:00.000000Z'), complaint_id);
CREATE INDEX cases_state_urgency
    ON cases (state, COALESCE(due_at, '9999-12-31T00:00:00.000000Z'), complaint_id);
CREATE INDEX cases_agency_urgency
    ON cases (agency, COALESCE(due_at, '9999-12-31T00:00:00.000000Z'), complaint_id);
CREATE INDEX complaints_category ON complaints (category, received_at);
CREATE INDEX complaints_channel ON complaints (channel, received_at);

CREATE TABLE case_counts (
    agency  TEXT NOT NULL,  -- '' while no agency holds the case
    state   TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (agency, state)
);
INSERT INTO case_counts (agency, state, n)
    SELECT COALESCE(agency, ''), state, count(*) FROM cases GROUP BY 1, 2;
