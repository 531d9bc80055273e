-- Short links and their visits. Every list is ordered by id (newest first) so that keyset
-- pagination is an index range scan. AUTOINCREMENT keeps ids from being reused after a delete,
-- so a cursor never points into rows it has not seen.

CREATE TABLE urls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT    NOT NULL UNIQUE,
    target      TEXT    NOT NULL,
    -- The target's host, lower case, for the search-as-you-type picker.
    target_host TEXT    NOT NULL,
    title       TEXT,
    crawlable   INTEGER NOT NULL DEFAULT 0 CHECK (crawlable IN (0, 1)),
    -- Kept incrementally by the visit writer, once per URL per batch.
    visit_count INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Prefix search on target host (GET /api/urls/search); slug prefixes use the UNIQUE index.
CREATE INDEX urls_target_host_prefix_idx ON urls (target_host, id);

CREATE INDEX urls_crawlable_idx ON urls (id) WHERE crawlable = 1;

CREATE TABLE url_visits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    url_id        INTEGER NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    visited_at    TEXT    NOT NULL,
    client_ip     TEXT,
    user_agent    TEXT,
    referrer      TEXT,
    referrer_host TEXT,
    -- Filled by the enrichment step of the click pipeline.
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    is_bot        INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1))
);

CREATE INDEX url_visits_url_id_id_idx ON url_visits (url_id, id);
