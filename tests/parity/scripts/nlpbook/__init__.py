# The helpers that the chapters of Rao & McMahan, "Natural Language Processing with PyTorch"
# (https://github.com/joosthub/PyTorchNLPBook) repeat verbatim in each notebook, shared by the nlpbook_* scripts:
# vocabulary.py (Vocabulary, SequenceVocabulary, generate_batches), training.py (the train-state and
# sequence-loss helpers of chapters 7 and 8) and frame.py (a few lines standing in for the pandas
# DataFrame operations the notebooks' Dataset classes use; pandas is not a test dependency).
