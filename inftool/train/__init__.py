"""Training the policy: the tiny-scratch model and its tokenizer (the trainers come with the loop).

torch, transformers and tokenizers are imported inside the functions here only (the ``train`` extra).
"""
