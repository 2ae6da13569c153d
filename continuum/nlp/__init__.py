"""Reading what the customer wrote: text cleaning, sentiment and urgency signals, and the kind classifier.

Pure functions and small models, no I/O except reading and writing the
model file the training command builds.  The default install uses
scikit-learn and VADER only: no deep-learning framework.
"""
