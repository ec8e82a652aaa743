-- Studio v2 Executions (issue 18): contacts, executions, their steps.

-- A flow's contacts: one stable FC SID per (flow, contact address), as `contact_sid` is.
create table studio_contacts (
    flow_sid text not null references flows (sid) on delete cascade,
    address  text not null,
    sid      text not null unique,
    primary key (flow_sid, address)
);

create table studio_executions (
    seq             integer primary key autoincrement,
    sid             text    not null unique,
    account_sid     text    not null references accounts (sid),
    flow_sid        text    not null references flows (sid) on delete cascade,
    contact_sid     text    not null,
    -- `To`: the contact (contact.channel.address)
    contact_address text    not null,
    -- `From`: the flow's own address (flow.channel.address)
    from_address    text    not null,
    -- the revision that runs, pinned at creation
    flow_version    integer not null,
    status          text    not null check (status in ('active', 'ended')),
    initiated_by    text    not null,
    -- JSON: the latest execution context {trigger, contact, flow, widgets}
    context         text    not null,
    -- JSON: the engine's bookkeeping (steps so far, the widget run last and how often in a row)
    engine          text    not null,
    -- a parked send-and-wait-for-reply: its widget, and when its timeout fires (epoch seconds)
    waiting_widget  text,
    wake_at         integer,
    date_created    integer not null,
    date_updated    integer not null
);

create index studio_executions_by_flow on studio_executions (flow_sid, seq);
-- Twilio: "Only one Execution can be active at a time for the same To/From combination."
create unique index studio_executions_one_active
    on studio_executions (flow_sid, contact_address, from_address) where status = 'active';
create index studio_executions_waking on studio_executions (wake_at) where wake_at is not null;

create table studio_execution_steps (
    seq               integer primary key autoincrement,
    sid               text    not null unique,
    execution_sid     text    not null references studio_executions (sid) on delete cascade,
    parent_step_sid   text,
    name              text    not null,
    type              text    not null,
    transitioned_from text    not null,
    transitioned_to   text    not null,
    -- JSON: what the widget produced (its widgets.<name> entry), or why it stopped
    context           text    not null,
    date_created      integer not null
);

create index studio_execution_steps_by_execution on studio_execution_steps (execution_sid, seq);
