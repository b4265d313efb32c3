"""Task-incremental classifier: a shared body and one linear head per task."""

from __future__ import annotations

from collections.abc import Hashable

from torch import Tensor, nn


class MultiHeadClassifier(nn.Module):
    """A shared ``body`` (output size ``in_features``) and one ``nn.Linear`` per task.

    Heads live in the ``nn.ModuleDict`` ``heads`` keyed by ``str(task)``, so a task name
    must not contain ``"."`` nor clash with a ``ModuleDict`` attribute (e.g. ``"keys"``).
    ``version`` increases whenever a head is added: rebuild the optimizer (or add the new
    head's parameters) when it changes.
    """

    def __init__(self, in_features: int, body: nn.Module | None = None, bias: bool = True) -> None:
        super().__init__()
        if in_features <= 0:
            raise ValueError(f"in_features must be positive, got {in_features}")
        self.in_features = in_features
        self.bias = bias
        self.body = body if body is not None else nn.Identity()
        self.heads = nn.ModuleDict()
        self._tasks: list[Hashable] = []
        self.version = 0

    @property
    def tasks(self) -> list[Hashable]:
        """Task keys in the order they were added (a copy)."""
        return list(self._tasks)

    def add_task(self, task: Hashable, n_classes: int) -> None:
        """Add a head with ``n_classes`` outputs for ``task``; a no-op if it already exists
        with the same class count, ``ValueError`` if with a different one."""
        if n_classes <= 0:
            raise ValueError(f"n_classes must be positive, got {n_classes}")
        key = str(task)
        if key in self.heads:
            known = next(t for t in self._tasks if str(t) == key)
            if known != task:
                raise ValueError(f"task {task!r} has the same key {key!r} as task {known!r}")
            existing = self.heads[key].out_features
            if existing != n_classes:
                raise ValueError(
                    f"task {task!r} already has a head with {existing} classes, not {n_classes}"
                )
            return
        ref = next(self.parameters(), None)
        head = nn.Linear(self.in_features, n_classes, bias=self.bias)
        if ref is not None:
            head = head.to(device=ref.device, dtype=ref.dtype)
        try:
            self.heads[key] = head
        except KeyError as err:
            raise ValueError(f"task {task!r} cannot be used as a head name: {err}") from err
        self._tasks.append(task)
        self.version += 1

    def n_classes(self, task: Hashable) -> int:
        """Number of classes of ``task``'s head."""
        return self._head(task).out_features

    def _head(self, task: Hashable) -> nn.Linear:
        key = str(task)
        if key not in self.heads:
            raise KeyError(
                f"unknown task {task!r}; known tasks: {self._tasks!r}; "
                f"call add_task({task!r}, n_classes) first"
            )
        return self.heads[key]

    def features(self, x: Tensor) -> Tensor:
        """The shared representation ``body(x)``."""
        return self.body(x)

    def forward(self, x: Tensor, task: Hashable) -> Tensor:
        """Logits of ``task``'s head, ``[n, n_classes(task)]``."""
        head = self._head(task)
        return head(self.body(x))
