"""Parameter isolation for task-incremental learning (task identity known at train and
test time) over fixed input features: progressive networks, PackNet, Piggyback and CPG.

    model, adapters = make_isolation("packnet", 384, hidden=(256,), keep=0.5)
    trainer = ContinualTrainer(model, adapters, TrainConfig(epochs=3))
    for task, (x, y) in tasks.items():
        trainer.fit_task(x, y, task)
    model.parameter_report().tasks  # parameters (and mask bits) each task costs

No earlier task's prediction changes when a later task is learned.
"""

from textcl.cl.isolation.base import ParameterReport, TaskCost, TaskModel
from textcl.cl.isolation.cpg import CPG, CPGMLP
from textcl.cl.isolation.factories import (
    ISOLATION_METHODS,
    make_cpg,
    make_isolation,
    make_packnet,
    make_piggyback,
    make_progressive,
)
from textcl.cl.isolation.packnet import FREE, PackNet, PackNetMLP, equal_shares
from textcl.cl.isolation.piggyback import PiggybackMLP
from textcl.cl.isolation.pnn import ProgressiveNet

__all__ = [
    "CPG",
    "CPGMLP",
    "FREE",
    "ISOLATION_METHODS",
    "PackNet",
    "PackNetMLP",
    "ParameterReport",
    "PiggybackMLP",
    "ProgressiveNet",
    "TaskCost",
    "TaskModel",
    "equal_shares",
    "make_cpg",
    "make_isolation",
    "make_packnet",
    "make_piggyback",
    "make_progressive",
]
