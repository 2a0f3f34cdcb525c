"""Enqueueing many tasks at once (django-tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def enqueue_many(task_obj: Any, calls: Sequence[dict[str, Any]]) -> None:
    """Enqueue ``task_obj`` once per kwargs dict: one bulk INSERT on the database backend."""
    if not calls:
        return
    backend = task_obj.get_backend()
    from django_tasks.utils import normalize_json
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    if isinstance(backend, DatabaseBackend):
        run_after = task_obj.run_after or get_date_max()
        DBTaskResult.objects.bulk_create(
            [
                DBTaskResult(
                    args_kwargs=normalize_json({"args": [], "kwargs": kwargs}),
                    priority=task_obj.priority,
                    task_path=task_obj.module_path,
                    queue_name=task_obj.queue_name,
                    run_after=run_after,
                    backend_name=backend.alias,
                )
                for kwargs in calls
            ],
            batch_size=1000,
        )
        return
    for kwargs in calls:
        task_obj.enqueue(**kwargs)
