"""data.load_stocks: monthly prices of five stocks from the installed vega_datasets (chapter 09)."""
import numpy as np
import pytest

from helpers import data


def test_stocks_symbols_months_and_prices():
    stocks = data.load_stocks()
    assert tuple(stocks) == data.STOCK_SYMBOLS
    for symbol, (dates, prices) in stocks.items():
        n = 68 if symbol == "GOOG" else 123
        assert len(dates) == len(prices) == n and prices.dtype == np.float64
        assert dates[-1] == "2010-03-01" and (dates[0] == "2004-08-01" if symbol == "GOOG" else dates[0] == "2000-01-01")
        assert (prices > 0).all() and np.isfinite(prices).all()
        months = [int(d[:4]) * 12 + int(d[5:7]) for d in dates]
        assert all(b - a == 1 for a, b in zip(months, months[1:]))       # ascending, no gaps
    assert stocks["MSFT"][1][0] == 39.81 and stocks["AAPL"][0][8] == "2000-09-01"


def test_stocks_one_symbol_and_fresh_arrays():
    dates, prices = data.load_stocks("IBM")
    assert dates == data.load_stocks()["IBM"][0]
    prices[0] = -1.0
    assert data.load_stocks("IBM")[1][0] != -1.0


def test_stocks_unknown_symbol_names_the_choices():
    with pytest.raises(ValueError, match="AAPL, AMZN, GOOG, IBM, MSFT.*'TSLA'"):
        data.load_stocks("TSLA")
