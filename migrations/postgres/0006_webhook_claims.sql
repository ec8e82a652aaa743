-- PostgreSQL twin of ../sqlite/ (same version and name): bigint for integers, bytea for blobs,
-- boolean for booleans, identity columns for autoincrement.
-- A delivery being attempted is claimed until `claimed_until` (Unix milliseconds), so the
-- worker can run many attempts at once without taking one twice, and can count the attempts in
-- flight per target when it decides what to send next (fair, per-target concurrency). A claim
-- left by a stopped process expires (or, on SQLite, where only one server runs, is released at
-- start), so delivery stays at least once.
alter table webhook_deliveries add column claimed_until bigint;
