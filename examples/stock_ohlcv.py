# %% [markdown]
# # Stock prices from OHLCV: an honest comparison with the naive forecast
#
# Microsoft's daily open, high, low, close and volume (pmdarima's copy, 1986–2017). The network reads all five
# columns and forecasts the close 5 trading days ahead. Daily prices are close to a random walk: tomorrow's best
# guess is today's close, and the naive forecast is the one to beat. The table shows whether the network does —
# usually it does not by much, if at all; that is the finding, not a failure of the example.

# %%
from _shared import SMALL, run_dir

import rnnlab
from rnnlab import Forecaster

prices = rnnlab.load_dataset("msft").iloc[-(800 if SMALL else 2500) :]  # the last ten years of trading days
options = {"auto": False, "epochs": 2, "hidden_size": 16} if SMALL else {"budget": 60, "ensemble": 2}
fc = Forecaster(cell="lstm", horizon=5, **options)
fc.fit(prices, target="close", covariates=["open", "high", "low", "volume"], run_dir=run_dir("msft"),
       log=lambda *_: None)  # fmt: skip
table = fc.evaluate()
print(table.round(4).to_string())
naive, network = table.loc["naive", "mase"], table.loc["rnnlab", "mase"]
verdict = "beats" if network < naive else "does not beat"
print(f"the network {verdict} the naive forecast: MASE {network:.3f} vs {naive:.3f} (a random walk's best guess)")
