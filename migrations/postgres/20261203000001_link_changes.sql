-- Every change to a link (created, changed, deleted), written in the same transaction as the
-- change itself, whichever process made it (a server, `kurz url ...`, `kurz import`). Running
-- servers read the rows after the last one they saw and evict those slugs from their redirect
-- caches: after a `NOTIFY` on PostgreSQL, on a timer with SQLite, and to catch up after their
-- `LISTEN` connection was lost. Rows older than an hour are pruned by the servers.
CREATE TABLE link_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       TEXT        NOT NULL,
    -- The process that made the change (its store's id): it has evicted the slug already.
    origin     TEXT        NOT NULL DEFAULT '',
    changed_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX link_changes_changed_at_idx ON link_changes (changed_at);
