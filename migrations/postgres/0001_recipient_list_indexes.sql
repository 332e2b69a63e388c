DROP INDEX "recipients_batch_status_idx";--> statement-breakpoint
CREATE INDEX "recipients_batch_id_idx" ON "recipients" USING btree ("batch_id","id");--> statement-breakpoint
CREATE INDEX "recipients_batch_status_idx" ON "recipients" USING btree ("batch_id","status","id");