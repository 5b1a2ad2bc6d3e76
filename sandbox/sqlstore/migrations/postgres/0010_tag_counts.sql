-- How many contacts of a location carry each tag, kept by a trigger in the
-- same transaction as the change (see the SQLite migration of the same
-- name). Writers are serialised by the store's advisory lock, so the
-- counter row is no point of contention beyond that.
CREATE TABLE tag_counts (
	location_id TEXT COLLATE "C" NOT NULL,
	tag TEXT COLLATE "C" NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (location_id, tag)
);

INSERT INTO tag_counts (location_id, tag, n)
	SELECT location_id, tag, COUNT(*) FROM contact_tags GROUP BY location_id, tag;

CREATE FUNCTION ghlkit_tag_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE tag_counts SET n = n - 1 WHERE location_id = OLD.location_id AND tag = OLD.tag;
		DELETE FROM tag_counts WHERE location_id = OLD.location_id AND tag = OLD.tag AND n <= 0;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO tag_counts (location_id, tag, n) VALUES (NEW.location_id, NEW.tag, 1)
			ON CONFLICT (location_id, tag) DO UPDATE SET n = tag_counts.n + 1;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER contact_tags_count AFTER INSERT OR DELETE OR UPDATE OF location_id, tag ON contact_tags
	FOR EACH ROW EXECUTE FUNCTION ghlkit_tag_counts();
