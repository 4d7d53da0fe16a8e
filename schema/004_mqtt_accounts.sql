-- MQTT accounts that are not devices: each daemon's service account and each user's read-only
-- dashboard account. The broker plugin (plugins/) loads them with the devices and grants topics
-- by role; passwords are stored only as PBKDF2-SHA512 hashes in mosquitto_passwd's format.
CREATE TABLE mqtt_accounts (
    username       text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$7$%'),
    role           text NOT NULL CHECK (role IN ('service', 'dashboard')),
    daemon         text CHECK (daemon IN ('hub', 'notifier', 'insights')),
    user_id        text REFERENCES users ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'service' AND daemon IS NOT NULL AND user_id IS NULL) OR
           (role = 'dashboard' AND user_id IS NOT NULL AND daemon IS NULL))
);
CREATE INDEX mqtt_accounts_user_idx ON mqtt_accounts (user_id);

-- Every change to an account, whoever made it (also a dashboard account removed with its user):
-- the broker plugin polls this log as it polls device_changes.
CREATE TABLE mqtt_account_changes (
    seq         bigserial PRIMARY KEY,
    username    text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION energyhub_mqtt_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO mqtt_account_changes (username) VALUES (OLD.username);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO mqtt_account_changes (username) VALUES (NEW.username);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mqtt_accounts_changed AFTER INSERT OR UPDATE OR DELETE ON mqtt_accounts
    FOR EACH ROW EXECUTE FUNCTION energyhub_mqtt_account_changed();

-- Devices and accounts share one MQTT username space: a name is either a device id or an account.
CREATE FUNCTION energyhub_mqtt_username_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'devices' THEN
        IF EXISTS (SELECT 1 FROM mqtt_accounts WHERE username = NEW.device_id) THEN
            RAISE EXCEPTION 'MQTT username % is already an account', NEW.device_id USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM devices WHERE device_id = NEW.username) THEN
        RAISE EXCEPTION 'MQTT username % is already a device', NEW.username USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER devices_mqtt_username_free BEFORE INSERT OR UPDATE OF device_id ON devices
    FOR EACH ROW EXECUTE FUNCTION energyhub_mqtt_username_free();
CREATE TRIGGER mqtt_accounts_username_free BEFORE INSERT OR UPDATE OF username ON mqtt_accounts
    FOR EACH ROW EXECUTE FUNCTION energyhub_mqtt_username_free();
