DROP INDEX "webhook_endpoints_tenant_idx";--> statement-breakpoint
ALTER TABLE "suppressions" DROP CONSTRAINT "suppressions_tenant_id_channel_address_pk";--> statement-breakpoint
ALTER TABLE "suppressions" ADD COLUMN "mode" "api_key_mode" DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_tenant_id_mode_channel_address_pk" PRIMARY KEY("tenant_id","mode","channel","address");--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "mode" "api_key_mode" DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_ciphertext" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_key_id" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
CREATE INDEX "webhook_endpoints_tenant_idx" ON "webhook_endpoints" USING btree ("tenant_id","mode","created_at");