"""Continual learning: a trainer with composable adapters against forgetting.

    trainer = ContinualTrainer(model, adapters=[Replay(ReservoirBuffer(500)), LwF()])
    for task, (x, y) in enumerate(tasks):
        trainer.fit_task(x, y, task)
"""

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.agem import AGEM
from textcl.cl.agscl import AGSCL
from textcl.cl.bayes import BayesianMLP
from textcl.cl.bias import BiC, NearestMeanOfExemplars, WeightAligning
from textcl.cl.buffers import Buffer, ClassBalancedBuffer, HerdingBuffer, ReservoirBuffer
from textcl.cl.gem import GEM
from textcl.cl.lwf import LwF
from textcl.cl.prototypes import PrototypeAdapter, PrototypeClassifier
from textcl.cl.quadratic import EWC, MAS, SI, QuadraticConsolidation
from textcl.cl.regime import TrainConfig
from textcl.cl.replay import GenerativeReplay, Replay
from textcl.cl.slda import StreamingLDA
from textcl.cl.trainer import ContinualTrainer, FitReport
from textcl.cl.vcl import VCL

__all__ = [
    "AGEM",
    "AGSCL",
    "EWC",
    "GEM",
    "MAS",
    "SI",
    "VCL",
    "Adapter",
    "BayesianMLP",
    "BiC",
    "Buffer",
    "ClassBalancedBuffer",
    "ContinualTrainer",
    "FitReport",
    "GenerativeReplay",
    "HerdingBuffer",
    "LwF",
    "NearestMeanOfExemplars",
    "PrototypeAdapter",
    "PrototypeClassifier",
    "QuadraticConsolidation",
    "Replay",
    "ReservoirBuffer",
    "StepBatch",
    "StreamingLDA",
    "TrainConfig",
    "WeightAligning",
]
