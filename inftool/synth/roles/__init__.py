"""The three role-players (User Simulator, Assistant, Tool Server): their interfaces (``base``), the
procedural backend, the DSPy/LM backend (``lm``, ``lm_roles``, ``lm_factory``), the dialogue that plays
them against each other, the server that executes allowlisted calls on live MCP servers (``live``), the
environment that answers every call of a stateful episode (``environment``), and the casting of a recipe's
backends onto the roles (``cast``)."""
