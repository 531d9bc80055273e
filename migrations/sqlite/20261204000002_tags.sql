-- Tags: names given to links (issue 13). `tags` holds each name once with two counters, kept
-- exact in the transaction of every change that moves them, so `GET /api/tags` reads them
-- instead of counting every link of every tag:
--   links  — links carrying the tag: changed where links gain or lose it (create, PATCH,
--            import, a deleted link, a deleted tag);
--   visits — the sum of those links' `visit_count` (bots included): raised by the visit
--            writer's batch, lowered by visit pruning, moved with a link that gains or loses
--            the tag.
-- A tag no link carries any more is deleted with the change that took its last link.
CREATE TABLE tags (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT    NOT NULL UNIQUE,
    links  INTEGER NOT NULL DEFAULT 0,
    visits INTEGER NOT NULL DEFAULT 0
);

-- Which link carries which tag. The primary key (tag_id, url_id) makes a tag filter an index
-- range scan newest first (url ids grow); url_tags_url_id_idx reads a page's tags at once.
CREATE TABLE url_tags (
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    url_id INTEGER NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, url_id)
) WITHOUT ROWID;

CREATE INDEX url_tags_url_id_idx ON url_tags (url_id, tag_id);
