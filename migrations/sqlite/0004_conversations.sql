-- Conversations v1: services (each account has a default one), roles, users and the account
-- configuration that names the default service. Default services for accounts that exist
-- before this migration are created at start-up by the server (it knows the default roles).

create table conversation_services (
    seq                                   integer primary key autoincrement,
    sid                                   text    not null unique,
    account_sid                           text    not null references accounts (sid),
    friendly_name                         text    not null,
    default_chat_service_role_sid         text,
    default_conversation_role_sid         text,
    default_conversation_creator_role_sid text,
    reachability_enabled                  integer not null default 0,
    date_created                          integer not null,
    date_updated                          integer not null
);

create index conversation_services_by_account on conversation_services (account_sid, seq);

create table conversation_roles (
    seq          integer primary key autoincrement,
    sid          text    not null unique,
    service_sid  text    not null references conversation_services (sid) on delete cascade,
    account_sid  text    not null,
    friendly_name text   not null,
    type         text    not null check (type in ('service', 'conversation')),
    -- JSON array of permission names
    permissions  text    not null,
    date_created integer not null,
    date_updated integer not null
);

create index conversation_roles_by_service on conversation_roles (service_sid, seq);

create table conversation_users (
    seq           integer primary key autoincrement,
    sid           text    not null unique,
    service_sid   text    not null references conversation_services (sid) on delete cascade,
    account_sid   text    not null,
    identity      text    not null,
    friendly_name text,
    attributes    text    not null,
    role_sid      text references conversation_roles (sid),
    date_created  integer not null,
    date_updated  integer not null
);

-- Identity is unique per service and case-sensitive (SQLite's default BINARY collation):
-- concurrent creates of one identity cannot both win.
create unique index conversation_users_identity on conversation_users (service_sid, identity);
create index conversation_users_by_service on conversation_users (service_sid, seq);
create index conversation_users_by_role on conversation_users (role_sid);

create table conversation_configurations (
    account_sid                   text primary key references accounts (sid),
    default_chat_service_sid      text not null references conversation_services (sid),
    default_messaging_service_sid text,
    default_inactive_timer        text,
    default_closed_timer          text
);
