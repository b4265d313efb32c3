"""Active learning: put the few most valuable tweets of each window in front of a person.

    candidates = Candidates(ids, texts, tokens, probs=probs)
    context = Context(background_counts=background, keywords=tracked)
    selector = Selector([(TermLogOdds(), 1.0), (Uncertainty("entropy"), 0.5)], budget=20)
    for pick in selector.select(candidates, context):
        print(pick.id, pick.reason)
"""

from textcl.active.budget import PowerLaw, allocate, fit_power_law
from textcl.active.candidates import Candidates, Context
from textcl.active.dedup import (
    duplicate_groups,
    minhash_signatures,
    near_duplicates,
    strip_retweet,
    unique_indices,
)
from textcl.active.feedback import LabelFeedback
from textcl.active.selector import Pick, Selector, rank_normalise
from textcl.active.strategies import (
    EmbeddingDensityRatio,
    ExplainingStrategy,
    KCenterGreedy,
    KMeansPlusPlus,
    Novelty,
    Strategy,
    TermLogOdds,
    Uncertainty,
    log_odds_z,
)

__all__ = [
    "Candidates",
    "Context",
    "EmbeddingDensityRatio",
    "ExplainingStrategy",
    "KCenterGreedy",
    "KMeansPlusPlus",
    "LabelFeedback",
    "Novelty",
    "Pick",
    "PowerLaw",
    "Selector",
    "Strategy",
    "TermLogOdds",
    "Uncertainty",
    "allocate",
    "duplicate_groups",
    "fit_power_law",
    "log_odds_z",
    "minhash_signatures",
    "near_duplicates",
    "rank_normalise",
    "strip_retweet",
    "unique_indices",
]
