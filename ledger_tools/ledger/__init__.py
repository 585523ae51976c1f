"""The ledger: intake of the inbox, archive and manifest, aggregation, the ledger files and the monthly state."""
