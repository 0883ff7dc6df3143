"""data.load_seattle_weather: the daily 2012-2015 record from the installed vega_datasets."""
import numpy as np

from helpers import data


def test_seattle_weather_columns_and_days():
    days, columns = data.load_seattle_weather()
    assert len(days) == 1461 and days[0] == "2012/01/01" and days[-1] == "2015/12/31"
    assert set(columns) == {"precipitation", "temp_max", "temp_min", "wind", "weather"}
    for name in data.WEATHER_COLUMNS:
        assert columns[name].shape == (1461,) and columns[name].dtype == np.float64
        assert np.isfinite(columns[name]).all()
    assert (columns["temp_max"] >= columns["temp_min"]).all()
    assert -10 < columns["temp_min"].min() and columns["temp_max"].max() < 40     # °C, not °F
    assert (columns["precipitation"] >= 0).all()
    assert set(columns["weather"]) <= {"rain", "sun", "drizzle", "snow", "fog"}


def test_seattle_weather_has_no_gaps_and_is_noisy():
    import datetime as dt

    days, columns = data.load_seattle_weather()
    parsed = [dt.date(*map(int, d.split("/"))) for d in days]
    assert all((b - a).days == 1 for a, b in zip(parsed, parsed[1:]))
    mean = (columns["temp_max"] + columns["temp_min"]) / 2
    assert np.abs(np.diff(mean)).mean() > 1.0          # a real record: days differ by > 1 °C


def test_seattle_weather_returns_fresh_arrays():
    _, a = data.load_seattle_weather()
    a["temp_max"][0] = 999.0
    _, b = data.load_seattle_weather()
    assert b["temp_max"][0] != 999.0
