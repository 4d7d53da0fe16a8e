-- Fleet mode on a NATS cluster (docs/scale-out.md): nats-server checks passwords against bcrypt
-- hashes only, so where the configuration says mqtt.broker: nats, a device's or account's secret
-- is stored a second time as bcrypt, and `energyhub nats-auth` renders the users from it. Devices
-- registered before have none until `energyhub device secret` issues a new secret.
ALTER TABLE devices ADD COLUMN nats_hash text CHECK (nats_hash LIKE '$2b$%');
ALTER TABLE mqtt_accounts ADD COLUMN nats_hash text CHECK (nats_hash LIKE '$2b$%');
