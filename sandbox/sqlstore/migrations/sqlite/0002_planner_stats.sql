-- Planner statistics. Without them SQLite assumes every index is equally
-- selective and prefers the one that avoids a sort: an email search would
-- walk a location's contacts in date order instead of looking the email up.
-- Statistics measured by ANALYZE describe the data of one moment (an empty
-- sandbox, say) and go stale; these fixed ones describe the shape the
-- sandbox is built for (many locations of ~10,000 contacts; emails, phones
-- and ids nearly unique; a tag or custom value shared by ~1% of a location),
-- so plans do not change as the data grows. Format: rows, then the average
-- rows per distinct value of each leading column prefix of the index.
-- ANALYZE creates sqlite_stat1 (its rows are then replaced).
ANALYZE;
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
	('records', 'sqlite_autoindex_records_1', '100000 10000 1'),
	('records', 'records_location', '100000 10000 100 2 1'),
	('records', 'records_parent', '100000 10000 5'),
	('records', 'records_key', '100000 10000 2'),
	('records', 'records_company', '100000 10000 1000'),
	('contacts', 'sqlite_autoindex_contacts_1', '1000000 1'),
	('contacts', 'contacts_email', '1000000 10000 2'),
	('contacts', 'contacts_phone', '1000000 10000 2'),
	('contacts', 'contacts_date_added', '1000000 10000 2 1'),
	('contacts', 'contacts_date_updated', '1000000 10000 2 1'),
	('contacts', 'contacts_first_name', '1000000 10000 100'),
	('contacts', 'contacts_last_name', '1000000 10000 100'),
	('contacts', 'contacts_business', '1000000 10000 1000'),
	('contact_tags', 'sqlite_autoindex_contact_tags_1', '3000000 3 1'),
	('contact_tags', 'contact_tags_tag', '3000000 30000 100 2 1'),
	('contact_custom_values', 'contact_custom_values_contact', '2000000 2'),
	('contact_custom_values', 'contact_custom_values_text', '2000000 20000 1000 100 1'),
	('contact_custom_values', 'contact_custom_values_num', '2000000 20000 1000 100 1'),
	('events', 'sqlite_autoindex_events_1', '1000000 1');
-- Load them into this connection's schema; connections opened later read
-- them at open.
ANALYZE sqlite_schema;
