-- Orphan visits: clicks that reached no link (`visits.track_orphans`), written in batches by the
-- visit writer like link visits. `type` says what was asked for:
--   invalid_slug  a slug no link has (or a link before its valid_since)
--   expired       a link past its valid_until or its max_visits
--   base_url      `/`
--   regular_404   any other path that matches nothing
CREATE TABLE orphan_visits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    visited_at    TEXT    NOT NULL,
    type          TEXT    NOT NULL
        CHECK (type IN ('invalid_slug', 'expired', 'base_url', 'regular_404')),
    path          TEXT    NOT NULL,
    client_ip     TEXT,
    user_agent    TEXT,
    referrer      TEXT,
    referrer_host TEXT,
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    is_bot        INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1))
);

-- The list's filters: by type (keyset over id within a type) and by time.
CREATE INDEX orphan_visits_type_id_idx ON orphan_visits (type, id);
CREATE INDEX orphan_visits_visited_at_idx ON orphan_visits (visited_at);

-- Orphan visits per day and type, kept by the writer in the orphans' transaction: the global
-- statistics (`GET /api/visits/stats`) read these, never the visits.
CREATE TABLE orphan_daily_rollups (
    day        TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    visits     INTEGER NOT NULL DEFAULT 0,
    bot_visits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, type)
) WITHOUT ROWID;

-- Link visits per day over every link, for the same statistics without summing every link's
-- rollups. The visit writer adds each batch in its transaction (one writer: shard 0 only; the
-- column keeps the schema the same as PostgreSQL's). Rollup rows deleted (a deleted link's
-- cascade, a prune) are taken off by the trigger below, so every way visits leave keeps it
-- exact. A writer of url_daily_rollups other than the visit writer must add its visits here too.
CREATE TABLE daily_visit_totals (
    day        TEXT    NOT NULL,
    shard      INTEGER NOT NULL CHECK (shard = 0),
    visits     INTEGER NOT NULL DEFAULT 0,
    bot_visits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, shard)
) WITHOUT ROWID;

INSERT INTO daily_visit_totals (day, shard, visits, bot_visits)
SELECT day, 0, SUM(visits), SUM(bot_visits) FROM url_daily_rollups GROUP BY day;

CREATE TRIGGER url_daily_rollups_take_totals AFTER DELETE ON url_daily_rollups
BEGIN
    INSERT INTO daily_visit_totals (day, shard, visits, bot_visits)
    VALUES (OLD.day, 0, -OLD.visits, -OLD.bot_visits)
    ON CONFLICT (day, shard) DO UPDATE SET
        visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits;
END;
