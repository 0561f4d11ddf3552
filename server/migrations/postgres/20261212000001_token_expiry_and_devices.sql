-- Lost and seized phones (issue 19): tokens expire and can be revoked, devices can be listed
-- and withdrawn. The SQLite migration of the same name makes the same columns (and explains
-- them).
ALTER TABLE tokens ADD COLUMN id UUID;
UPDATE tokens SET id = gen_random_uuid();
ALTER TABLE tokens ALTER COLUMN id SET NOT NULL;
ALTER TABLE tokens ADD CONSTRAINT tokens_id_unique UNIQUE (id);
ALTER TABLE tokens ADD COLUMN created_on TEXT;
UPDATE tokens SET created_on = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD');
ALTER TABLE tokens ALTER COLUMN created_on SET NOT NULL;
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
UPDATE tokens SET expires_at = (floor(extract(epoch FROM now()) / 86400)::BIGINT
    + CASE role WHEN 'device' THEN 181 ELSE 31 END) * 86400;
ALTER TABLE tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE tokens ADD COLUMN revoked_on TEXT;
ALTER TABLE tokens ADD COLUMN last_used_on TEXT;
CREATE INDEX tokens_by_device ON tokens (device);

ALTER TABLE devices ADD COLUMN enrolled_on TEXT;
ALTER TABLE devices ADD COLUMN last_sync_on TEXT;
ALTER TABLE devices ADD COLUMN revoked_on TEXT;
ALTER TABLE devices ADD COLUMN wipe BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX devices_by_dataset ON devices (dataset);

CREATE INDEX audit_log_by_dataset ON audit_log (dataset, id);
