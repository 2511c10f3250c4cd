"""Certificates as pure helpers: ids, snapshots, signed Open Badges 3.0 credentials, status lists,
verification of a PDF or JWT, and PDF rendering.

Nothing here touches Flask or the database: `coaching/services/certificates.py` issues certificates and
builds snapshots from rows, the `certificates` blueprint serves them. Submodules are imported explicitly so
that importing the package stays cheap.
"""
