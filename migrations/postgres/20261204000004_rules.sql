-- Where a click goes: a link's redirect rules and whether it forwards the click's query.
--
-- `rules` is the JSON array of the link's rules as the API shows them
-- (`[{"target": ..., "conditions": [{"type": ..., "value": ...}]}]`), NULL for none: read
-- whole with the link into the redirect cache, never queried by its parts.
ALTER TABLE urls ADD COLUMN rules TEXT;
ALTER TABLE urls ADD COLUMN forward_query BOOLEAN NOT NULL DEFAULT FALSE;

-- The rule that sent a visit (its index in the link's rules), NULL for the link's own target.
ALTER TABLE url_visits ADD COLUMN rule SMALLINT;

-- How many visits each rule sent, per day: the statistics' `rules` breakdown, kept by the
-- visit writer in the visits' transaction like the other rollups. Links without rules add no
-- rows.
CREATE TABLE url_rule_rollups (
    url_id     BIGINT   NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    day        DATE     NOT NULL,
    rule       SMALLINT NOT NULL,
    visits     BIGINT   NOT NULL DEFAULT 0,
    bot_visits BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (url_id, day, rule)
);
