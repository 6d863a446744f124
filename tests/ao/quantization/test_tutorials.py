"""The code of PyTorch's "Dynamic Quantization" tutorial (an LSTM word language model), run with
``import chainrule as torch``: quantize, compare the outputs and the saved sizes."""
import os

import numpy as np
import pytest
import torch as pytorch

import chainrule as torch  # the tutorial's code, unchanged but for this line
import chainrule.nn as nn

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


class LSTMModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        return decoded, hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def pytorch_model_of(model):
    """PyTorch's modules with ``model``'s weights (encoder, rnn, decoder)."""
    theirs = pytorch.nn.Module()
    theirs.encoder, theirs.rnn = pytorch.nn.Embedding(200, 64), pytorch.nn.LSTM(64, 64, 2, dropout=0.5)
    theirs.decoder = pytorch.nn.Linear(64, 200)
    theirs.load_state_dict({key: pytorch.tensor(value.numpy()) for key, value in model.state_dict().items()})
    return theirs.eval()


def print_size_of_model(model, path):
    torch.save(model.state_dict(), path)
    size = os.path.getsize(path)
    os.remove(path)
    return size


def test_the_dynamic_quantization_tutorial_runs(tmp_path):
    torch.manual_seed(0)
    model = LSTMModel(ntoken=200, ninp=64, nhid=64, nlayers=2)
    model.eval()
    quantized_model = torch.quantization.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
    assert "DynamicQuantizedLSTM(64, 64, num_layers=2, dropout=0.5)" in repr(quantized_model)
    assert "DynamicQuantizedLinear(in_features=64, out_features=200, dtype=chainrule.qint8" in repr(quantized_model)
    input = torch.randint(0, 200, (12, 4))
    with torch.no_grad():
        quantized_out, _ = quantized_model(input, quantized_model.init_hidden(4))
    # PyTorch's quantized model of the same weights gives the same outputs (to float32 ulps)
    their_model = pytorch_model_of(model)
    their_quantized = pytorch.ao.quantization.quantize_dynamic(their_model, {pytorch.nn.LSTM, pytorch.nn.Linear}, dtype=pytorch.qint8)
    hidden = (pytorch.zeros(2, 4, 64), pytorch.zeros(2, 4, 64))
    their_out, _ = their_quantized.decoder(their_quantized.rnn(their_quantized.encoder(pytorch.tensor(input.numpy())), hidden)[0]), None
    np.testing.assert_allclose(quantized_out.numpy(), their_out.detach().numpy(), atol=1e-5)
    float_size = print_size_of_model(model, tmp_path / "temp.p")
    quantized_size = print_size_of_model(quantized_model, tmp_path / "temp.p")
    assert quantized_size < float_size / 2.5
