"""Continual learning with Hugging Face models and the ``transformers.Trainer``.

``LogitsModule`` turns a Hugging Face classifier (keyword inputs, an output with ``.logits``)
into a ``module(x_dict) -> logits`` model for :class:`~textcl.cl.ContinualTrainer`.
``ContinualHFTrainer`` is a ``transformers.Trainer`` that runs textcl adapters around each
``train`` call (one task or stream window) and around every training step::

    from textcl.cl import EWC, Replay, ReservoirBuffer
    from textcl.cl.hf import ContinualHFTrainer

    trainer = ContinualHFTrainer(
        model=model,                      # e.g. AutoModelForSequenceClassification
        args=TrainingArguments(output_dir="out", num_train_epochs=1, report_to=[]),
        adapters=[Replay(ReservoirBuffer(1000)), EWC(lam=100.0)],
    )
    for task, dataset in enumerate(task_datasets):   # rows padded to one fixed length
        trainer.train_task(dataset, task=task)

Replay buffers store rows of fixed width, so tokenize with ``padding="max_length"`` when an
adapter keeps examples. Adapters that hold data out of a task (BiC) and gradient
accumulation are not supported: gradient-editing adapters act on each backward pass.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import torch
import transformers
from torch import Tensor, nn
from torch.utils.data import DataLoader, IterableDataset

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.rows import Inputs
from textcl.cl.trainer import ContinualTrainer

GATHER_BATCH = 256


def _model_kwargs(x: Inputs) -> dict[str, Tensor]:
    if isinstance(x, Tensor):
        return {"input_ids": x}
    return {k: v for k, v in x.items() if k != "labels"}


class LogitsModule(nn.Module):
    """``module(x) -> logits`` around a Hugging Face model called with keyword inputs.

    ``x`` is a dict of tensors (``input_ids``, ``attention_mask``, ...; any ``labels`` key
    is dropped) or an ``input_ids`` tensor. :meth:`features` mean-pools the last hidden
    state over the attention mask, for herding and nearest-mean-of-exemplars adapters.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Inputs) -> Tensor:
        out = self.model(**_model_kwargs(x))
        return out.logits if hasattr(out, "logits") else out[0]

    def features(self, x: Inputs) -> Tensor:
        """One feature row per example: the model's own ``features`` or pooled hidden states."""
        if hasattr(self.model, "features"):
            return self.model.features(x)
        kwargs = _model_kwargs(x)
        out = self.model(**kwargs, output_hidden_states=True)
        hidden = getattr(out, "hidden_states", None)
        if hidden is None:
            raise TypeError(f"{type(self.model).__name__} returns no hidden states")
        last = hidden[-1]
        mask = kwargs.get("attention_mask")
        if mask is None:
            return last.mean(1)
        mask = mask.to(last.dtype).unsqueeze(-1)
        return (last * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class _AdapterStepCallback(transformers.TrainerCallback):
    """Runs the adapters' ``before_step`` hooks once the gradients are clipped and their
    ``after_step`` hooks once the optimizer has stepped (before the gradients are cleared)."""

    def __init__(self, trainer: ContinualHFTrainer) -> None:
        self.trainer = trainer

    def on_epoch_begin(
        self,
        args: transformers.TrainingArguments,
        state: transformers.TrainerState,
        control: transformers.TrainerControl,
        **kwargs: Any,
    ) -> transformers.TrainerControl:
        # every train() call (one task) starts a fresh TrainerState at epoch 0
        self.trainer.continual.epoch = int(state.epoch or 0)
        return control

    def on_pre_optimizer_step(
        self,
        args: transformers.TrainingArguments,
        state: transformers.TrainerState,
        control: transformers.TrainerControl,
        **kwargs: Any,
    ) -> transformers.TrainerControl:
        self.trainer._before_step()
        return control

    def on_optimizer_step(
        self,
        args: transformers.TrainingArguments,
        state: transformers.TrainerState,
        control: transformers.TrainerControl,
        **kwargs: Any,
    ) -> transformers.TrainerControl:
        self.trainer._after_step()
        return control


class ContinualHFTrainer(transformers.Trainer):
    """A ``transformers.Trainer`` whose ``train`` is one task, with textcl adapters.

    The adapters see ``self.continual``, a :class:`ContinualTrainer` around
    ``LogitsModule(self.model)``: task-level hooks (``before_task``, ``after_task``) run on
    the whole ``train_dataset`` gathered through the data collator, step-level hooks
    (``augment``, ``penalty``, ``after_backward``) in :meth:`training_step`, and
    ``before_step`` and ``after_step`` from a callback around each optimizer step. The
    model must return ``.logits``; its ``labels`` are class indices (or multi-hot rows when
    ``config.problem_type == "multi_label_classification"``).
    """

    def __init__(
        self,
        *args: Any,
        adapters: Sequence[Adapter] = (),
        task: Hashable | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.args.gradient_accumulation_steps != 1:
            raise ValueError(
                "ContinualHFTrainer needs gradient_accumulation_steps=1: adapters such as EWC "
                "and A-GEM edit the gradient of each backward pass, and replay mixes rows into "
                "each micro-batch, so accumulated micro-batches would be edited repeatedly; "
                "raise per_device_train_batch_size instead"
            )
        if self.model_init is not None:
            raise ValueError("ContinualHFTrainer does not support model_init: pass a model")
        if self.args.world_size > 1 or self.args.n_gpu > 1:
            raise ValueError("ContinualHFTrainer runs on one process and one device")
        config = getattr(self.model, "config", None)
        multi = getattr(config, "problem_type", None) == "multi_label_classification"
        self.continual = ContinualTrainer(
            LogitsModule(self.model),
            adapters,
            device=self.args.device,
            multi_label=multi,
            seed=self.args.seed,
            batch_size=self.args.per_device_train_batch_size,
        )
        self.task = task
        self._last_batch: StepBatch | None = None
        self.add_callback(_AdapterStepCallback(self))

    @property
    def adapters(self) -> list[Adapter]:
        """The adapters, in hook order."""
        return self.continual.adapters

    # -- task level -------------------------------------------------------------------
    def train_task(
        self, train_dataset: Any, task: Hashable | None = None, **train_kwargs: Any
    ) -> transformers.trainer_utils.TrainOutput:
        """Train on one task's (or stream window's) dataset; adapters run around it."""
        self.train_dataset = train_dataset
        self.task = task
        return self.train(**train_kwargs)

    def train(
        self,
        resume_from_checkpoint: str | bool | None = None,
        trial: Any = None,
        ignore_keys_for_eval: list[str] | None = None,
        **kwargs: Any,
    ) -> transformers.trainer_utils.TrainOutput:
        """``Trainer.train`` on ``self.train_dataset`` as one task, with the task-level hooks."""
        if self.train_dataset is None:
            raise ValueError("ContinualHFTrainer.train needs a train_dataset")
        cont = self.continual
        task = self.task
        x, y = self.gather(self.train_dataset)
        cont.task = task
        for adapter in cont.adapters:
            adapter.before_task(cont, x, y, task)
        self._check_labels(y)
        for adapter in cont.adapters:
            px, py = adapter.prepare(cont, x, y, task)
            if px is not x or py is not y:
                raise TypeError(
                    f"adapter {adapter.name!r} ({type(adapter).__name__}) holds examples out of "
                    "training, which ContinualHFTrainer does not support; use ContinualTrainer"
                )
        self._last_batch = None
        self.continual.epoch = 0
        if self.continual.config.reset_optimizer:  # as ContinualTrainer: fresh state per task
            self.optimizer, self.lr_scheduler = None, None
        output = super().train(
            resume_from_checkpoint=resume_from_checkpoint,
            trial=trial,
            ignore_keys_for_eval=ignore_keys_for_eval,
            **kwargs,
        )
        self._last_batch = None
        self.model.eval()
        for adapter in cont.adapters:
            adapter.after_task(cont, x, y, task)
        cont.seen_tasks.append(task)
        cont.task_index += 1
        return output

    def _label_key(self) -> str:
        names = self.label_names or ["labels"]
        if len(names) != 1:
            raise ValueError(f"ContinualHFTrainer needs one label column, got {names}")
        return names[0]

    def _check_labels(self, y: Tensor) -> None:
        n = getattr(getattr(self.model, "config", None), "num_labels", None)
        if n is None or self.continual.config.multi_label:
            return
        top = int(y.max()) if len(y) else -1
        if top >= n:
            raise ValueError(f"label {top} needs {top + 1} outputs; the model has {n}")

    def _pad_value(self, key: str) -> int:
        if key != "input_ids":
            return 0
        for source in (self.processing_class, getattr(self.model, "config", None)):
            pad = getattr(source, "pad_token_id", None)
            if pad is not None:
                return int(pad)
        return 0

    def gather(self, dataset: Any) -> tuple[dict[str, Tensor], Tensor]:
        """All rows of ``dataset`` through the data collator: ``(inputs, labels)`` on device.

        Batches padded to different lengths are right-padded to the longest.
        """
        if isinstance(dataset, IterableDataset):
            raise TypeError("ContinualHFTrainer needs a map-style train_dataset (with len)")
        collator = self.data_collator
        if transformers.utils.is_datasets_available():
            import datasets

            if isinstance(dataset, datasets.Dataset):
                dataset = self._remove_unused_columns(dataset, description="training")
            else:
                collator = self._get_collator_with_removed_columns(collator, "training")
        else:
            collator = self._get_collator_with_removed_columns(collator, "training")
        loader = DataLoader(dataset, batch_size=GATHER_BATCH, shuffle=False, collate_fn=collator)
        parts: list[dict[str, Tensor]] = []
        for batch in loader:
            parts.append({k: v for k, v in batch.items() if isinstance(v, Tensor)})
        if not parts:
            raise ValueError("the train_dataset is empty")
        key = self._label_key()
        if key not in parts[0]:
            raise ValueError(f"the collated batches have no {key!r} column")
        merged: dict[str, Tensor] = {}
        for name in parts[0]:
            tensors = [p[name] for p in parts]
            if tensors[0].dim() >= 2 and name != key:
                width = max(t.shape[1] for t in tensors)
                pad = self._pad_value(name)
                tensors = [
                    nn.functional.pad(t, (0, 0) * (t.dim() - 2) + (0, width - t.shape[1]),
                                      value=pad)
                    for t in tensors
                ]
            merged[name] = torch.cat(tensors).to(self.args.device)
        y = merged.pop(key)
        return merged, y

    # -- step level -------------------------------------------------------------------
    def training_step(
        self,
        model: nn.Module,
        inputs: dict[str, Tensor | Any],
        num_items_in_batch: Tensor | int | None = None,
    ) -> Tensor:
        """Forward, adapter penalties, backward and gradient edits for one batch."""
        model.train()
        if hasattr(self.optimizer, "train") and callable(self.optimizer.train):
            self.optimizer.train()
        inputs = self._prepare_inputs(inputs)
        key = self._label_key()
        if key not in inputs:
            raise ValueError(f"the training batch has no {key!r} column")
        y = inputs[key]
        x = {k: v for k, v in inputs.items() if k != key and isinstance(v, Tensor)}
        cont = self.continual
        batch = StepBatch(x, y, cont.task, n_new=len(y))
        batch = cont.augment(batch)
        with self.compute_loss_context_manager():
            _, total = cont.objective(batch)
        # gradient_accumulation_steps is 1, so the loss needs no accumulation scaling
        self.accelerator.backward(total)
        for adapter in cont.adapters:
            adapter.after_backward(cont, batch)
        self._last_batch = batch
        return total.detach()

    def _before_step(self) -> None:
        if self._last_batch is None:
            return
        for adapter in self.continual.adapters:
            adapter.before_step(self.continual, self._last_batch)

    def _after_step(self) -> None:
        batch, self._last_batch = self._last_batch, None
        if batch is None:
            return
        for adapter in self.continual.adapters:
            adapter.after_step(self.continual, batch)
