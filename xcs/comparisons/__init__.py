"""The code-switching pipelines the engine is compared with (the paper's NLTK string pipeline and
ContrastiveMix's), used by ``xcs bench codeswitch`` and the agreement tests."""
