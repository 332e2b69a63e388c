-- Custom (issue 8): scopes were stored but never checked, so every existing key could do everything. Scope
-- enforcement must not lock them out: keys without any scope get `admin`, the access they had. Idempotent:
-- keys created from now on always carry at least one scope (the API and the admin CLI refuse an empty set).
UPDATE "api_keys" SET "scopes" = ARRAY['admin']::text[] WHERE cardinality("scopes") = 0;
