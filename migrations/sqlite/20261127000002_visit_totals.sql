-- The number of stored visits, for the first message of the live stream of all visits
-- (`GET /api/visits/live`), read in O(1) instead of `COUNT(*)` over url_visits.
--
-- Kept by triggers on url_visits, so every way a visit is written or removed (the visit writer's
-- batches, `kurz visits prune`, the cascade of a deleted URL) keeps it exact, in the same
-- transaction. SQLite has one writer, so one row is enough (PostgreSQL shards it).

CREATE TABLE visit_totals (
    shard  INTEGER PRIMARY KEY CHECK (shard = 0),
    visits INTEGER NOT NULL DEFAULT 0
);

INSERT INTO visit_totals (shard, visits) SELECT 0, COUNT(*) FROM url_visits;

CREATE TRIGGER url_visits_count_inserts AFTER INSERT ON url_visits
BEGIN
    UPDATE visit_totals SET visits = visits + 1 WHERE shard = 0;
END;

CREATE TRIGGER url_visits_count_deletes AFTER DELETE ON url_visits
BEGIN
    UPDATE visit_totals SET visits = visits - 1 WHERE shard = 0;
END;
