ALTER TABLE "send_configs" ADD COLUMN "credentials_masked" jsonb;--> statement-breakpoint
ALTER TABLE "send_configs" ADD COLUMN "deleted_at" timestamp with time zone;