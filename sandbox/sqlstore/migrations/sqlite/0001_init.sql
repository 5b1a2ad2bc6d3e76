-- The sandbox schema on SQLite. Timestamps of records and events are Unix
-- microseconds; contact dates are Unix milliseconds (0 when unset). Text
-- columns that searches compare are stored lower-cased, except ids and phone.

-- Records of every sandbox.Kind: indexed columns plus the JSON document.
CREATE TABLE records (
	kind        TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	location_id TEXT    NOT NULL DEFAULT '',
	company_id  TEXT    NOT NULL DEFAULT '',
	parent_id   TEXT    NOT NULL DEFAULT '',
	key         TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	data        TEXT,
	PRIMARY KEY (kind, id)
);
CREATE INDEX records_location ON records (kind, location_id, created_at, id);
CREATE INDEX records_parent   ON records (kind, parent_id);
CREATE INDEX records_key      ON records (kind, key);
CREATE INDEX records_company  ON records (kind, company_id);

-- Contacts: the JSON document plus a column for every sandbox.ContactFields
-- entry (tags live in contact_tags).
CREATE TABLE contacts (
	id            TEXT    NOT NULL PRIMARY KEY,
	location_id   TEXT    NOT NULL,
	email         TEXT    NOT NULL DEFAULT '',
	phone         TEXT    NOT NULL DEFAULT '',
	first_name    TEXT    NOT NULL DEFAULT '',
	last_name     TEXT    NOT NULL DEFAULT '',
	name          TEXT    NOT NULL DEFAULT '',
	company_name  TEXT    NOT NULL DEFAULT '',
	source        TEXT    NOT NULL DEFAULT '',
	contact_type  TEXT    NOT NULL DEFAULT '',
	assigned_to   TEXT    NOT NULL DEFAULT '',
	address1      TEXT    NOT NULL DEFAULT '',
	city          TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL DEFAULT '',
	country       TEXT    NOT NULL DEFAULT '',
	postal_code   TEXT    NOT NULL DEFAULT '',
	website       TEXT    NOT NULL DEFAULT '',
	business_id   TEXT    NOT NULL DEFAULT '',
	timezone      TEXT    NOT NULL DEFAULT '',
	date_of_birth TEXT    NOT NULL DEFAULT '',
	dnd           INTEGER NOT NULL DEFAULT 0,
	date_added    INTEGER NOT NULL DEFAULT 0,
	date_updated  INTEGER NOT NULL DEFAULT 0,
	last_activity INTEGER NOT NULL DEFAULT 0,
	search_text   TEXT    NOT NULL DEFAULT '',
	data          TEXT    NOT NULL
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
	contact_id  TEXT    NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	location_id TEXT    NOT NULL,
	tag         TEXT    NOT NULL,
	date_added  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (contact_id, tag)
) WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags (location_id, tag, date_added, contact_id);

-- A contact's custom field values, one row per value (a multi-valued field
-- has several): value_text lower-cased, value_num set for numbers and dates.
CREATE TABLE contact_custom_values (
	contact_id  TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	location_id TEXT NOT NULL,
	field_id    TEXT NOT NULL,
	value_text  TEXT NOT NULL,
	value_num   REAL
);
CREATE INDEX contact_custom_values_contact ON contact_custom_values (contact_id);
CREATE INDEX contact_custom_values_text    ON contact_custom_values (location_id, field_id, value_text, contact_id);
CREATE INDEX contact_custom_values_num     ON contact_custom_values (location_id, field_id, value_num, contact_id);

-- The event outbox. seq orders events in commit order (writers are
-- serialised); AUTOINCREMENT never reuses a seq, even after deletes.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT    NOT NULL UNIQUE,
	type        TEXT    NOT NULL,
	location_id TEXT    NOT NULL DEFAULT '',
	company_id  TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	payload     TEXT    NOT NULL
);
