"""Operations at the edge: health, readiness, metrics, request and event logs, backups (SPEC §13).

Nothing here is called by services: metrics and event log lines follow the audit log's rows,
request lines and ids come from a middleware, and the endpoints are small views.
"""
