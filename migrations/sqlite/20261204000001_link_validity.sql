-- When a link answers, and how many people it answers.
--
-- Before `valid_since` a link answers as if it did not exist; from `valid_until` on, and once
-- `human_visits` reaches `max_visits`, it answers 410 Gone (or redirects to
-- `redirect.expired_url`). NULL leaves a bound out.
ALTER TABLE urls ADD COLUMN valid_since TEXT;
ALTER TABLE urls ADD COLUMN valid_until TEXT;
ALTER TABLE urls ADD COLUMN max_visits INTEGER CHECK (max_visits >= 1);

-- Visits by people (bots and link previews left out), never lowered by pruning: what
-- `max_visits` caps. A click on a capped link takes its unit here at once, by a conditional
-- increment (`human_visits < max_visits`), before it is answered, so the cap is exact; the
-- visit writer adds the other links' people visits once per batch.
ALTER TABLE urls ADD COLUMN human_visits INTEGER NOT NULL DEFAULT 0;

UPDATE urls SET human_visits = COALESCE(
    (SELECT SUM(visits - bot_visits) FROM url_daily_rollups r WHERE r.url_id = urls.id), 0);
