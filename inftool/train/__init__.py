"""Training the policy: the tiny-scratch model (``tiny``), training data from the store (``data``), the
local TRL trainer (``local``) and the OpenRLHF job emitter (``openrlhf``).

torch, transformers, tokenizers and trl are imported inside the functions that need them (the ``train`` extra).
"""
