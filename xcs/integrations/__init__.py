"""xcs inside the training scripts people already have.

- :mod:`xcs.integrations.transformers` — ``transformers.Trainer``: the epoch callback and a dual
  encoder whose ``forward`` returns the contrastive loss.
- :mod:`xcs.integrations.sentence_transformers` — ``SentenceTransformerTrainer``: a code-switching
  data collator and an XTREME-R evaluator.

Each module imports its library on import; ``import xcs`` does not.
"""
