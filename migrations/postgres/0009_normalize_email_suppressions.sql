-- Custom (hand-written, idempotent): email suppressions stored before the address rule lowercased the local
-- part (core/domain/address.ts) are rewritten to the normalised form, so `Ada@x.com` on the list stops a send
-- to `ada@x.com`. Where both forms exist the normalised entry is kept. Re-running changes nothing.
INSERT INTO "suppressions" ("tenant_id", "mode", "channel", "address", "reason", "source", "created_at")
SELECT "tenant_id", "mode", "channel", lower(btrim("address")), "reason", "source", "created_at"
  FROM "suppressions"
 WHERE "channel" = 'email' AND "address" <> lower(btrim("address"))
ON CONFLICT DO NOTHING;--> statement-breakpoint
DELETE FROM "suppressions" WHERE "channel" = 'email' AND "address" <> lower(btrim("address"));
