-- Conversations webhooks: targets (account level and service level), the durable delivery
-- queue (rows are written in the same transaction as the change that fires them) and the log of
-- delivery attempts operators can read.

create table account_webhooks (
    account_sid      text primary key references accounts (sid),
    method           text not null check (method in ('GET', 'POST')),
    -- JSON array of event names
    filters          text not null,
    pre_webhook_url  text,
    post_webhook_url text,
    target           text not null check (target in ('webhook', 'flex'))
);

create table service_webhooks (
    service_sid      text primary key references conversation_services (sid) on delete cascade,
    account_sid      text not null,
    method           text not null check (method in ('GET', 'POST')),
    filters          text not null,
    pre_webhook_url  text,
    post_webhook_url text
);

create table webhook_deliveries (
    id              integer primary key autoincrement,
    account_sid     text    not null,
    event_type      text    not null,
    url             text    not null,
    method          text    not null,
    -- JSON array of [name, value] pairs, in the order sent
    params          text    not null,
    status          text    not null check (status in ('pending', 'delivered', 'failed')),
    attempts        integer not null default 0,
    -- Unix milliseconds
    next_attempt_at integer not null,
    created_at      integer not null
);

create index webhook_deliveries_due on webhook_deliveries (status, next_attempt_at);

create table webhook_attempts (
    id           integer primary key autoincrement,
    delivery_id  integer not null references webhook_deliveries (id) on delete cascade,
    account_sid  text    not null,
    attempted_at integer not null,
    url          text    not null,
    event_type   text    not null,
    status_code  integer,
    latency_ms   integer not null,
    error        text
);

create index webhook_attempts_by_account on webhook_attempts (account_sid, id);
