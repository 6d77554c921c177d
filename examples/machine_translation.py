# %% [markdown]
# # Machine translation with attention: dates from English words to ISO form, greedy against beam search
#
# An encoder BiLSTM reads the source; a decoder LSTM writes the target one token at a time, attending at every step
# to the encoder states: $a_{t,s} = \mathrm{softmax}_s(h_t^\top W \bar h_s)$, context $c_t = \sum_s a_{t,s} \bar h_s$.
# The built-in set ("the 3rd of March 1987" → "1987-03-03") is generated (Babel), so no download is needed; the
# attention map shows which source words each output character looked at.

# %%
from _shared import SMALL, run_dir, save

from rnnlab import TrainConfig
from rnnlab.data.generated_pairs import LEVELS, builtin_pairs
from rnnlab.data.pairs import split_by_source
from rnnlab.tasks.translate import attention_figure, format_scores, train_translation

pairs = builtin_pairs("dates", 2_000 if SMALL else 6_000, seed=0)
train, validation, test = split_by_source(pairs, test_fraction=0.1, val_fraction=0.1, seed=0)
translator, summary = train_translation(
    train, validation, test[:200], level=LEVELS["dates"], source="built-in dates",
    model_config={"cell": "lstm", "hidden_size": 32 if SMALL else 128, "attention": "general"},
    train_config=TrainConfig(epochs=1 if SMALL else 3, lr=3e-3, patience=3, progress=False, max_seconds=90),
    run_dir=run_dir("translate"), beam=5, log=lambda *_: None,
)  # fmt: skip
print(format_scores(summary["test"]))
sentence = test[0].source
best = translator.translate([sentence], beam=5)[0][0]
print(f"{sentence!r} → {best.text!r}")
save(attention_figure(best, title=f"attention: {sentence}"), "attention.png")
