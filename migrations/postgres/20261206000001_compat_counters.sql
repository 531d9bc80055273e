-- Counters for numbered pages and totals (issue 15: Shlink's and YOURLS's clients show how many
-- links, tags and bot visits there are), read in O(1) instead of COUNT(*) over the tables.
--
-- entity_totals: how many links and tags exist, sharded by connection (backend pid mod 16) as
-- visit_totals is. api_keys.links: how many links each key created. Both are kept by
-- constraint triggers deferred to the commit, so every way a link or tag is written or removed
-- (create, import, delete, a tag made or emptied) keeps them exact, and each transaction takes
-- these counter rows last, after every link, tag and visit row it holds: a transaction holding
-- a counter row never waits for anything but another counter row, always in the order shard
-- row, then key rows.

CREATE TABLE entity_totals (
    shard SMALLINT PRIMARY KEY CHECK (shard >= 0 AND shard < 16),
    links BIGINT   NOT NULL DEFAULT 0,
    tags  BIGINT   NOT NULL DEFAULT 0
);

INSERT INTO entity_totals (shard, links, tags)
SELECT 0, (SELECT COUNT(*) FROM urls), (SELECT COUNT(*) FROM tags);

ALTER TABLE api_keys ADD COLUMN links BIGINT NOT NULL DEFAULT 0;

UPDATE api_keys AS k SET links = c.n
FROM (SELECT created_by, COUNT(*) AS n FROM urls WHERE created_by IS NOT NULL GROUP BY created_by) AS c
WHERE k.id = c.created_by;

CREATE FUNCTION entity_totals_count_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta   BIGINT;
    creator BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        delta := 1;
        creator := NEW.created_by;
    ELSE
        delta := -1;
        creator := OLD.created_by;
    END IF;
    INSERT INTO entity_totals AS t (shard, links) VALUES (pg_backend_pid() % 16, delta)
    ON CONFLICT (shard) DO UPDATE SET links = t.links + EXCLUDED.links;
    IF creator IS NOT NULL THEN
        UPDATE api_keys SET links = links + delta WHERE id = creator;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION entity_totals_count_tag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_totals AS t (shard, tags)
    VALUES (pg_backend_pid() % 16, CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
    ON CONFLICT (shard) DO UPDATE SET tags = t.tags + EXCLUDED.tags;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER urls_count AFTER INSERT OR DELETE ON urls
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION entity_totals_count_link();
CREATE CONSTRAINT TRIGGER tags_count AFTER INSERT OR DELETE ON tags
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION entity_totals_count_tag();

-- Bot visits stored, per link and per tag, beside visit_count and tags.visits: Shlink shows
-- each as {total, nonBots, bots}. Moved wherever those are (the visit writer's batch, pruning,
-- a link gaining or losing a tag). Seeded from the rollups, which count exactly the visits
-- stored.
ALTER TABLE urls ADD COLUMN bot_visits BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN bot_visits BIGINT NOT NULL DEFAULT 0;

UPDATE urls AS u SET bot_visits = r.bots
FROM (SELECT url_id, SUM(bot_visits) AS bots FROM url_daily_rollups GROUP BY url_id) AS r
WHERE u.id = r.url_id AND r.bots <> 0;

UPDATE tags AS t SET bot_visits = s.bots
FROM (SELECT ut.tag_id, SUM(u.bot_visits) AS bots
      FROM url_tags ut JOIN urls u ON u.id = ut.url_id GROUP BY ut.tag_id) AS s
WHERE t.id = s.tag_id AND s.bots <> 0;

-- Links by their whole target (Shlink's findIfExists, YOURLS's duplicate long URLs): an
-- equality look-up. A hash index, since a btree entry cannot hold the longest targets.
CREATE INDEX urls_target_hash_idx ON urls USING hash (target);
