-- TrustHub v1: the EndUserTypes catalog (read-only, fixed SIDs: the same on every installation)
-- and end users. Catalog facts: ../shared/reference/trusthub-end-user-types.md. Only
-- authorized_representative_1 is documented field for field by Twilio (spec example); the other
-- entries' friendly names and fields come from Twilio's Policy requirements and guides and are
-- marked unconfirmed in the README.

create table end_user_types (
    seq           integer primary key autoincrement,
    sid           text not null unique,
    machine_name  text not null unique,
    friendly_name text not null,
    -- JSON array of {"machine_name", "friendly_name", "constraint"}
    fields        text not null
);

create table end_users (
    seq           integer primary key autoincrement,
    sid           text    not null unique,
    account_sid   text    not null references accounts (sid),
    friendly_name text    not null,
    type          text    not null references end_user_types (machine_name),
    -- JSON object text, as given (canonicalised)
    attributes    text    not null,
    date_created  integer not null,
    date_updated  integer not null
);

create index end_users_by_account on end_users (account_sid, seq);

insert into end_user_types (sid, machine_name, friendly_name, fields) values
    ('OY528063946dd9574aaa1d1a87b4d704fe', 'individual', 'Individual',
     '[{"machine_name": "first_name", "friendly_name": "First Name", "constraint": "String"}, {"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"}]'),
    ('OYb81ce45518de5042a9ee2bf354d249f0', 'business', 'Business',
     '[{"machine_name": "business_name", "friendly_name": "Business Name", "constraint": "String"}]'),
    ('OYc2e1cd15960a5c51885534e900a0d1db', 'authorized_representative_1', 'Authorized Representative one',
     '[{"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"}, {"machine_name": "email", "friendly_name": "Email", "constraint": "String"}, {"machine_name": "first_name", "friendly_name": "First Name", "constraint": "String"}, {"machine_name": "business_title", "friendly_name": "Business Title", "constraint": "String"}, {"machine_name": "phone_number", "friendly_name": "Phone Number", "constraint": "String"}, {"machine_name": "job_position", "friendly_name": "Job Position", "constraint": "String"}]'),
    ('OY0f8a3fce46a55406b968a08e63245e26', 'authorized_representative_2', 'Authorized Representative two',
     '[{"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"}, {"machine_name": "email", "friendly_name": "Email", "constraint": "String"}, {"machine_name": "first_name", "friendly_name": "First Name", "constraint": "String"}, {"machine_name": "business_title", "friendly_name": "Business Title", "constraint": "String"}, {"machine_name": "phone_number", "friendly_name": "Phone Number", "constraint": "String"}, {"machine_name": "job_position", "friendly_name": "Job Position", "constraint": "String"}]'),
    ('OY29dcdd37531652faa0e362319d54e5a0', 'customer_profile_business_information', 'Business Information',
     '[{"machine_name": "business_type", "friendly_name": "Business Type", "constraint": "String"}, {"machine_name": "business_registration_number", "friendly_name": "Business Registration Number", "constraint": "String"}, {"machine_name": "business_name", "friendly_name": "Business Name", "constraint": "String"}, {"machine_name": "business_registration_identifier", "friendly_name": "Business Registration Identifier", "constraint": "String"}, {"machine_name": "business_identity", "friendly_name": "Business Identity", "constraint": "String"}, {"machine_name": "business_industry", "friendly_name": "Business Industry", "constraint": "String"}, {"machine_name": "website_url", "friendly_name": "Website URL", "constraint": "String"}, {"machine_name": "business_regions_of_operation", "friendly_name": "Business Regions of Operation", "constraint": "String"}, {"machine_name": "social_media_profile_urls", "friendly_name": "Social Media Profile URLs", "constraint": "String"}]'),
    ('OYb2b9e8b25d915ff6acdbb8081cc51035', 'starter_customer_profile_information', 'Starter Customer Profile Information',
     '[{"machine_name": "first_name", "friendly_name": "First Name", "constraint": "String"}, {"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"}, {"machine_name": "email", "friendly_name": "Email", "constraint": "String"}, {"machine_name": "phone_number", "friendly_name": "Phone Number", "constraint": "String"}]'),
    ('OY0d02035dbd7d5a49b9ef694c61dff646', 'sole_proprietor_information', 'Sole Proprietor Information',
     '[{"machine_name": "brand_name", "friendly_name": "Brand Name", "constraint": "String"}, {"machine_name": "mobile_phone_number", "friendly_name": "Mobile Phone Number", "constraint": "String"}, {"machine_name": "vertical", "friendly_name": "Vertical", "constraint": "String"}]'),
    ('OYd698af66bf86586bbee23a36425a05b6', 'us_a2p_messaging_profile_information', 'US A2P Messaging Profile Information',
     '[{"machine_name": "company_type", "friendly_name": "Company Type", "constraint": "String"}, {"machine_name": "stock_exchange", "friendly_name": "Stock Exchange", "constraint": "String"}, {"machine_name": "stock_ticker", "friendly_name": "Stock Ticker", "constraint": "String"}, {"machine_name": "brand_contact_email", "friendly_name": "Brand Contact Email", "constraint": "String"}]');
