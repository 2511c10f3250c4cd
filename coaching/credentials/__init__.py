"""Certificates: ids, snapshots, signed Open Badges 3.0 credentials and PDF rendering.

The modules here are pure (no Flask, no database); issuing and routes live elsewhere.
Submodules are imported explicitly so that importing the package stays cheap.
"""
