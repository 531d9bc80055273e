-- How far an import has brought a source's orphan visits (clicks that reached no link; `kurz
-- import --from shlink` reads Shlink's): `visits_through` in the source's terms, moved in the
-- transaction that writes those visits, so that a re-run adds only the newer ones. Orphan
-- visits belong to no link, so this cannot be an `import_marks` row.
CREATE TABLE import_orphan_marks (
    source         TEXT NOT NULL PRIMARY KEY,
    visits_through TEXT NOT NULL
);
