"""Labelled tweet collections for continual-learning evaluation (CrisisLex, TweetEval)."""

from textcl.datasets.crisislex import EventData, crisislex_events
from textcl.datasets.tweeteval import TWEETEVAL_TASKS, TaskData, tweeteval_task

__all__ = ["TWEETEVAL_TASKS", "EventData", "TaskData", "crisislex_events", "tweeteval_task"]
