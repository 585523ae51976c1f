"""Checking a submission: safe reading, values, rules, findings and the validation report."""
