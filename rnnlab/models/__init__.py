"""One model per task: forecaster, language model, classifier, seq2seq."""
