"""Signed exports for accountants: salary lines (SPEC 4.3) and the FEC (SPEC 4.4)."""
