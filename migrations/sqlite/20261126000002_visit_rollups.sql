-- Statistics rollups, maintained by the visit writer in the same transaction as the visits, so a
-- URL's statistics cost grows with the number of days asked for, not with its number of visits.
-- One row per URL, day ('YYYY-MM-DD') and combination of browser, OS, device type and referrer
-- host ('' is unknown): one upsert per visit at most, and every breakdown and the daily series
-- are sums over a URL's rows for the days asked. `visits` counts every visit; `bot_visits` the
-- bots' part.

CREATE TABLE url_daily_rollups (
    url_id        INTEGER NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    day           TEXT    NOT NULL,
    browser       TEXT    NOT NULL,
    os            TEXT    NOT NULL,
    device        TEXT    NOT NULL,
    referrer_host TEXT    NOT NULL,
    visits        INTEGER NOT NULL DEFAULT 0,
    bot_visits    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (url_id, day, browser, os, device, referrer_host)
) WITHOUT ROWID;

-- Visit lists filtered by time.
CREATE INDEX url_visits_visited_at_idx ON url_visits (visited_at);
