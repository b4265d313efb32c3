"""Replay memories with a fixed budget: reservoir, class-balanced, and herding exemplars.

A buffer stores rows of inputs (a tensor or a dict of tensors), targets and the task of
each row. Online buffers (``online = True``) see every training example once, as a stream;
the herding buffer picks exemplars when a task ends, from the model's features.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from textcl.cl.rows import Inputs, n_rows, pad_to, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class RowStore:
    """Preallocated storage of ``capacity`` rows (inputs, targets, tasks)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"buffer capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.size = 0
        self.x: Inputs | None = None
        self.y: Tensor | None = None
        self.tasks: list[Hashable | None] = [None] * capacity

    def _allocate(self, x: Inputs, y: Tensor) -> None:
        def empty(t: Tensor) -> Tensor:
            return torch.zeros((self.capacity, *t.shape[1:]), dtype=t.dtype, device=t.device)

        self.x = {k: empty(v) for k, v in x.items()} if isinstance(x, dict) else empty(x)
        self.y = empty(y)

    def put(self, slot: int, x: Inputs, y: Tensor, row: int, task: Hashable | None) -> None:
        """Write row ``row`` of ``(x, y)`` into ``slot``."""
        if self.x is None:
            self._allocate(x, y)
        assert self.y is not None
        if y.dim() == 2 and y.shape[1] > self.y.shape[1]:  # a multi-label set that grew
            self.y = pad_to(self.y, (self.capacity, y.shape[1]))
        if isinstance(self.x, dict):
            for k, v in self.x.items():
                v[slot] = x[k][row]
        else:
            self.x[slot] = x[row]
        self.y[slot] = pad_to(y[row], self.y.shape[1:]) if y.dim() == 2 else y[row]
        self.tasks[slot] = task

    def put_many(self, slots: list[int], x: Inputs, y: Tensor, rows: list[int],
                 task: Hashable | None) -> None:
        """Write rows ``rows`` of single-label ``(x, y)`` into ``slots`` (distinct), at once."""
        if not slots:
            return
        if self.x is None:
            self._allocate(x, y)
        assert self.y is not None and y.dim() == 1
        at, src = torch.tensor(slots), torch.tensor(rows)
        if isinstance(self.x, dict):
            for k, v in self.x.items():
                v[at] = x[k][src]
        else:
            self.x[at] = x[src]
        self.y[at] = y[src]
        for slot in slots:
            self.tasks[slot] = task

    def get(self, idx: Tensor) -> tuple[Inputs, Tensor, list[Hashable | None]]:
        """Rows at ``idx``."""
        assert self.x is not None and self.y is not None
        return take(self.x, idx), self.y[idx], [self.tasks[i] for i in idx.tolist()]


class Buffer:
    """A replay memory. ``sample(n)`` draws rows uniformly from what is stored."""

    online = True

    def __init__(self, capacity: int, seed: int = 0) -> None:
        self.store = RowStore(capacity)
        self.generator = torch.Generator().manual_seed(seed)
        self.seen = 0

    @property
    def capacity(self) -> int:
        return self.store.capacity

    def __len__(self) -> int:
        return self.store.size

    def add(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> None:
        """Offer every row of ``(x, y)`` to the buffer."""
        raise NotImplementedError

    def add_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        """Called at task end for buffers that are not online."""
        self.add(x, y, task)

    def sample(self, n: int) -> tuple[Inputs, Tensor, list[Hashable | None]]:
        """``n`` rows drawn uniformly without replacement (fewer if the buffer is smaller)."""
        n = min(n, len(self))
        idx = torch.randperm(len(self), generator=self.generator)[:n]
        return self.store.get(idx)

    def contents(self) -> tuple[Inputs, Tensor, list[Hashable | None]]:
        """Every stored row."""
        return self.store.get(torch.arange(len(self)))

    def class_counts(self) -> dict[int, int]:
        """Stored rows per class (per label for multi-hot targets)."""
        if not len(self):
            return {}
        y = self.store.y[: len(self)]
        if y.dim() == 2:
            sums = y.sum(0)
            return {i: int(c) for i, c in enumerate(sums.tolist()) if c}
        labels, counts = torch.unique(y, return_counts=True)
        return dict(zip(labels.tolist(), counts.tolist(), strict=True))

    def state_dict(self) -> dict[str, Any]:
        """Rows, counts and the sampling generator (a restored buffer draws the same)."""
        return {"size": self.store.size, "x": self.store.x, "y": self.store.y,
                "tasks": list(self.store.tasks), "seen": self.seen,
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.store.size, self.store.x, self.store.y = state["size"], state["x"], state["y"]
        self.store.tasks, self.seen = list(state["tasks"]), state["seen"]
        if "generator" in state:
            self.generator.set_state(state["generator"])


class ReservoirBuffer(Buffer):
    """Reservoir sampling (Vitter): every example seen so far is stored with equal chance."""

    def add(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> None:
        for row in range(n_rows(x)):
            self.seen += 1
            if self.store.size < self.capacity:
                self.store.put(self.store.size, x, y, row, task)
                self.store.size += 1
                continue
            slot = int(torch.randint(self.seen, (1,), generator=self.generator))
            if slot < self.capacity:
                self.store.put(slot, x, y, row, task)


class ClassBalancedBuffer(Buffer):
    """Class-balancing reservoir sampling for imbalanced single- and multi-label streams.

    Single-label (Chrysakis & Moens 2020, CBRS): when full, an example of a class that is
    not among the largest in memory replaces a random stored example of the largest class;
    an example of a largest class replaces a random example of its own class with
    probability ``stored_c / seen_c``. Rare classes are kept whole; common ones share the
    rest equally.

    Multi-label (in the spirit of partitioning reservoir sampling, Kim et al. 2020): each
    label's target share is proportional to ``seen_count ** rho`` (``rho=0`` equal shares,
    ``rho=1`` proportional); a new example evicts a random example holding the label most
    above its share, unless all of the new example's labels are already the most over
    their shares.
    """

    def __init__(self, capacity: int, seed: int = 0, rho: float = 0.0) -> None:
        super().__init__(capacity, seed)
        self.rho = rho
        self.seen_per_class: dict[int, int] = {}
        self._stored: Counter[int] = Counter()  # rows (labels) per class in memory
        # single-label: each slot's class and each class's slots (ascending), mirrored in
        # Python so that a row's victim costs no tensor scan; None: rebuild from the store
        self._class_of: list[int] | None = []
        self._slots: dict[int, list[int]] = {}

    def add(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> None:
        if y.dim() == 1:
            self._add_single(x, y, task)
            return
        for row in range(n_rows(x)):
            self.seen += 1
            labels = self._labels(y[row])
            for c in labels:
                self.seen_per_class[c] = self.seen_per_class.get(c, 0) + 1
            if self.store.size < self.capacity:
                self.store.put(self.store.size, x, y, row, task)
                self.store.size += 1
                self._stored.update(labels)
                continue
            slot = self._victim(labels)
            if slot is not None:
                self._stored.subtract(self._labels(self.store.y[slot]))
                self.store.put(slot, x, y, row, task)
                self._stored.update(labels)

    def _add_single(self, x: Inputs, y: Tensor, task: Hashable | None) -> None:
        """CBRS for single labels; the rows kept are written to the store at the end."""
        class_of, slots = self._mirror()
        written: dict[int, int] = {}  # slot -> row (a later row may take the same slot)
        for row, c in enumerate(y.tolist()):
            self.seen += 1
            self.seen_per_class[c] = self.seen_per_class.get(c, 0) + 1
            if self.store.size < self.capacity:
                slot = self.store.size
                self.store.size += 1
                class_of.append(c)
                slots.setdefault(c, []).append(slot)
            else:
                slot = self._victim([c])
                if slot is None:
                    continue
                old = class_of[slot]
                self._stored[old] -= 1
                mine = slots[old]
                mine.pop(bisect.bisect_left(mine, slot))
                bisect.insort(slots.setdefault(c, []), slot)
                class_of[slot] = c
            self._stored[c] += 1
            written[slot] = row
        self.store.put_many(list(written), x, y, list(written.values()), task)

    def _mirror(self) -> tuple[list[int], dict[int, list[int]]]:
        """The slot -> class list and class -> slots lists (rebuilt after a restore)."""
        if self._class_of is None:
            y = self.store.y[: self.store.size] if self.store.y is not None else None
            self._class_of = y.tolist() if y is not None else []
            self._slots = {}
            for slot, c in enumerate(self._class_of):
                self._slots.setdefault(c, []).append(slot)
        return self._class_of, self._slots

    def class_counts(self) -> dict[int, int]:
        """Stored rows per class, kept up to date as rows come and go (no rescan)."""
        return {c: n for c, n in sorted(self._stored.items()) if n}

    def state_dict(self) -> dict[str, Any]:
        """The base state plus every class's count of rows seen (its keep chance)."""
        return {**super().state_dict(),
                "seen_per_class": {str(c): n for c, n in self.seen_per_class.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._stored = Counter(super().class_counts())
        self._class_of = None  # the Python mirror is rebuilt from the restored rows
        self.seen_per_class = {int(c): int(n) for c, n in
                               state.get("seen_per_class", {}).items()}

    @staticmethod
    def _labels(target: Tensor) -> list[int]:
        if target.dim() == 0:
            return [int(target)]
        return torch.nonzero(target).flatten().tolist()

    def _rows_of(self, c: int) -> Tensor | list[int]:
        if self.store.y is None or self.store.y.dim() == 1:  # (None: first rows pending)
            return self._mirror()[1].get(c, [])
        y = self.store.y[: self.store.size]
        if y.dim() == 1:
            return torch.nonzero(y == c).flatten()
        if c >= y.shape[1]:
            return torch.empty(0, dtype=torch.long)
        return torch.nonzero(y[:, c] > 0).flatten()

    def _pick(self, rows: Tensor | list[int]) -> int:
        return int(rows[torch.randint(len(rows), (1,), generator=self.generator)])

    def _victim(self, labels: Sequence[int]) -> int | None:
        if self.store.y is None or self.store.y.dim() == 1:  # single label: running counts
            stored = self._stored
            largest = max(stored.values())
            big = sorted(c for c, n in stored.items() if n == largest)
            c = labels[0]
            if c not in big:
                target = big[int(torch.randint(len(big), (1,), generator=self.generator))]
                return self._pick(self._rows_of(target))
            keep = stored.get(c, 0) / self.seen_per_class[c]
            if float(torch.rand(1, generator=self.generator)) < keep:
                return self._pick(self._rows_of(c))
            return None
        counts = self.class_counts()
        weights = {c: self.seen_per_class[c] ** self.rho for c in self.seen_per_class}
        total = sum(weights.values())
        stored = sum(counts.values())
        excess = {c: counts.get(c, 0) - stored * w / total for c, w in weights.items()}
        worst = max(excess, key=lambda c: (excess[c], c))
        if all(excess[c] >= excess[worst] - 1e-9 for c in labels):
            return None
        rows = self._rows_of(worst)
        under = [c for c, e in excess.items() if e < 0 and c < self.store.y.shape[1]]
        if under and len(rows):  # spare rows that also hold an under-represented label
            spare = self.store.y[rows][:, under].sum(1) == 0
            rows = rows[spare] if spare.any() else rows
        return self._pick(rows) if len(rows) else None


class HerdingBuffer(Buffer):
    """iCaRL exemplars (Rebuffi et al. 2017): per class, the examples whose running mean
    best approximates the class mean in the model's feature space, chosen by herding.

    Memory is split equally over the classes seen; when a class's share shrinks, its
    exemplar list is cut from the end (herding order keeps the best first). Single-label
    targets only. The model should expose ``features(x)``; otherwise the inputs are used.
    """

    online = False

    def __init__(self, capacity: int, seed: int = 0) -> None:
        super().__init__(capacity, seed)
        self.exemplars: dict[int, tuple[Inputs, Tensor, list[Hashable | None]]] = {}

    def add(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> None:
        raise TypeError("HerdingBuffer chooses exemplars at task end; use add_task")

    @staticmethod
    def features(trainer: ContinualTrainer | None, x: Inputs) -> Tensor:
        """L2-normalised features of ``x`` (the model's ``features`` when it has one)."""
        model = trainer.model if trainer is not None else None
        with torch.no_grad():
            if model is not None and hasattr(model, "features"):
                was = model.training
                model.eval()
                f = model.features(x)
                model.train(was)
            else:
                f = x if not isinstance(x, dict) else None
        if f is None:
            raise TypeError("herding over dict inputs needs a model with features(x)")
        return torch.nn.functional.normalize(f.float(), dim=1)

    def add_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if y.dim() != 1:
            raise TypeError("HerdingBuffer supports single-label targets only")
        feats = self.features(trainer, x)
        new_classes = [int(c) for c in torch.unique(y).tolist()]
        n_classes = len(set(self.exemplars) | set(new_classes))
        per_class = max(self.capacity // n_classes, 1)
        for c in new_classes:
            rows = torch.nonzero(y == c).flatten()
            order = herding_order(feats[rows], per_class)
            chosen = rows[order]
            self.exemplars[c] = (take(x, chosen), y[chosen], [task] * len(chosen))
        self.seen += len(y)
        for c, (ex, ey, et) in list(self.exemplars.items()):
            keep = torch.arange(min(per_class, len(ey)))
            self.exemplars[c] = (take(ex, keep), ey[keep], et[: len(keep)])
        self._rebuild()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.exemplars = {}
        if not len(self):
            return
        x, y, tasks = self.contents()
        for c in dict.fromkeys(y.tolist()):
            rows = torch.nonzero(y == c).flatten()
            self.exemplars[int(c)] = (take(x, rows), y[rows], [tasks[int(i)] for i in rows])

    def _rebuild(self) -> None:
        self.store = RowStore(self.capacity)
        slot = 0
        for ex, ey, et in self.exemplars.values():
            for row in range(len(ey)):
                if slot >= self.capacity:
                    break
                self.store.put(slot, ex, ey, row, et[row])
                slot += 1
        self.store.size = slot


def herding_order(features: Tensor, m: int) -> Tensor:
    """Indices of ``m`` rows chosen greedily so their running mean tracks the mean row."""
    m = min(m, len(features))
    mu = features.mean(0)
    chosen: list[int] = []
    running = torch.zeros_like(mu)
    available = torch.ones(len(features), dtype=torch.bool)
    for k in range(1, m + 1):
        candidate = (running.unsqueeze(0) + features) / k
        dist = (candidate - mu).norm(dim=1)
        dist[~available] = float("inf")
        i = int(dist.argmin())
        chosen.append(i)
        available[i] = False
        running += features[i]
    return torch.tensor(chosen, dtype=torch.long)
