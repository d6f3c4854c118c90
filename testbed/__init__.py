"""Real parts started for tests and benchmarks alike: throwaway PostgreSQL clusters
(`testbed.postgres`) and fleets of `adminpanel serve` instances on one database
(`testbed.cluster`). Both `tests/` and `benchmarks/` import from here, never from each other.
"""
