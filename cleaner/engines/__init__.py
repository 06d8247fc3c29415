"""Engines run phase 1 (per-task work) somewhere; phase 2 always runs in the driver, in order."""
