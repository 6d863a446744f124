# Source: rixwew, pytorch-fm (factorization-machine models for CTR prediction in PyTorch), test/test_layers.py
#   and the models of examples/main.py's get_model that have an MLP:
#   https://github.com/rixwew/pytorch-fm  test/test_layers.py, examples/main.py (commit f74ad19); the layers
#   and models are torchfm/layer.py and torchfm/model/*.py, in the torchfm/ folder beside this script.
# Shrunk: test_layers.py's AnovaKernel tests run on batch 4 x 6 fields x 4 dims (not 32 x 16 x 16) and
#   are called one by one, printing "ok" (unittest's runner prints its timing); then each model of
#   get_model with a MultiLayerPerceptron (fnn, wd, ipnn, opnn, dcn, nfm, ncf, fnfm, dfm, xdfm, afi, afn)
#   is built with get_model's hyperparameters (afn's LNN_dim 1500 and 400-wide MLP shrunk to 15 and 40),
#   its eval-mode output at initialisation printed, then it takes 3 steps of main.py's train()
#   (BCELoss, Adam lr 0.01) on one random batch of 64 rows of 4 categorical fields in train mode
#   (dropout 0.2 drawing the same masks), printing each loss. No eval after training: the biased Linear
#   before each BatchNorm1d has a gradient that is 0 up to float32 rounding, and Adam's first step turns
#   that noise into a +-lr step that shows in eval mode only (see recsys_torchfm_main.py).
import numpy as np
import torch

from torchfm.layer import AnovaKernel, OuterProductNetwork
from torchfm.model.afi import AutomaticFeatureInteractionModel
from torchfm.model.afn import AdaptiveFactorizationNetwork
from torchfm.model.dcn import DeepCrossNetworkModel
from torchfm.model.dfm import DeepFactorizationMachineModel
from torchfm.model.fnfm import FieldAwareNeuralFactorizationMachineModel
from torchfm.model.fnn import FactorizationSupportedNeuralNetworkModel
from torchfm.model.ncf import NeuralCollaborativeFiltering
from torchfm.model.nfm import NeuralFactorizationMachineModel
from torchfm.model.pnn import ProductNeuralNetworkModel
from torchfm.model.wd import WideAndDeepModel
from torchfm.model.xdfm import ExtremeDeepFactorizationMachineModel


class TestAnovaKernel:

    def test_forward_order_2(self):
        batch_size, num_fields, embed_dim = 4, 6, 4
        kernel = AnovaKernel(order=2, reduce_sum=True).eval()
        with torch.no_grad():
            x = torch.FloatTensor(np.random.randn(batch_size, num_fields, embed_dim))
            y_true = 0
            for i in range(num_fields - 1):
                for j in range(i + 1, num_fields):
                    y_true = x[:, i, :] * x[:, j, :] + y_true
            y_true = torch.sum(y_true, dim=1, keepdim=True).numpy()
            y_pred = kernel(x).numpy()
        print(y_pred.ravel())
        np.testing.assert_almost_equal(y_pred, y_true, 3)

    def test_forward_order_3(self):
        batch_size, num_fields, embed_dim = 4, 6, 4
        kernel = AnovaKernel(order=3, reduce_sum=True).eval()
        with torch.no_grad():
            x = torch.FloatTensor(np.random.randn(batch_size, num_fields, embed_dim))
            y_true = 0
            for i in range(num_fields - 2):
                for j in range(i + 1, num_fields - 1):
                    for k in range(j + 1, num_fields):
                        y_true = x[:, i, :] * x[:, j, :] * x[:, k, :] + y_true
            y_true = torch.sum(y_true, dim=1, keepdim=True).numpy()
            y_pred = kernel(x).numpy()
        print(y_pred.ravel())
        np.testing.assert_almost_equal(y_pred, y_true, 3)

    def test_forward_order_4(self):
        batch_size, num_fields, embed_dim = 4, 6, 4
        kernel = AnovaKernel(order=4, reduce_sum=True).eval()
        with torch.no_grad():
            x = torch.FloatTensor(np.random.randn(batch_size, num_fields, embed_dim))
            y_true = 0
            for i in range(num_fields - 3):
                for j in range(i + 1, num_fields - 2):
                    for k in range(j + 1, num_fields - 1):
                        for l in range(k + 1, num_fields):
                            y_true = x[:, i, :] * x[:, j, :] * x[:, k, :] * x[:, l, :] + y_true
            y_true = torch.sum(y_true, dim=1, keepdim=True).numpy()
            y_pred = kernel(x).numpy()
        print(y_pred.ravel())
        np.testing.assert_almost_equal(y_pred, y_true, 3)


tests = TestAnovaKernel()
for name in ['test_forward_order_2', 'test_forward_order_3', 'test_forward_order_4']:
    getattr(tests, name)()
    print(name, '(test_layers.TestAnovaKernel) ... ok')

# OuterProductNetwork's three kernel types (ProductNeuralNetworkModel uses 'mat').
x = torch.randn(4, 4, 16)
for kernel_type in ['mat', 'vec', 'num']:
    opn = OuterProductNetwork(4, 16, kernel_type=kernel_type)
    print(kernel_type, tuple(opn.kernel.shape), opn(x)[0])
try:
    OuterProductNetwork(4, 16, kernel_type='diag')
except ValueError as e:
    print(e)

field_dims = np.array([10, 12, 3, 4])
fields = torch.stack([torch.randint(0, int(d), (64,)) for d in field_dims], dim=1)
target = torch.randint(0, 2, (64,))
user_field_idx, item_field_idx = np.array((0, ), dtype=np.int64), np.array((1,), dtype=np.int64)
models = {
    'fnn': lambda: FactorizationSupportedNeuralNetworkModel(field_dims, embed_dim=16, mlp_dims=(16, 16), dropout=0.2),
    'wd': lambda: WideAndDeepModel(field_dims, embed_dim=16, mlp_dims=(16, 16), dropout=0.2),
    'ipnn': lambda: ProductNeuralNetworkModel(field_dims, embed_dim=16, mlp_dims=(16,), method='inner', dropout=0.2),
    'opnn': lambda: ProductNeuralNetworkModel(field_dims, embed_dim=16, mlp_dims=(16,), method='outer', dropout=0.2),
    'dcn': lambda: DeepCrossNetworkModel(field_dims, embed_dim=16, num_layers=3, mlp_dims=(16, 16), dropout=0.2),
    'nfm': lambda: NeuralFactorizationMachineModel(field_dims, embed_dim=64, mlp_dims=(64,), dropouts=(0.2, 0.2)),
    'ncf': lambda: NeuralCollaborativeFiltering(field_dims, embed_dim=16, mlp_dims=(16, 16), dropout=0.2,
                                                user_field_idx=user_field_idx, item_field_idx=item_field_idx),
    'fnfm': lambda: FieldAwareNeuralFactorizationMachineModel(field_dims, embed_dim=4, mlp_dims=(64,), dropouts=(0.2, 0.2)),
    'dfm': lambda: DeepFactorizationMachineModel(field_dims, embed_dim=16, mlp_dims=(16, 16), dropout=0.2),
    'xdfm': lambda: ExtremeDeepFactorizationMachineModel(
        field_dims, embed_dim=16, cross_layer_sizes=(16, 16), split_half=False, mlp_dims=(16, 16), dropout=0.2),
    'xdfm-split': lambda: ExtremeDeepFactorizationMachineModel(
        field_dims, embed_dim=16, cross_layer_sizes=(16, 16), split_half=True, mlp_dims=(16, 16), dropout=0.2),
    'afi': lambda: AutomaticFeatureInteractionModel(
        field_dims, embed_dim=16, atten_embed_dim=64, num_heads=2, num_layers=3, mlp_dims=(400, 400), dropouts=(0, 0, 0)),
    'afn': lambda: AdaptiveFactorizationNetwork(
        field_dims, embed_dim=16, LNN_dim=15, mlp_dims=(40, 40, 40), dropouts=(0, 0, 0)),
}
for name, make in models.items():
    model = make()
    print(name, sum(p.numel() for p in model.parameters()))
    model.eval()
    with torch.no_grad():
        print(model(fields[:4]))
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.Adam(params=model.parameters(), lr=0.01, weight_decay=1e-6)
    model.train()
    for i in range(3):
        y = model(fields)
        loss = criterion(y, target.float())
        model.zero_grad()
        loss.backward()
        optimizer.step()
        print('loss=', loss.item())
