"""Account-wide work: plan analysis (portfolio), billing-portal validation, and the DuckDB copy
of the account (store, sync), its metrics in portable SQL, the sweep that opens cases, charts."""
