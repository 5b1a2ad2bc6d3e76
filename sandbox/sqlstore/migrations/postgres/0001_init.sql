-- The sandbox schema on PostgreSQL. Timestamps of records and events are
-- Unix microseconds; contact dates are Unix milliseconds (0 when unset). Text
-- columns that searches compare are stored lower-cased, except ids and phone,
-- and use the "C" collation so that they sort and compare by bytes, as on
-- SQLite, whatever the database's locale.

-- Records of every sandbox.Kind: indexed columns plus the JSON document
-- (json, not jsonb: it keeps the bytes as written and accepts \u0000).
CREATE TABLE records (
	kind        TEXT COLLATE "C" NOT NULL,
	id          TEXT COLLATE "C" NOT NULL,
	location_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	company_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	parent_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
	key         TEXT COLLATE "C" NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	data        JSON,
	PRIMARY KEY (kind, id)
);
CREATE INDEX records_location ON records (kind, location_id, created_at, id);
CREATE INDEX records_parent   ON records (kind, parent_id);
CREATE INDEX records_key      ON records (kind, key);
CREATE INDEX records_company  ON records (kind, company_id);

-- Contacts: the JSON document plus a column for every sandbox.ContactFields
-- entry (tags live in contact_tags).
CREATE TABLE contacts (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	location_id   TEXT COLLATE "C" NOT NULL,
	email         TEXT COLLATE "C" NOT NULL DEFAULT '',
	phone         TEXT COLLATE "C" NOT NULL DEFAULT '',
	first_name    TEXT COLLATE "C" NOT NULL DEFAULT '',
	last_name     TEXT COLLATE "C" NOT NULL DEFAULT '',
	name          TEXT COLLATE "C" NOT NULL DEFAULT '',
	company_name  TEXT COLLATE "C" NOT NULL DEFAULT '',
	source        TEXT COLLATE "C" NOT NULL DEFAULT '',
	contact_type  TEXT COLLATE "C" NOT NULL DEFAULT '',
	assigned_to   TEXT COLLATE "C" NOT NULL DEFAULT '',
	address1      TEXT COLLATE "C" NOT NULL DEFAULT '',
	city          TEXT COLLATE "C" NOT NULL DEFAULT '',
	state         TEXT COLLATE "C" NOT NULL DEFAULT '',
	country       TEXT COLLATE "C" NOT NULL DEFAULT '',
	postal_code   TEXT COLLATE "C" NOT NULL DEFAULT '',
	website       TEXT COLLATE "C" NOT NULL DEFAULT '',
	business_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
	timezone      TEXT COLLATE "C" NOT NULL DEFAULT '',
	date_of_birth TEXT COLLATE "C" NOT NULL DEFAULT '',
	dnd           INTEGER NOT NULL DEFAULT 0,
	date_added    BIGINT  NOT NULL DEFAULT 0,
	date_updated  BIGINT  NOT NULL DEFAULT 0,
	last_activity BIGINT  NOT NULL DEFAULT 0,
	search_text   TEXT COLLATE "C" NOT NULL DEFAULT '',
	data          JSON NOT NULL
);
CREATE INDEX contacts_email        ON contacts (location_id, email);
CREATE INDEX contacts_phone        ON contacts (location_id, phone);
CREATE INDEX contacts_date_added   ON contacts (location_id, date_added, id);
CREATE INDEX contacts_date_updated ON contacts (location_id, date_updated, id);
CREATE INDEX contacts_first_name   ON contacts (location_id, first_name);
CREATE INDEX contacts_last_name    ON contacts (location_id, last_name);
CREATE INDEX contacts_business     ON contacts (location_id, business_id);

-- A contact's tags, lower-cased, one row each, with the contact's
-- date_added: the search "contacts with tag X, newest first" (a smart list)
-- then reads 20 entries of the tag index in order, and counts its matches
-- in the index alone, however many contacts the location has.
CREATE TABLE contact_tags (
	contact_id  TEXT COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	location_id TEXT COLLATE "C" NOT NULL,
	tag         TEXT COLLATE "C" NOT NULL,
	date_added  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (location_id, tag, date_added, contact_id);

-- A contact's custom field values, one row per value (a multi-valued field
-- has several): value_text lower-cased, value_num set for numbers and dates.
CREATE TABLE contact_custom_values (
	contact_id  TEXT COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	location_id TEXT COLLATE "C" NOT NULL,
	field_id    TEXT COLLATE "C" NOT NULL,
	value_text  TEXT COLLATE "C" NOT NULL,
	value_num   DOUBLE PRECISION
);
CREATE INDEX contact_custom_values_contact ON contact_custom_values (contact_id);
CREATE INDEX contact_custom_values_text    ON contact_custom_values (location_id, field_id, value_text, contact_id);
CREATE INDEX contact_custom_values_num     ON contact_custom_values (location_id, field_id, value_num, contact_id);

-- The event outbox. seq orders events in commit order: writers are
-- serialised by an advisory lock, so seq values are assigned and committed
-- in the same order.
CREATE TABLE events (
	seq         BIGSERIAL PRIMARY KEY,
	id          TEXT COLLATE "C" NOT NULL UNIQUE,
	type        TEXT COLLATE "C" NOT NULL,
	location_id TEXT COLLATE "C" NOT NULL DEFAULT '',
	company_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	payload     JSON NOT NULL
);
