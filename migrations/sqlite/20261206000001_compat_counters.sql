-- Counters for numbered pages and totals (issue 15: Shlink's and YOURLS's clients show how many
-- links, tags and bot visits there are), read in O(1) instead of COUNT(*) over the tables.
--
-- entity_totals: how many links and tags exist. api_keys.links: how many links each key
-- created. Kept by triggers, so every way a link or tag is written or removed keeps them exact
-- in the same transaction. SQLite has one writer, so one row is enough (PostgreSQL shards it).

CREATE TABLE entity_totals (
    shard INTEGER PRIMARY KEY CHECK (shard = 0),
    links INTEGER NOT NULL DEFAULT 0,
    tags  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO entity_totals (shard, links, tags)
SELECT 0, (SELECT COUNT(*) FROM urls), (SELECT COUNT(*) FROM tags);

ALTER TABLE api_keys ADD COLUMN links INTEGER NOT NULL DEFAULT 0;

UPDATE api_keys SET links = (SELECT COUNT(*) FROM urls WHERE urls.created_by = api_keys.id);

CREATE TRIGGER urls_count_inserts AFTER INSERT ON urls
BEGIN
    UPDATE entity_totals SET links = links + 1 WHERE shard = 0;
    UPDATE api_keys SET links = links + 1 WHERE id = NEW.created_by;
END;

CREATE TRIGGER urls_count_deletes AFTER DELETE ON urls
BEGIN
    UPDATE entity_totals SET links = links - 1 WHERE shard = 0;
    UPDATE api_keys SET links = links - 1 WHERE id = OLD.created_by;
END;

CREATE TRIGGER tags_count_inserts AFTER INSERT ON tags
BEGIN
    UPDATE entity_totals SET tags = tags + 1 WHERE shard = 0;
END;

CREATE TRIGGER tags_count_deletes AFTER DELETE ON tags
BEGIN
    UPDATE entity_totals SET tags = tags - 1 WHERE shard = 0;
END;

-- Bot visits stored, per link and per tag, beside visit_count and tags.visits: Shlink shows
-- each as {total, nonBots, bots}. Moved wherever those are (the visit writer's batch, pruning,
-- a link gaining or losing a tag). Seeded from the rollups, which count exactly the visits
-- stored.
ALTER TABLE urls ADD COLUMN bot_visits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN bot_visits INTEGER NOT NULL DEFAULT 0;

UPDATE urls SET bot_visits = (
    SELECT COALESCE(SUM(r.bot_visits), 0) FROM url_daily_rollups r WHERE r.url_id = urls.id);

UPDATE tags SET bot_visits = (
    SELECT COALESCE(SUM(u.bot_visits), 0)
    FROM url_tags ut JOIN urls u ON u.id = ut.url_id WHERE ut.tag_id = tags.id);

-- Links by their whole target (Shlink's findIfExists, YOURLS's duplicate long URLs): an
-- equality look-up.
CREATE INDEX urls_target_idx ON urls (target);
