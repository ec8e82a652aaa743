-- TrustHub v1 bundles (issue 20; facts: ../shared/reference/trusthub-bundles.md): the read-only
-- SupportingDocumentTypes and Policies catalogs (fixed SIDs, the same on every installation),
-- two more EndUserTypes, supporting documents, Customer Profiles and Trust Products (one table,
-- `kind` tells them apart: both are BU bundles), their entity and channel-endpoint assignments,
-- their evaluations, and the state of the simulated review.

insert into end_user_types (sid, machine_name, friendly_name, fields) values
    ('OY5c1f1b4a3d2e4f6a8b9c0d1e2f3a4b5c', 'cnam_information', 'CNAM Information',
     '[{"machine_name": "cnam_display_name", "friendly_name": "CNAM Display Name", "constraint": "String"}]'),
    ('OY6d2a2c5b4e3f4a7b9c0d1e2f3a4b5c6d', 'voice_integrity_information', 'Voice Integrity Information',
     '[{"machine_name": "use_case", "friendly_name": "Use Case", "constraint": "String"}, {"machine_name": "business_employee_count", "friendly_name": "Business Employee Count", "constraint": "String"}, {"machine_name": "average_business_day_call_volume", "friendly_name": "Average Business Day Call Volume", "constraint": "String"}, {"machine_name": "notes", "friendly_name": "Notes", "constraint": "String"}]');

create table supporting_document_types (
    seq           integer primary key autoincrement,
    sid           text not null unique,
    machine_name  text not null unique,
    friendly_name text not null,
    -- JSON array of {"machine_name", "friendly_name", "constraint"}
    fields        text not null
);

insert into supporting_document_types (sid, machine_name, friendly_name, fields) values
    ('OY8b1f8e3c6a2d4b5e9f0a1b2c3d4e5f60', 'customer_profile_address', 'Customer profile address',
     '[{"machine_name": "address_sids", "friendly_name": "Address Sids", "constraint": "List"}]'),
    ('OY9c2a9f4d7b3e4c6f0a1b2c3d4e5f6071', 'starter_customer_profile_address', 'Starter customer profile address',
     '[{"machine_name": "address_sids", "friendly_name": "Address Sids", "constraint": "List"}]'),
    ('OYad3b0a5e8c4f4d7a1b2c3d4e5f607182', 'government_issued_proof_of_authorized_representative', 'Government Issued Identity certifying proof of being an authorized representative of a company',
     '[{"machine_name": "first_name", "friendly_name": "First Name", "constraint": "String"}, {"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"}, {"machine_name": "business_name", "friendly_name": "Business Name", "constraint": "String"}]');

create table trust_policies (
    seq           integer primary key autoincrement,
    sid           text    not null unique,
    friendly_name text    not null,
    -- which bundles may use it: 'customer_profile' or 'trust_product'
    bundle_kind   text    not null check (bundle_kind in ('customer_profile', 'trust_product')),
    -- the supporting-profile `type` a bundle under this policy satisfies (ours), if any
    supports      text,
    -- false: Console only (Twilio refuses creating such a bundle through the API)
    api_creatable boolean not null,
    -- the `requirements` object, as served
    requirements  text    not null
);

create table supporting_documents (
    seq           integer primary key autoincrement,
    sid           text    not null unique,
    account_sid   text    not null references accounts (sid),
    friendly_name text    not null,
    type          text    not null references supporting_document_types (machine_name),
    -- JSON object text (canonicalised)
    attributes    text    not null,
    status        text    not null,
    date_created  BIGINT  not null,
    date_updated  BIGINT  not null
);

create index supporting_documents_by_account on supporting_documents (account_sid, seq);

create table trust_bundles (
    seq             integer primary key autoincrement,
    sid             text    not null unique,
    account_sid     text    not null references accounts (sid),
    kind            text    not null check (kind in ('customer_profile', 'trust_product')),
    policy_sid      text    not null references trust_policies (sid),
    friendly_name   text    not null,
    email           text    not null,
    status_callback text,
    status          text    not null check (status in ('draft', 'pending-review', 'in-review', 'twilio-rejected', 'twilio-approved')),
    -- epoch seconds, set on approval
    valid_until     BIGINT,
    -- JSON array of {"code": N} after a rejection, else null
    errors          text,
    date_created    BIGINT  not null,
    date_updated    BIGINT  not null,
    -- the simulated review: when it moves next (epoch ms); null when nothing is scheduled
    review_due_at   BIGINT
);

create index trust_bundles_by_account on trust_bundles (account_sid, kind, seq);
create index trust_bundles_review_due on trust_bundles (review_due_at);

create table trust_bundle_entities (
    seq          integer primary key autoincrement,
    sid          text   not null unique,
    bundle_sid   text   not null references trust_bundles (sid) on delete cascade,
    account_sid  text   not null,
    -- an IT (end user), RD (supporting document) or BU (bundle) SID
    object_sid   text   not null,
    date_created BIGINT not null,
    unique (bundle_sid, object_sid)
);

create index trust_bundle_entities_by_object on trust_bundle_entities (object_sid);

create table trust_bundle_channel_endpoints (
    seq                   integer primary key autoincrement,
    sid                   text   not null unique,
    bundle_sid            text   not null references trust_bundles (sid) on delete cascade,
    account_sid           text   not null,
    channel_endpoint_type text   not null,
    channel_endpoint_sid  text   not null,
    date_created          BIGINT not null,
    unique (bundle_sid, channel_endpoint_sid)
);

create table trust_bundle_evaluations (
    seq          integer primary key autoincrement,
    sid          text   not null unique,
    bundle_sid   text   not null references trust_bundles (sid) on delete cascade,
    account_sid  text   not null,
    policy_sid   text   not null,
    status       text   not null check (status in ('compliant', 'noncompliant')),
    -- JSON array: one result per requirement
    results      text   not null,
    date_created BIGINT not null
);

insert into trust_policies (sid, friendly_name, bundle_kind, supports, api_creatable, requirements) values
    ('RN6433641899984f951173ef1738c3bdd0', 'Primary Customer Profile of type Business', 'customer_profile', 'primary_customer_profile_type_business', false,
     '{"end_user": [{"url": "/EndUserTypes/customer_profile_business_information", "fields": ["business_type", "business_registration_number", "business_name", "business_registration_identifier", "business_identity", "business_industry", "website_url", "business_regions_of_operation", "social_media_profile_urls"], "type": "customer_profile_business_information", "name": "Business Information", "requirement_name": "customer_profile_business_information"}, {"url": "/EndUserTypes/authorized_representative_1", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"], "type": "authorized_representative_1", "name": "Authorized Representative 1", "requirement_name": "authorized_representative_1"}, {"url": "/EndUserTypes/authorized_representative_2", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"], "type": "authorized_representative_2", "name": "Authorized Representative 2", "requirement_name": "authorized_representative_2"}], "supporting_trust_products": [], "supporting_document": [[{"description": "Customer Profile HQ Physical Address", "type": "document", "name": "Physical Business Address", "accepted_documents": [{"url": "/SupportingDocumentTypes/customer_profile_address", "fields": ["address_sids"], "type": "customer_profile_address", "name": "Physical Business Address"}], "requirement_name": "customer_profile_address"}]], "supporting_customer_profiles": []}'),
    ('RNdfbf3fae0e1107f8aded0e7cead80bf5', 'Secondary Customer Profile of type Business', 'customer_profile', 'secondary_customer_profile_type_business', true,
     '{"end_user": [{"url": "/EndUserTypes/customer_profile_business_information", "fields": ["business_type", "business_registration_number", "business_name", "business_registration_identifier", "business_identity", "business_industry", "website_url", "business_regions_of_operation", "social_media_profile_urls"], "type": "customer_profile_business_information", "name": "Business Information", "requirement_name": "customer_profile_business_information"}, {"url": "/EndUserTypes/authorized_representative_1", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"], "type": "authorized_representative_1", "name": "Authorized Representative #1", "requirement_name": "authorized_representative_1"}, {"url": "/EndUserTypes/authorized_representative_2", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"], "type": "authorized_representative_2", "name": "Authorized Representative #2", "requirement_name": "authorized_representative_2"}], "supporting_trust_products": [], "supporting_document": [[{"description": "Customer Profile HQ Physical Address", "type": "document", "name": "Physical Business Address", "accepted_documents": [{"url": "/SupportingDocumentTypes/customer_profile_address", "fields": ["address_sids"], "type": "customer_profile_address", "name": "Physical Business Address"}], "requirement_name": "customer_profile_address"}]], "supporting_customer_profiles": [{"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "primary_customer_profile"}]}'),
    ('RN806dd6cd175f314e1f96a9727ee271f4', 'Starter Customer Profile of type Business', 'customer_profile', 'starter_customer_profile_type_business', true,
     '{"end_user": [{"url": "/EndUserTypes/starter_customer_profile_information", "fields": ["first_name", "last_name", "email", "phone_number"], "type": "starter_customer_profile_information", "name": "Information", "requirement_name": "starter_customer_profile_information"}], "supporting_trust_products": [], "supporting_document": [[{"description": "Customer Profile Address", "type": "document", "name": "Customer Profile Address", "accepted_documents": [{"url": "/SupportingDocumentTypes/customer_profile_address", "fields": ["address_sids"], "type": "customer_profile_address", "name": "Legal Company Address"}, {"url": "/SupportingDocumentTypes/starter_customer_profile_address", "fields": ["address_sids"], "type": "starter_customer_profile_address", "name": "Legal Company Address"}], "requirement_name": "customer_profile_address"}]], "supporting_customer_profiles": [{"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "primary_customer_profile"}]}'),
    ('RNb0d4771c2c98518d916a3d4cd70a8f8b', 'A2P Messaging: Local - Business', 'trust_product', NULL, true,
     '{"end_user": [{"url": "/EndUserTypes/us_a2p_messaging_profile_information", "fields": ["company_type", "stock_exchange", "stock_ticker"], "type": "us_a2p_messaging_profile_information", "name": "US A2P Messaging Profile Information", "requirement_name": "us_a2p_messaging_profile_information"}], "supporting_trust_products": [], "supporting_document": [[]], "supporting_customer_profiles": [{"type": "secondary_customer_profile_type_business", "name": "Secondary Customer Profile Bundle", "requirement_name": "customer_profile"}, {"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "customer_profile"}]}'),
    ('RN670d5d2e282a6130ae063b234b6019c8', 'Sole Proprietor TrustProduct', 'trust_product', NULL, true,
     '{"end_user": [{"url": "/EndUserTypes/sole_proprietor_information", "fields": ["brand_name", "mobile_phone_number", "vertical"], "type": "sole_proprietor_information", "name": "Sole Proprietor Information", "requirement_name": "sole_proprietor_information"}], "supporting_trust_products": [], "supporting_document": [[]], "supporting_customer_profiles": [{"type": "starter_customer_profile_type_business", "name": "Starter Customer Profile(isv customers) Proof", "requirement_name": "customer_profile"}, {"type": "starter_customer_profile_type_direct_long_tail", "name": "Starter Customer Profile(direct customers) Proof", "requirement_name": "customer_profile"}]}'),
    ('RNf3db3cd1fe25fcfd3c3ded065c8fea53', 'CNAM Trust Product', 'trust_product', NULL, true,
     '{"end_user": [{"url": "/EndUserTypes/cnam_information", "fields": ["cnam_display_name"], "type": "cnam_information", "name": "CNAM Information", "requirement_name": "cnam_information"}], "supporting_trust_products": [], "supporting_document": [[]], "supporting_customer_profiles": [{"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "customer_profile"}, {"type": "secondary_customer_profile_type_business", "name": "Secondary Customer Profile Bundle", "requirement_name": "customer_profile"}]}'),
    ('RN5b3660f9598883b1df4e77f77acefba0', 'Voice Integrity Trust Product', 'trust_product', NULL, true,
     '{"end_user": [{"url": "/EndUserTypes/voice_integrity_information", "fields": ["use_case", "business_employee_count", "average_business_day_call_volume", "notes"], "type": "voice_integrity_information", "name": "Voice Integrity Information", "requirement_name": "voice_integrity_information"}], "supporting_trust_products": [], "supporting_document": [[]], "supporting_customer_profiles": [{"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "customer_profile"}, {"type": "secondary_customer_profile_type_business", "name": "Secondary Customer Profile Bundle", "requirement_name": "customer_profile"}]}'),
    ('RN7a97559effdf62d00f4298208492a5ea', 'SHAKEN/STIR Trust Product', 'trust_product', NULL, true,
     '{"end_user": [], "supporting_trust_products": [], "supporting_document": [[]], "supporting_customer_profiles": [{"type": "primary_customer_profile_type_business", "name": "Primary Customer Profile Bundle", "requirement_name": "customer_profile"}, {"type": "secondary_customer_profile_type_business", "name": "Secondary Customer Profile Bundle", "requirement_name": "customer_profile"}]}');
