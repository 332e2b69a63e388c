-- Per-minute rollup that the analytics queries read (consumers/analytics/queries.ts): one row per
-- (tenant, batch, minute, event type, channel, provider, sending domain) with the number of events.
-- SummingMergeTree adds rows with the same key when parts merge; queries still sum() because merges are
-- eventual. The materialized view runs on every insert into events. A retried insert that events drops by its
-- token still reaches the view, whose block then carries a token derived from the source's
-- (deduplicate_blocks_in_dependent_materialized_views, on by default): the rollups keep their own
-- deduplication window so that block is dropped there too and nothing is counted twice.
CREATE TABLE IF NOT EXISTS events_minute
(
    tenant_id      UUID,
    batch_id       UUID,
    minute         DateTime('UTC'),
    event_type     LowCardinality(String),
    channel        LowCardinality(String),
    provider       LowCardinality(String),
    sending_domain LowCardinality(String),
    events         UInt64
)
ENGINE = SummingMergeTree(events)
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant_id, batch_id, minute, event_type, channel, provider, sending_domain)
TTL minute + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_minute_mv TO events_minute AS
SELECT
    tenant_id,
    batch_id,
    toStartOfMinute(time) AS minute,
    event_type,
    channel,
    provider,
    sending_domain,
    count() AS events
FROM events
GROUP BY tenant_id, batch_id, minute, event_type, channel, provider, sending_domain;

-- Reasons of bounces, complaints and failures, per day: small (only rows with a reason), for "top reasons".
CREATE TABLE IF NOT EXISTS event_reasons_daily
(
    tenant_id      UUID,
    batch_id       UUID,
    day            Date,
    event_type     LowCardinality(String),
    provider       LowCardinality(String),
    sending_domain LowCardinality(String),
    reason         String,
    events         UInt64
)
ENGINE = SummingMergeTree(events)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, batch_id, day, event_type, provider, sending_domain, reason)
TTL day + INTERVAL {{retention_days}} DAY DELETE
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_reasons_daily_mv TO event_reasons_daily AS
SELECT
    tenant_id,
    batch_id,
    toDate(time) AS day,
    event_type,
    provider,
    sending_domain,
    reason,
    count() AS events
FROM events
WHERE reason != ''
GROUP BY tenant_id, batch_id, day, event_type, provider, sending_domain, reason;
