-- Whole-home meters: import (energy_wh, from the grid) and export (returned to the grid) are
-- separate counters, and the hourly rollup keeps the energy of each apart. Existing rows have
-- no export.
ALTER TABLE readings
    ADD COLUMN energy_export_wh double precision,   -- cumulative export counter
    ADD COLUMN export_delta_wh  double precision;   -- export since the device's previous counters

ALTER TABLE readings_hourly
    ADD COLUMN export_wh double precision NOT NULL DEFAULT 0;

COMMENT ON COLUMN readings.energy_wh IS 'cumulative import (consumption) counter, Wh';
COMMENT ON COLUMN readings_hourly.energy_wh IS 'energy imported (used) in the hour, Wh';
COMMENT ON COLUMN readings_hourly.export_wh IS 'energy exported (returned to the grid) in the hour, Wh';
