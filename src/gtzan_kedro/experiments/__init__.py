"""Experiment queues: parameter overrides run unattended, each in its own Kedro session and
MLflow run, resumably, then compared (``kedro queue run``, ``kedro queue status``).

- ``queue_file``: queue files, their defaults and grid shorthand
- ``overrides``: overrides checked against the project's parameters
- ``tracking``: the MLflow tags and runs of a queue, what makes an experiment done
- ``runner``: runs a queue; ``summary``: its table; ``cli``: the commands
"""
