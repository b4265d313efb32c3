"""The stream's drift report as a consumer: rewritten every ``[drift] every`` windows and
written at the end of the run from the word2vec snapshots (``OUT/drift/report.*``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.section import Section
from textcl.types import Batch, Window

if TYPE_CHECKING:
    from textcl.config import PipelineConfig


class CompareSection(Section):
    """``textcl drift --compare A B``: semantic change of target words between two corpora.

    ``epochs`` / ``vector_size`` / ``window`` at 0 are chosen from the smaller corpus'
    size (``textcl.drift.compare.adaptive_settings``); ``text``: ``auto`` detects per
    file whether lines are already tokenised, ``tokenized`` splits on spaces, ``raw``
    runs the tweet tokenizer. Command-line options override these.
    """

    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=1)
    epochs: int = Field(default=0, ge=0)
    vector_size: int = Field(default=0, ge=0)
    window: int = Field(default=0, ge=0)
    min_count: int = Field(default=5, ge=1)
    score: Literal["cosine", "lnc", "cosine+lnc"] = "cosine+lnc"
    measure_k: int = Field(default=25, gt=0)
    text: Literal["auto", "tokenized", "raw"] = "auto"

    def compare_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``compare_corpora`` (0 = adaptive becomes None)."""
        return {
            "seeds": list(self.seeds),
            "epochs": self.epochs or None,
            "vector_size": self.vector_size or None,
            "window": self.window or None,
            "min_count": self.min_count,
            "score": self.score,
            "measure_k": self.measure_k,
            "tokenized": {"auto": None, "tokenized": True, "raw": False}[self.text],
        }


class DriftSection(Section):
    """Drift report over the word2vec snapshots, written to ``OUT/drift/`` at the end
    (and rewritten every ``every`` windows when ``every > 0``).

    With no ``terms`` (nor word2vec / transformer ``probe_terms``) the terms follow the
    stream: the probes at each window end are the keyword set's ``auto_terms`` best
    members, and the report covers the ``auto_terms`` keywords held longest plus the
    ``auto_movers`` top movers.
    """

    enabled: bool = True
    terms: list[str] = Field(default_factory=list)
    auto_terms: int = Field(default=10, ge=0)
    auto_movers: int = Field(default=5, ge=0)
    topn: int = Field(default=10, gt=0)
    movers: int = Field(default=20, ge=0)
    min_count: float = Field(default=5.0, ge=0)
    candidates: int = Field(default=2000, gt=0)
    every: int = Field(default=0, ge=0)
    compare: CompareSection = Field(default_factory=CompareSection)


class DriftReportConsumer:
    """Writes the drift report of the run under ``out_dir`` (nothing without one).

    Learns nothing from the batches: at every ``every``-th window end (0: never) it
    rewrites the report from the snapshots so far, and at :meth:`close` after a
    complete run it writes the final one (the word2vec consumer, closed before it,
    has written its last snapshot by then).
    """

    name = "drift"

    def __init__(self, config: PipelineConfig, out_dir: Path | None, every: int = 0) -> None:
        self.config = config
        self.out_dir = out_dir
        self.every = every
        self.windows = 0
        self.report: dict[str, Any] = {"report": None, "reason": "the run has not ended"}

    def update(self, batch: Batch) -> None:
        return None

    def end_window(self, window: Window) -> None:
        self.windows += 1
        if self.every and self.windows % self.every == 0:
            self._write(self.out_dir)

    def _write(self, out: Path | None) -> None:
        if out is None:
            self.report = {"report": None, "reason": "no output folder"}
        elif not (out / "snapshots").is_dir():
            self.report = {"report": None, "reason": "no word2vec snapshots"}
        else:
            from textcl.drift.stream_report import write_stream_drift

            self.report = write_stream_drift(self.config, out)

    def summary(self) -> dict[str, Any]:
        return self.report

    def close(self, out_dir: Path | None = None) -> None:
        """Write the final report (only at the end of a complete run: ``out_dir`` given)."""
        if out_dir is not None:
            self._write(out_dir)

    def state_dict(self) -> dict[str, Any]:
        return {"windows": self.windows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.windows = int(state["windows"])


def _build(context: BuildContext) -> DriftReportConsumer | None:
    drift: DriftSection = context.section("drift")
    if not drift.enabled:
        return None
    return DriftReportConsumer(context.config, context.out_dir, drift.every)


def _rows(summary: dict[str, Any]) -> Rows:
    movers = summary.get("top_movers")
    return [("top movers", ", ".join(movers[:5]))] if movers else []


SPEC = ConsumerSpec(
    name="drift",
    section=DriftSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["drift/report.html"] if summary.get("report") else [],
)
