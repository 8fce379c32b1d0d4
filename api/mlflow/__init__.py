"""MLflow's model-registry REST API over the ledger: the unmodified MLflow client, pointed at
this service as its registry (MLFLOW_REGISTRY_URI or MLFLOW_TRACKING_URI, with an API token in
MLFLOW_TRACKING_TOKEN), registers, searches and promotes models through the same commands,
queries, permissions and promotion gate as /api/v1/.

errors: MLflow's error shape; search: filters, ordering, paging; shapes: MLflow's JSON of
models and versions and the stage of each lifecycle status; lifecycle: stages as lifecycle
moves; models and versions: the views; urls: the paths."""
