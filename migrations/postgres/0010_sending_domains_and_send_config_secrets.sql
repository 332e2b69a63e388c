CREATE TYPE "public"."domain_status" AS ENUM('pending', 'verified', 'failed');--> statement-breakpoint
CREATE TABLE "sending_domains" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"mode" "api_key_mode" DEFAULT 'live' NOT NULL,
	"domain" text NOT NULL,
	"provider" "provider" NOT NULL,
	"provider_ref" text,
	"status" "domain_status" DEFAULT 'pending' NOT NULL,
	"records" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mail_from_domain" text,
	"last_checked_at" timestamp with time zone,
	"verified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "send_configs" ADD COLUMN "credentials_masked" jsonb;--> statement-breakpoint
ALTER TABLE "send_configs" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sending_domains" ADD CONSTRAINT "sending_domains_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sending_domains_tenant_mode_provider_domain_key" ON "sending_domains" USING btree ("tenant_id","mode","provider","domain");--> statement-breakpoint
CREATE INDEX "sending_domains_domain_idx" ON "sending_domains" USING btree ("domain");