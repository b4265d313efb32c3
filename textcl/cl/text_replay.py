"""Text generative replay in the style of LAMOL (Sun et al. 2020), storing no tweet.

A small causal language model learns the tweets of each task as
``[BOS] [LABEL_c] w1 ... wn [EOS]``. Before a new task it writes pseudo-tweets of every
class it knows (prefixing the class's label token); it replays them to itself while
learning the task (so it keeps generating old classes), and the classifier replays them,
embedded by a user-given ``featurize``, with their prefix labels.

:class:`LabelPrefixLM` is the generator (a ``GPT2LMHeadModel`` built from a config, with a
word-level vocabulary that grows as tasks arrive, up to a fixed capacity);
:class:`TextGenerativeReplay` is the ``ContinualTrainer`` adapter. ``fit_task`` passes
features, not texts, so the adapter is told the task's texts first::

    adapter = TextGenerativeReplay(LabelPrefixLM(), featurize=embed, per_class=30)
    trainer = ContinualTrainer(model, [adapter])
    for texts, x, y in tasks:
        adapter.set_texts(texts)          # the texts of x's rows, same order
        trainer.fit_task(x, y, n_classes=...)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.replay import mix
from textcl.cl.rows import Inputs
from textcl.cl.text_lm import LabelPrefixLM, WordVocab

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer

__all__ = ["LabelPrefixLM", "TextGenerativeReplay", "WordVocab"]


class TextGenerativeReplay(Adapter):
    """LAMOL-style replay for a classifier over text features, storing no real tweet.

    Call :meth:`set_texts` with the task's texts (the rows of ``x``, same order) before
    each ``fit_task``. ``before_task`` has the generator write ``per_class`` pseudo-tweets
    of every class it learnt (``max(per_class, generator.replay_per_class)`` are written;
    the generator replays all of them, the classifier the first ``per_class`` of each
    class) and embeds them with ``featurize(texts) -> Tensor``; each step
    then adds ``batch_size`` (default: as many as the new rows) of those rows, drawn
    uniformly, labelled by their prefix class. ``after_task`` trains the generator on the
    task's texts plus the same pseudo-tweets (its own replay). Single-label class indices
    only; list it before adapters that hold rows out in ``prepare``.
    """

    name = "text_generative_replay"

    def __init__(
        self,
        generator: LabelPrefixLM,
        featurize: Callable[[list[str]], Tensor],
        per_class: int = 30,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> None:
        self.generator = generator
        self.featurize = featurize
        self.per_class = per_class
        self.batch_size = batch_size
        self.seed = seed
        self.sampler = torch.Generator().manual_seed(seed)
        self._texts: list[str] | None = None
        self._task_texts: list[str] = []
        self._task_labels: list[int] = []
        self.pseudo_texts: list[str] = []
        self.pseudo_labels: list[int] = []
        self.pseudo_x: Tensor | None = None
        self.pseudo_y: Tensor | None = None
        self.lm_replay: tuple[list[str], list[int]] = ([], [])
        self.tasks: list[Hashable | None] = []

    def set_texts(self, texts: Sequence[str]) -> None:
        """The texts of the next ``fit_task``'s rows, in the same order."""
        self._texts = list(texts)

    def before_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if self._texts is None:
            raise RuntimeError("call set_texts(texts) before each fit_task")
        if len(self._texts) != len(y) or y.dim() != 1:
            raise ValueError(f"{len(self._texts)} texts for {len(y)} rows (class indices)")
        self._task_texts, self._task_labels = self._texts, [int(c) for c in y.tolist()]
        self._texts = None
        n = max(self.per_class, self.generator.replay_per_class)
        texts, labels = self.generator.pseudo(n, seed=self.seed * 7 + len(self.tasks))
        self.lm_replay = (texts, labels)
        # the classifier's share: the first per_class of each class, empty samples dropped
        keep = [i for i, t in enumerate(texts) if t and i % n < self.per_class]
        self.pseudo_texts = [texts[i] for i in keep]
        self.pseudo_labels = [labels[i] for i in keep]
        if self.pseudo_texts:
            feats = torch.as_tensor(self.featurize(self.pseudo_texts)).float()
            self.pseudo_x = feats.to(trainer.device)
            self.pseudo_y = torch.tensor(self.pseudo_labels, device=trainer.device)
        else:
            self.pseudo_x = self.pseudo_y = None

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        if self.pseudo_x is None or self.pseudo_y is None:
            return batch
        n = self.batch_size or batch.n_new
        idx = torch.randint(len(self.pseudo_y), (n,), generator=self.sampler)
        idx = idx.to(self.pseudo_y.device)
        return mix(batch, self.pseudo_x[idx], self.pseudo_y[idx], [batch.task] * n)

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self.generator.learn_task(self._task_texts, self._task_labels, replay=self.lm_replay)
        self.tasks.append(task)
        self._task_texts, self._task_labels = [], []

    def memory_size(self) -> int:
        """No stored example: the memory is the generator's parameters (see
        :meth:`LabelPrefixLM.num_parameters` and :meth:`LabelPrefixLM.nbytes`)."""
        return 0

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "sampler": self.sampler.get_state(),
                "n_tasks": len(self.tasks)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.sampler.set_state(state["sampler"])
        self.tasks = [None] * int(state["n_tasks"])
