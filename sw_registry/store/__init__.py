"""Reading and writing registry files: metadata, artifacts, derived catalogs and the read cache."""
