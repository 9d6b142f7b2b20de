"""Verification: the gates in order (``gates``: format -> schema -> execution -> consistency -> dedup),
the argument-schema checks they share with the server role (``schemas``), and near-duplicate
detection (``dedup``)."""
