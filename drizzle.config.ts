import { defineConfig } from "drizzle-kit";

// drizzle-kit generates the SQL in migrations/postgres from core/db/schema.ts; `npm run migrate` applies it.
export default defineConfig({
  dialect: "postgresql",
  schema: "./core/db/schema.ts",
  out: "./migrations/postgres",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/batchsender" },
});
