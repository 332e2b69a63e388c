CREATE TABLE "tenant_daily_sends" (
	"tenant_id" uuid NOT NULL,
	"day" date NOT NULL,
	"sends" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "tenant_daily_sends_tenant_id_day_pk" PRIMARY KEY("tenant_id","day")
);
--> statement-breakpoint
CREATE TABLE "tenant_quotas" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"active_batches" integer DEFAULT 100 NOT NULL,
	"pending_recipients" integer DEFAULT 5000000 NOT NULL,
	"sends_per_day" integer DEFAULT 1000000 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenant_daily_sends" ADD CONSTRAINT "tenant_daily_sends_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_quotas" ADD CONSTRAINT "tenant_quotas_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;