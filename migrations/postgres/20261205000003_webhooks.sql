-- Webhooks: endpoints admins register, the events each subscribes to, an outbox of
-- deliveries written in the transaction of what they describe, and each delivery's attempts.

CREATE TABLE webhook_endpoints (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         TEXT        NOT NULL,
    -- Signs every delivery (HMAC-SHA256), so it is stored as given: a hash could not sign.
    secret      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    -- The API key that registered it; NULL for anonymous callers (development) and commands.
    created_by  BIGINT REFERENCES api_keys (id) ON DELETE SET NULL
);

-- One row per endpoint and event it wants. The primary key leads with the event: finding the
-- subscribers of an event (every visit batch asks) is one index range scan, usually empty.
CREATE TABLE webhook_subscriptions (
    event       TEXT   NOT NULL,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    PRIMARY KEY (event, endpoint_id)
);
CREATE INDEX webhook_subscriptions_endpoint_idx ON webhook_subscriptions (endpoint_id);

-- The outbox: one row per endpoint and event (a visit batch is one event holding an array).
-- `payload` is the event's data as the store saw it (JSON); the deliverer renders the API's
-- objects from it. `state` is pending until delivered or failed; a pending row is due at
-- `next_attempt_at`, which a deliverer claiming it moves forward by its lease, so a crashed
-- instance's rows come back when the lease expires.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     BIGINT      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           TEXT        NOT NULL,
    payload         TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);
-- The deliverer's claim: the due pending rows, oldest first.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
-- Pruning finished rows by age.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (finished_at)
    WHERE finished_at IS NOT NULL;

-- Every attempt at a delivery: the answer's status (NULL when there was none), when, how
-- long it took, and why it failed.
CREATE TABLE webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  BIGINT      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id  BIGINT      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL,
    status_code  INTEGER,
    duration_ms  BIGINT      NOT NULL,
    error        TEXT
);
-- GET /api/webhooks/{id}/deliveries: an endpoint's attempts newest first, keyset-paginated.
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
