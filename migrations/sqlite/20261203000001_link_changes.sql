-- Every change to a link (created, changed, deleted), written in the same transaction as the
-- change itself, whichever process made it (a server, `kurz url ...`, `kurz import`). Running
-- servers poll for rows after the last one they saw (`PRAGMA data_version` tells them cheaply
-- whether anything was committed) and evict those slugs from their redirect caches. Rows older
-- than an hour are pruned by the servers.
CREATE TABLE link_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT NOT NULL,
    -- The process that made the change (its store's id): it has evicted the slug already.
    origin     TEXT NOT NULL DEFAULT '',
    changed_at TEXT NOT NULL
);

CREATE INDEX link_changes_changed_at_idx ON link_changes (changed_at);
