-- 2010 Messages (SM/MM) and their Media (ME). A message's status is not a column that a
-- background job rewrites: the row holds the times its simulated delivery reaches each status
-- (`queued_at`, `sent_at`, `final_at`, Unix milliseconds), fixed when it is created, and a read
-- shows the status the current time has reached. So the progression is persisted with the row,
-- and a restart neither loses nor replays it. The status callbacks of those steps are queued in
-- `webhook_deliveries` at the same times, in the same transaction.

create table messages (
    seq                   integer primary key autoincrement,
    sid                   text    not null unique,
    account_sid           text    not null references accounts (sid),
    direction             text    not null
        check (direction in ('inbound', 'outbound-api', 'outbound-call', 'outbound-reply')),
    from_address          text,
    to_address            text    not null,
    -- '' once redacted
    body                  text    not null,
    num_segments          BIGINT  not null,
    num_media             BIGINT  not null,
    messaging_service_sid text,
    status_callback       text,
    -- the status before `queued_at`: accepted, queued, scheduled or received
    initial_status        text    not null,
    queued_at             BIGINT,
    sent_at               BIGINT,
    -- delivered, undelivered, failed, received, read; reached at `final_at`
    final_status          text    not null,
    final_at              BIGINT  not null,
    -- a scheduled message canceled before it was queued
    canceled_at           BIGINT,
    error_code            BIGINT,
    date_created          BIGINT  not null,
    -- the last change made through the API (a redaction, a cancel)
    date_updated          BIGINT  not null
);

create index messages_by_account on messages (account_sid, seq);
create index messages_by_to on messages (account_sid, to_address, seq);
create index messages_by_from on messages (account_sid, from_address, seq);

create table message_media (
    seq          integer primary key autoincrement,
    sid          text    not null unique,
    message_sid  text    not null references messages (sid) on delete cascade,
    account_sid  text    not null,
    url          text    not null,
    content_type text    not null,
    date_created BIGINT  not null
);

create index message_media_by_message on message_media (message_sid, seq);

-- The message a delivery reports on, so a canceled scheduled message's pending status
-- callbacks can be withdrawn.
alter table webhook_deliveries add column subject_sid text;
create index webhook_deliveries_by_subject on webhook_deliveries (subject_sid);
