"""A local AdvancedMD simulator speaking the wire protocol of /work/shared/amd/PROTOCOL.md.

Run it with `python -m local.amdsim --port 0`; use it from pytest through
`local.amdsim.pytest_plugin` (fixture `amd_sim`)."""
