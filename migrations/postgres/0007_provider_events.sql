ALTER TYPE "public"."recipient_status" ADD VALUE 'opened' BEFORE 'failed';--> statement-breakpoint
ALTER TYPE "public"."recipient_status" ADD VALUE 'clicked' BEFORE 'failed';--> statement-breakpoint
CREATE TABLE "provider_events" (
	"provider" text NOT NULL,
	"event_id" text NOT NULL,
	"tenant_id" uuid,
	"provider_message_id" text,
	"type" text NOT NULL,
	"bounce_type" text,
	"reason" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"recipient_id" bigint,
	"applied_at" timestamp with time zone,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_events_provider_event_id_pk" PRIMARY KEY("provider","event_id")
);
--> statement-breakpoint
DROP INDEX "recipients_tenant_provider_msg_idx";--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "opened" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "clicked" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recipients" ADD COLUMN "event_facts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recipients" ADD COLUMN "bounce_type" text;--> statement-breakpoint
CREATE INDEX "provider_events_pending_idx" ON "provider_events" USING btree ("provider_message_id") WHERE "provider_events"."applied_at" is null;--> statement-breakpoint
CREATE INDEX "provider_events_created_idx" ON "provider_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "recipients_address_idx" ON "recipients" USING btree ("address");--> statement-breakpoint
CREATE INDEX "recipients_provider_msg_tenant_idx" ON "recipients" USING btree ("provider_message_id","tenant_id") WHERE "recipients"."provider_message_id" is not null;