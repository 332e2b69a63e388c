-- Every send result and provider event, one row each (written by consumers/analytics/writer.ts).
-- Ordered by (tenant_id, batch_id, time) so a batch's rows are contiguous; low-cardinality columns as
-- LowCardinality(String) (the writer validates them against core's enums before insert, so new values need no
-- ALTER). {{events_ttl}} and {{storage_policy}} are filled in per environment by the migration runner
-- (consumers/analytics/migrate.ts; see migrations/clickhouse/README.md): production moves old parts to the
-- cold volume of its storage policy, then deletes them; the local chdb server has no cold volume.
-- non_replicated_deduplication_window keeps the hashes of recent inserts so a retried insert that carries the
-- same insert_deduplication_token is dropped instead of counted twice.
CREATE TABLE IF NOT EXISTS events
(
    tenant_id           UUID,
    batch_id            UUID,
    recipient_id        UUID,
    time                DateTime64(3, 'UTC'),
    event_type          LowCardinality(String),
    channel             LowCardinality(String),
    provider            LowCardinality(String),
    region              LowCardinality(String),
    sending_domain      LowCardinality(String),
    provider_message_id String,
    event_id            String,
    reason              String,
    inserted_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, batch_id, time)
TTL {{events_ttl}}
SETTINGS non_replicated_deduplication_window = 1000{{storage_policy}};
