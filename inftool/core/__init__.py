"""The ground floor: the nouns every layer above shares, with no dependency on any of them.

- ``episode``: a tool call (``Call``), a scenario's hidden goal (``Goal``, ``Link``, ``UserTurn``), a gate's
  ``Verdict`` and the role-played ``Episode``;
- ``scenarios``: a scenario cell (``ScenarioCell``: complexity x tool, with its weight) and the
  weight gap targeting gives it for the next iteration (``Target``);
- ``arguments``: the one check of call arguments against a tool's JSON Schema.
"""
