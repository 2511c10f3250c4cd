"""Read-only reports for the manager area, one module per report.

Every figure is computed in SQL, or streamed over rows in chunks: no function here loads all users or all
attempts into memory, so the pages and exports stay fast with 10,000 affiliates and 1,000,000 attempts.
Functions take a Catalog or slugs explicitly; none of them writes, except `exports.record_download`.
"""
