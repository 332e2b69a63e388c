ALTER TABLE "batches" ADD COLUMN "plan_generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "plan_cursor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "planned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "planned_by" text;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "retry_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "settle_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "control_calls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "control_window_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "batches_active_idx" ON "batches" USING btree ("region","status") WHERE "batches"."status" in ('queued', 'processing') or "batches"."settle_pending";