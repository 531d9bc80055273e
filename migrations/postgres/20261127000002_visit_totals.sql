-- The number of stored visits, for the first message of the live stream of all visits
-- (`GET /api/visits/live`), read in O(1) instead of `COUNT(*)` over url_visits.
--
-- Kept by statement-level triggers on url_visits, so every way a visit is written or removed
-- (the visit writer's batches, `kurz visits prune`, the cascade of a deleted URL) keeps it exact,
-- in the same transaction. A batch adds its row count to the shard of its connection
-- (backend pid mod 16), so concurrent writers rarely wait on each other's row lock; the total is
-- the sum of at most 16 rows.

CREATE TABLE visit_totals (
    shard  SMALLINT PRIMARY KEY CHECK (shard >= 0 AND shard < 16),
    visits BIGINT   NOT NULL DEFAULT 0
);

INSERT INTO visit_totals (shard, visits) SELECT 0, COUNT(*) FROM url_visits;

CREATE FUNCTION visit_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT COUNT(*) INTO delta FROM inserted;
    ELSE
        SELECT -COUNT(*) INTO delta FROM deleted;
    END IF;
    IF delta <> 0 THEN
        INSERT INTO visit_totals AS t (shard, visits) VALUES (pg_backend_pid() % 16, delta)
        ON CONFLICT (shard) DO UPDATE SET visits = t.visits + EXCLUDED.visits;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER url_visits_count_inserts AFTER INSERT ON url_visits
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION visit_totals_add();
CREATE TRIGGER url_visits_count_deletes AFTER DELETE ON url_visits
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION visit_totals_add();
