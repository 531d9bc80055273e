-- visit_totals grows by a batch's row count in the visit writer's own transaction (one
-- update per batch), instead of a trigger that ran once for every visit inserted. Deletions
-- (prune, a deleted URL's cascade) are still counted by the delete trigger: SQLite has only
-- row-level triggers, and deletions are rare.
DROP TRIGGER url_visits_count_inserts;
