"""The closed loop (``inftool run``): the plan's stages in order, resume, and gap targeting."""

from inftool.loop.run import Loop, LoopResult, run_recipe
from inftool.progress import Progress

__all__ = ["Loop", "LoopResult", "Progress", "run_recipe"]
