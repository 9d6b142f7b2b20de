"""The procedural User Simulator's language: requests for a goal's calls (``phrasing``, ``parts``),
words for tools and arguments (``wording``), the short turns around a request (``replies``), and the turns of a
goal of several turns (``turns``)."""
