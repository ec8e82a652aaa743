-- Conversations core (issue 17): conversations, their participants, messages and
-- conversation-scoped webhooks. Everything under a conversation goes with it (on delete
-- cascade); a conversation goes with its service; a chat participant goes with its user.

create table conversations (
    seq                   integer primary key autoincrement,
    sid                   text    not null unique,
    service_sid           text    not null references conversation_services (sid) on delete cascade,
    account_sid           text    not null,
    friendly_name         text,
    unique_name           text,
    attributes            text    not null,
    messaging_service_sid text,
    state                 text    not null check (state in ('active', 'inactive', 'closed')),
    -- The timers as given (ISO 8601 durations) and when each fires next (epoch seconds);
    -- a fired or cleared timer has no due time.
    timer_inactive        text,
    timer_closed          text,
    date_inactive         BIGINT,
    date_closed           BIGINT,
    email_address         text,
    email_name            text,
    -- The index the next message gets: bumped in the message's own transaction, so indexes
    -- are strictly increasing and never reused after a delete.
    next_message_index    BIGINT  not null default 0,
    date_created          BIGINT  not null,
    date_updated          BIGINT  not null
);

-- Unique names are unique per service (case-sensitive); NULLs do not clash.
create unique index conversations_unique_name on conversations (service_sid, unique_name);
create index conversations_by_service on conversations (service_sid, seq);
create index conversations_inactive_due on conversations (date_inactive);
create index conversations_closed_due on conversations (date_closed);

create table conversation_participants (
    seq                     integer primary key autoincrement,
    sid                     text    not null unique,
    conversation_sid        text    not null references conversations (sid) on delete cascade,
    service_sid             text    not null,
    account_sid             text    not null,
    identity                text,
    user_sid                text references conversation_users (sid) on delete cascade,
    -- Non-chat binding: the participant's address and the proxy (your number), or the
    -- projected address of a Group MMS chat participant.
    address                 text,
    proxy_address           text,
    projected_address       text,
    binding_type            text,
    -- True while the address/proxy pair holds its place (its conversation is not closed).
    binding_open            BOOLEAN not null default false,
    attributes              text    not null,
    role_sid                text,
    last_read_message_index BIGINT,
    last_read_timestamp     text,
    notification_level      text    not null default 'default',
    date_created            BIGINT  not null,
    date_updated            BIGINT  not null
);

-- One identity per conversation (50433).
create unique index conversation_participants_identity on conversation_participants (conversation_sid, identity);
-- An address/proxy pair is in at most one non-closed conversation of an account (50416); also
-- the lookup inbound messages need (issue 19).
create unique index conversation_participants_open_binding
    on conversation_participants (account_sid, address, proxy_address) where binding_open;
create index conversation_participants_by_conversation on conversation_participants (conversation_sid, seq);
create index conversation_participants_by_user on conversation_participants (user_sid);
create index conversation_participants_by_identity on conversation_participants (service_sid, identity, conversation_sid);
create index conversation_participants_by_address on conversation_participants (service_sid, address, conversation_sid);

create table conversation_messages (
    seq              integer primary key autoincrement,
    sid              text    not null unique,
    conversation_sid text    not null references conversations (sid) on delete cascade,
    service_sid      text    not null,
    account_sid      text    not null,
    message_index    BIGINT  not null,
    author           text    not null,
    body             text,
    -- JSON array of media objects, or NULL
    media            text,
    attributes       text    not null,
    participant_sid  text,
    content_sid      text,
    subject          text,
    date_created     BIGINT  not null,
    date_updated     BIGINT  not null
);

-- The database's guard on the index rule: never two messages with one index.
create unique index conversation_messages_index on conversation_messages (conversation_sid, message_index);

create table conversation_webhooks (
    seq              integer primary key autoincrement,
    sid              text    not null unique,
    conversation_sid text    not null references conversations (sid) on delete cascade,
    service_sid      text    not null,
    account_sid      text    not null,
    target           text    not null check (target in ('webhook', 'trigger', 'studio')),
    url              text,
    method           text,
    -- JSON arrays
    filters          text    not null,
    triggers         text    not null,
    flow_sid         text,
    replay_after     BIGINT,
    date_created     BIGINT  not null,
    date_updated     BIGINT  not null
);

create index conversation_webhooks_by_conversation on conversation_webhooks (conversation_sid, seq);
