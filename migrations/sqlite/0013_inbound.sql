-- The operator API of issue 19: numbers attached to Studio flows, a clock per account, the
-- delivery receipts of conversation messages sent to non-chat participants, and the
-- conversation a Studio execution runs for (a conversation's `studio` webhook).

-- `/_localtwilio/Numbers`: an inbound message to `phone_number` that nothing else takes starts
-- an execution of `flow_sid` (trigger event `incomingMessage`).
create table emulator_numbers (
    seq          integer primary key autoincrement,
    account_sid  text    not null references accounts (sid),
    phone_number text    not null,
    flow_sid     text    not null references flows (sid) on delete cascade,
    date_created BIGINT  not null,
    date_updated BIGINT  not null
);

create unique index emulator_numbers_by_number on emulator_numbers (account_sid, phone_number);

-- `/_localtwilio/Clock`: how far the account's clock is ahead of the machine's, in seconds.
create table account_clocks (
    account_sid  text   primary key references accounts (sid),
    offset_secs  BIGINT not null,
    date_updated BIGINT not null
);

-- One receipt (DY) per non-chat participant a conversation message was sent to as a 2010
-- Message (`channel_message_sid`); its status is that message's.
create table conversation_message_receipts (
    seq                 integer primary key autoincrement,
    sid                 text    not null unique,
    account_sid         text    not null references accounts (sid),
    conversation_sid    text    not null,
    message_sid         text    not null references conversation_messages (sid) on delete cascade,
    participant_sid     text    not null,
    channel_message_sid text    not null,
    date_created        BIGINT  not null
);

create index conversation_message_receipts_by_message
    on conversation_message_receipts (message_sid, seq);

-- The conversation whose `studio` webhook started the execution (its messages continue it).
alter table studio_executions add column conversation_sid text;
create index studio_executions_by_conversation
    on studio_executions (conversation_sid) where conversation_sid is not null;
-- How many runs the execution has written: a run lands only on the count it read, so one
-- wait resumes once even when a flow loops back to the same wait within the same second (the
-- same `wake_at`).
alter table studio_executions add column runs BIGINT not null default 0;
-- An execution waiting for a reply, found by its contact and number.
create index studio_executions_waiting
    on studio_executions (account_sid, contact_address, from_address) where status = 'active';
