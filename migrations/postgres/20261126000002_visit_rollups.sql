-- Statistics rollups, maintained by the visit writer in the same transaction as the visits, so a
-- URL's statistics cost grows with the number of days asked for, not with its number of visits.
-- `visits` counts every visit; `bot_visits` the part of it made by bots.

CREATE TABLE url_daily_stats (
    url_id     BIGINT NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    day        DATE   NOT NULL,
    visits     BIGINT NOT NULL DEFAULT 0,
    bot_visits BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (url_id, day)
);

-- One row per URL, day, dimension (browser, os, device, referrer_host) and value; '' is unknown.
CREATE TABLE url_daily_dimensions (
    url_id     BIGINT NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    dimension  TEXT   NOT NULL,
    day        DATE   NOT NULL,
    value      TEXT   NOT NULL,
    visits     BIGINT NOT NULL DEFAULT 0,
    bot_visits BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (url_id, dimension, day, value)
);

-- Visit lists filtered by time.
CREATE INDEX url_visits_visited_at_idx ON url_visits (visited_at);
