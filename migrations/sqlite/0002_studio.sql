-- Studio v2: flows, their revisions, and their test users.
-- A flow's current state is its latest revision (flows.revision points at it).

create table flows (
    seq          integer primary key autoincrement,
    sid          text    not null unique,
    account_sid  text    not null references accounts (sid),
    revision     integer not null,
    date_created integer not null,
    -- null until the first update, as in the spec's create example
    date_updated integer
);

create index flows_by_account on flows (account_sid, seq);

create table flow_revisions (
    flow_sid       text    not null references flows (sid) on delete cascade,
    revision       integer not null,
    friendly_name  text    not null,
    status         text    not null check (status in ('draft', 'published')),
    definition     text    not null,
    commit_message text,
    -- JSON array of validation problems; empty when valid
    errors         text    not null,
    date_created   integer not null,
    primary key (flow_sid, revision)
);

create table flow_test_users (
    flow_sid text    not null references flows (sid) on delete cascade,
    position integer not null,
    identity text    not null,
    primary key (flow_sid, position)
);
