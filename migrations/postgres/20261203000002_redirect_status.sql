-- The redirect status of one link (301, 302, 307 or 308); NULL answers with the configured
-- `redirect.status`.
ALTER TABLE urls ADD COLUMN redirect_status SMALLINT
    CHECK (redirect_status IN (301, 302, 307, 308));
