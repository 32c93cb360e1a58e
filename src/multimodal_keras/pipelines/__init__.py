"""The project's Kedro pipelines."""
