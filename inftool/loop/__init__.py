"""The closed loop (``inftool run``): stages, resume, and gap targeting."""

from inftool.loop.run import Loop, LoopResult, Progress

__all__ = ["Loop", "LoopResult", "Progress"]
