"""Verification: the gates in order (``gates``: format -> schema -> execution -> consistency -> dedup;
the schema gate asks the argument checks it shares with the server role, ``inftool.catalog.arguments``),
the state gate of stateful episodes (``state``, after execution), and near-duplicate detection (``dedup``)."""
