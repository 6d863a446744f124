# Source: 刘二大人 (Liu Er), 《PyTorch深度学习实践》 lecture 5, linear regression with PyTorch
# (nn.Linear, MSELoss(size_average=False), SGD), as a learner typed it:
#   https://github.com/OpenUpDaze/ML_bilibili  Pytorch_lesson5.py
# Shrunk: 100 epochs instead of 1000; the lecture's homework (the same model trained with each of
# the other optimizers it lists: Adagrad, Adam, Adamax, ASGD, LBFGS, RMSprop, Rprop) added at the end,
# 20 epochs each, LBFGS with the closure its documentation asks for.
import torch

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = self.linear(x)
        return y_pred


model = LinearModel()

criterion = torch.nn.MSELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    print(epoch, loss)

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print('w = ', model.linear.weight.item())
print('b = ', model.linear.bias.item())

x_test = torch.Tensor([[4.0]])
y_test = model(x_test)
print('y_pred = ', y_test.data)

# 作业: 不同的优化器
optimizers = {
    'Adagrad': lambda params: torch.optim.Adagrad(params, lr=0.1),
    'Adam': lambda params: torch.optim.Adam(params, lr=0.1),
    'Adamax': lambda params: torch.optim.Adamax(params, lr=0.1),
    'ASGD': lambda params: torch.optim.ASGD(params, lr=0.01),
    'LBFGS': lambda params: torch.optim.LBFGS(params, lr=0.1),
    'RMSprop': lambda params: torch.optim.RMSprop(params, lr=0.01),
    'Rprop': lambda params: torch.optim.Rprop(params, lr=0.01),
    'SGD': lambda params: torch.optim.SGD(params, lr=0.01),
}
for name, make_optimizer in optimizers.items():
    torch.manual_seed(0)
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = make_optimizer(model.parameters())
    print(name, optimizer)
    losses = []
    for epoch in range(20):
        def closure():
            optimizer.zero_grad()
            loss = criterion(model(x_data), y_data)
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        losses.append(round(loss.item(), 4))
    print(name, losses)
    print(name, 'w = ', model.linear.weight.item(), 'b = ', model.linear.bias.item())
