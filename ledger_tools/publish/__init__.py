"""The yearly publication: figures, reconciliation, the accessible page and the open-data CSVs."""
