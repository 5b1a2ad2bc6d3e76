-- How many contacts of a location carry each tag, kept by triggers in the
-- same transaction as the change. A search for one tag (the commonest
-- search) then knows its total without counting index entries: a tag on
-- half of 100,000 contacts costs one row read instead of 50,000.
CREATE TABLE tag_counts (
	location_id TEXT NOT NULL,
	tag TEXT NOT NULL,
	n INTEGER NOT NULL,
	PRIMARY KEY (location_id, tag)
) WITHOUT ROWID;

INSERT INTO tag_counts (location_id, tag, n)
	SELECT location_id, tag, COUNT(*) FROM contact_tags GROUP BY location_id, tag;

CREATE TRIGGER contact_tags_count_insert AFTER INSERT ON contact_tags BEGIN
	INSERT INTO tag_counts (location_id, tag, n) VALUES (NEW.location_id, NEW.tag, 1)
		ON CONFLICT (location_id, tag) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER contact_tags_count_delete AFTER DELETE ON contact_tags BEGIN
	UPDATE tag_counts SET n = n - 1 WHERE location_id = OLD.location_id AND tag = OLD.tag;
	DELETE FROM tag_counts WHERE location_id = OLD.location_id AND tag = OLD.tag AND n <= 0;
END;

CREATE TRIGGER contact_tags_count_update AFTER UPDATE OF location_id, tag ON contact_tags BEGIN
	UPDATE tag_counts SET n = n - 1 WHERE location_id = OLD.location_id AND tag = OLD.tag;
	DELETE FROM tag_counts WHERE location_id = OLD.location_id AND tag = OLD.tag AND n <= 0;
	INSERT INTO tag_counts (location_id, tag, n) VALUES (NEW.location_id, NEW.tag, 1)
		ON CONFLICT (location_id, tag) DO UPDATE SET n = n + 1;
END;
