-- Links in creation order (Shlink's short URL list, `orderBy=dateCreated`, and its
-- `startDate`/`endDate`): imported links keep their original `created_at`, so ids do not give
-- this order. `created_at` never changes, so the index costs an insert per link and nothing on
-- the visit writer's updates.
CREATE INDEX urls_created_at_id_idx ON urls (created_at, id);
