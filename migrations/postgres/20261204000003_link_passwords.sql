-- The Argon2id hash of a link's password, as a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash);
-- NULL for a link anyone may follow. The plain password is never stored.
ALTER TABLE urls ADD COLUMN password_hash TEXT;
