# %% [markdown]
# # Next-item recommendation: a GRU reads a user's history and scores every movie as the next one (GRU4Rec)
#
# MovieLens-100k from recbole's bundled file; each user's last movie is the test, all 1,682 movies are ranked.

# %%
from _shared import SMALL, run_dir

from rnnlab import Recommender, TrainConfig
from rnnlab.data.interactions import leave_one_out, read_interactions

data = read_interactions("ml-100k", log=lambda *_: None)
split = leave_one_out(data)
recommender = Recommender(train_config=TrainConfig(epochs=2 if SMALL else 40, lr=3e-3, patience=5, progress=False))
recommender.fit(data, split, run_dir=run_dir("recommend"), log=lambda *_: None)
print(recommender.rank_metrics(split.test_history, split.test_target))
for item, score in recommender.recommend(["50", "172", "181"], k=5):  # the Star Wars trilogy
    print(f"{score:7.2f}  {recommender.title(item)}")
