"""The procedural User Simulator's language: requests for a goal's calls (``phrasing``, ``parts``),
words for tools and arguments (``wording``), and the short turns around a request (``replies``)."""
