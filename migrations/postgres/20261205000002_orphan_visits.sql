-- Orphan visits: clicks that reached no link (`visits.track_orphans`), written in batches by the
-- visit writer like link visits. `type` says what was asked for:
--   invalid_slug  a slug no link has (or a link before its valid_since)
--   expired       a link past its valid_until or its max_visits
--   base_url      `/`
--   regular_404   any other path that matches nothing
CREATE TABLE orphan_visits (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visited_at    TIMESTAMPTZ NOT NULL,
    type          TEXT        NOT NULL
        CHECK (type IN ('invalid_slug', 'expired', 'base_url', 'regular_404')),
    path          TEXT        NOT NULL,
    client_ip     INET,
    user_agent    TEXT,
    referrer      TEXT,
    referrer_host TEXT,
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    is_bot        BOOLEAN     NOT NULL DEFAULT FALSE
);

-- The list's filters: by type (keyset over id within a type) and by time.
CREATE INDEX orphan_visits_type_id_idx ON orphan_visits (type, id);
CREATE INDEX orphan_visits_visited_at_idx ON orphan_visits (visited_at);

-- Orphan visits per day and type, kept by the writer in the orphans' transaction: the global
-- statistics (`GET /api/visits/stats`) read these, never the visits.
CREATE TABLE orphan_daily_rollups (
    day        DATE   NOT NULL,
    type       TEXT   NOT NULL,
    visits     BIGINT NOT NULL DEFAULT 0,
    bot_visits BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, type)
);

-- Link visits per day over every link, for the same statistics without summing every link's
-- rollups. The visit writer adds each batch in its transaction, to the shard of its
-- connection (backend pid mod 16, as visit_totals) so that concurrent batches do not queue on
-- one row; readers sum the shards. Rollup rows deleted (a deleted link's cascade, a prune) are
-- taken off by the trigger below, so every way visits leave keeps it exact. A writer of
-- url_daily_rollups other than the visit writer must add its visits here too.
CREATE TABLE daily_visit_totals (
    day        DATE     NOT NULL,
    shard      SMALLINT NOT NULL CHECK (shard >= 0 AND shard < 16),
    visits     BIGINT   NOT NULL DEFAULT 0,
    bot_visits BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (day, shard)
);

INSERT INTO daily_visit_totals (day, shard, visits, bot_visits)
SELECT day, 0, SUM(visits), SUM(bot_visits) FROM url_daily_rollups GROUP BY day;

CREATE FUNCTION daily_visit_totals_take() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_visit_totals AS t (day, shard, visits, bot_visits)
    SELECT day, pg_backend_pid() % 16, -SUM(visits), -SUM(bot_visits)
    FROM deleted GROUP BY day
    ON CONFLICT (day, shard) DO UPDATE SET
        visits = t.visits + EXCLUDED.visits, bot_visits = t.bot_visits + EXCLUDED.bot_visits;
    RETURN NULL;
END
$$;

CREATE TRIGGER url_daily_rollups_take_totals AFTER DELETE ON url_daily_rollups
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION daily_visit_totals_take();
