-- Where imported links came from (`kurz import --from yourls|kutt|bitly|...`), so that running
-- an import again creates nothing twice and adds only the clicks made since.
--   source         — the source system and which one of it: `yourls:<host>/<db>/<prefix>`,
--                    `kutt:<host>/<db>`, `bitly`;
--   source_id      — the link's key there (YOURLS keyword, Kutt link id, Bitly bitlink);
--   visits_through — how far its visits are imported, in the source's terms (YOURLS: the last
--                    click_id, Kutt: the last hour imported, Bitly: the clicks counted), moved
--                    in the transaction that writes those visits.
-- A link deleted in kurz takes its mark with it: importing again brings it back.
CREATE TABLE import_marks (
    source         TEXT   NOT NULL,
    source_id      TEXT   NOT NULL,
    url_id         INTEGER NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    visits_through TEXT,
    PRIMARY KEY (source, source_id)
);

CREATE INDEX import_marks_url_id_idx ON import_marks (url_id);
