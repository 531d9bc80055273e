-- Where visits came from: the location the geolocation database (`[geo] database`) gives the
-- client address, looked up by the visit writer before the address is anonymised. NULL where
-- the file knows nothing (or none is configured).
ALTER TABLE url_visits ADD COLUMN country TEXT;
ALTER TABLE url_visits ADD COLUMN region TEXT;
ALTER TABLE url_visits ADD COLUMN city TEXT;
ALTER TABLE url_visits ADD COLUMN latitude DOUBLE PRECISION;
ALTER TABLE url_visits ADD COLUMN longitude DOUBLE PRECISION;
ALTER TABLE url_visits ADD COLUMN timezone TEXT;

-- Visit lists filtered by country, newest first and keyset-paginated: the country's visits
-- read backwards from the newest id, without walking the visits of other countries.
CREATE INDEX url_visits_country_idx ON url_visits (country, id) WHERE country IS NOT NULL;

-- Visits per country and city per day: the statistics' `countries` and `cities`, kept by the
-- visit writer in the visits' transaction like the other rollups ('' for unknown).
CREATE TABLE url_geo_rollups (
    url_id     BIGINT NOT NULL REFERENCES urls (id) ON DELETE CASCADE,
    day        DATE   NOT NULL,
    country    TEXT   NOT NULL,
    city       TEXT   NOT NULL,
    visits     BIGINT NOT NULL DEFAULT 0,
    bot_visits BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (url_id, day, country, city)
);
