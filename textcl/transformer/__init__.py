"""A masked language model that keeps adapting to a tweet stream, window by window.

    lm = ContinualTransformer(adapters=[EWC(lam=10.0)])
    for window in windows:            # lists of tweet texts
        lm.update(window)
    drift = term_drift(lm, texts_before, texts_after, "crash")
"""

from textcl.drift.contextual import contextual_drift, term_drift
from textcl.transformer.model import ContinualTransformer, MaskedLMModule, MLMTrainer
from textcl.transformer.tokenizer import train_wordpiece

__all__ = [
    "ContinualTransformer",
    "MLMTrainer",
    "MaskedLMModule",
    "contextual_drift",
    "term_drift",
    "train_wordpiece",
]
