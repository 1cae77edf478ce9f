"""The operations of the registry, one module per family, each a set of plain functions over an explicit
``Context`` (context.py):

- reads.py: list, info, get (by stage, version, date), the next version
- register.py (+ artifact_input.py): register a version
- stages.py (+ moves.py): promote, approve, rollback, deprecate
- policy.py: approval rules, owner/metric/triggers, a hand edit of registry.yaml, a version's signature
- history.py: history, the production version at a date, the audit
- docs.py: sync-docs, review-docs
- insight.py: compare, lineage
- verify.py, maintenance.py: verify, repair, reindex
- common.py: the pieces they share (metadata read/rewrite, derived files, target increment)

``ModelRegistry`` (registry.py) is the facade over them; the CLI calls the facade.
"""
