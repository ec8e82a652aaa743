-- Accounts (main accounts and subaccounts) and their Standard API keys.
-- `seq` gives the stable creation order that keyset paging walks; `sid` is the public id.

create table accounts (
    seq               integer primary key autoincrement,
    sid               text    not null unique,
    -- a main account is its own owner (spec: "The OwnerAccountSid of a parent account is it's own sid")
    owner_account_sid text    not null references accounts (sid),
    friendly_name     text    not null,
    status            text    not null check (status in ('active', 'suspended', 'closed')),
    type              text    not null check (type in ('Trial', 'Full')),
    auth_token_hash   text    not null,
    auth_token_sealed blob    not null,
    date_created      integer not null,
    date_updated      integer not null
);

create index accounts_by_owner on accounts (owner_account_sid, seq);
create index accounts_by_owner_name on accounts (owner_account_sid, friendly_name);

create table api_keys (
    seq           integer primary key autoincrement,
    sid           text    not null unique,
    account_sid   text    not null references accounts (sid),
    friendly_name text,
    secret_hash   text    not null,
    date_created  integer not null,
    date_updated  integer not null
);

create index api_keys_by_account on api_keys (account_sid, seq);
