-- Short links and their visits. Every list is ordered by id (newest first) so that keyset
-- pagination is an index range scan: urls by its primary key, a URL's visits by
-- url_visits_url_id_id_idx, all visits by url_visits' primary key.

CREATE TABLE urls (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT        NOT NULL,
    target      TEXT        NOT NULL,
    -- The target's host, lower case, for the search-as-you-type picker.
    target_host TEXT        NOT NULL,
    title       TEXT,
    crawlable   BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Kept incrementally by the visit writer, once per URL per batch.
    visit_count BIGINT      NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT urls_slug_key UNIQUE (slug)
);

-- Prefix search on slug and target host (GET /api/urls/search): byte-order ("C") indexes make
-- `col >= q AND col < q || U+10FFFF ORDER BY col LIMIT n` a bounded range scan.
CREATE INDEX urls_slug_prefix_idx ON urls ((slug COLLATE "C"));
CREATE INDEX urls_target_host_prefix_idx ON urls ((target_host COLLATE "C"), id);

-- robots.txt lists crawlable slugs; a partial index keeps that read small.
CREATE INDEX urls_crawlable_idx ON urls (id) WHERE crawlable;

CREATE TABLE url_visits (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url_id        BIGINT      NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    visited_at    TIMESTAMPTZ NOT NULL,
    client_ip     INET,
    user_agent    TEXT,
    referrer      TEXT,
    referrer_host TEXT,
    -- Filled by the enrichment step of the click pipeline.
    browser       TEXT,
    os            TEXT,
    device        TEXT,
    is_bot        BOOLEAN     NOT NULL DEFAULT FALSE
);

CREATE INDEX url_visits_url_id_id_idx ON url_visits (url_id, id);
