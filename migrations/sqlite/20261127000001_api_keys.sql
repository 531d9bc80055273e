-- API keys and the URLs' owners. A key is stored only as the SHA-256 of the key (hex), looked
-- up by it; `prefix` (kurz_ and 8 characters) names a key in lists. Revoked keys are kept, so
-- that the URLs they created still name them.

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    prefix      TEXT    NOT NULL,
    key_hash    TEXT    NOT NULL UNIQUE,
    created_at  TEXT    NOT NULL,
    revoked_at  TEXT
);

-- The key that created a URL; NULL for URLs created anonymously or by `kurz url create`.
ALTER TABLE urls ADD COLUMN created_by INTEGER REFERENCES api_keys (id) ON DELETE SET NULL;

-- An editor's lists (GET /api/urls) are keyset-paginated over its own URLs: a range scan.
CREATE INDEX urls_created_by_id_idx ON urls (created_by, id);
