"""The chapter 09 part 3 loaders read the files shipped in sktime's and autots' wheels."""

import numpy as np

from helpers import data


def test_mitdb_has_one_labelled_stretch():
    x, labels = data.load_mitdb()
    assert x.shape == labels.shape == (7500,) and labels.dtype == bool
    edges = np.flatnonzero(np.diff(labels.astype(int)))
    assert labels.sum() == 352 and len(edges) == 2 and edges[0] + 1 == 6936
    x[0] = 99.0
    assert data.load_mitdb()[0][0] != 99.0                # a fresh copy


def test_traffic_hourly_without_importing_autots():
    frame = data.load_traffic_hourly()
    assert frame.shape == (17520, 6) and int(frame["traffic_volume"].isna().sum()) == 104
    assert str(frame.index[0]) == "2016-10-01 00:00:00" and (frame.index[1:] - frame.index[:-1]).nunique() == 1
