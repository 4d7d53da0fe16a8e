-- Users and their devices. Ids follow DESIGN.md: [A-Za-z0-9_.-]{1,64}.
CREATE TABLE users (
    user_id     text PRIMARY KEY CHECK (user_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    email       text NOT NULL CHECK (position('@' in email) > 1),
    name        text,
    tz          text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    device_id    text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    user_id      text NOT NULL REFERENCES users ON DELETE CASCADE,
    type         text NOT NULL DEFAULT 'plug',
    name         text,
    secret_hash  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_idx ON devices (user_id);

-- Every change to a device is logged, whoever made it; hubs poll this log to evict their caches.
-- A log rather than LISTEN/NOTIFY, so a hub that was disconnected still sees what changed meanwhile.
CREATE TABLE device_changes (
    seq         bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION energyhub_device_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO device_changes (device_id)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.device_id ELSE NEW.device_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER devices_changed AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION energyhub_device_changed();
