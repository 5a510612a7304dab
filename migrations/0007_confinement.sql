-- The confinement an agent runs under, set when the run starts: 'bwrap'
-- (bubblewrap namespaces: docs/SANDBOX.md) or 'none' (asked for with
-- sandbox: "none", or bubblewrap missing or not working on the host). NULL
-- until the agent started. Beside sandbox_mode (host_self / vm_self), so a
-- person sees at a glance what kept the agent in.
ALTER TABLE runs ADD COLUMN confinement TEXT CHECK (confinement IN ('bwrap', 'none'));
