-- PostgreSQL twin of ../sqlite/0007_shared_state.sql (same version and name).
-- State several instances on one database share (issue 16). One row per name:
--   'caches'    a counter bumped in the same transaction as every change the credential and
--               service caches depend on (a deleted key, an account's status, a service
--               deleted or reconfigured); each instance on PostgreSQL polls it and drops its
--               caches when it moves.
--   'bootstrap' a lock row: the main account is created under it, so instances starting at
--               the same moment create exactly one.
create table shared_state (
    name  text   primary key,
    value bigint not null default 0
);

insert into shared_state (name, value) values ('caches', 0), ('bootstrap', 0);
