-- The console (issue 22): stored snapshots of an account's data (restored by the operator
-- actions), what a webhook receiver answered (the first 4 KiB of its body), and which delivery a
-- replayed one repeats.

create table console_snapshots (
    id          integer primary key autoincrement,
    account_sid text    not null references accounts (sid),
    name        text    not null,
    -- JSON: {"format": 1, "tables": {name: {"columns": [...], "rows": [[...]]}}}
    body        text    not null,
    row_count   BIGINT  not null,
    created_at  BIGINT  not null
);

create index console_snapshots_by_account on console_snapshots (account_sid, id);

alter table webhook_attempts add column response_body text;
alter table webhook_deliveries add column replay_of BIGINT;
