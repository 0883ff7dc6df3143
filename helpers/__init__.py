"""Course helpers: from-scratch RNN, LSTM, GRU and BPTT, data, plotting, widgets."""
