# Source: MIPT Deep Learning School (DLS), homework "[homework]dropout_regression" (20 noisy points on a line
#   fitted by two 1-300-300-1 ReLU MLPs, one with nn.Dropout(0.5) after each hidden Linear, both trained side by
#   side with Adam(lr=0.01) on MSELoss; every 20 steps both switch to eval(), their train / test losses are
#   stored as .data.numpy() and printed with '%.4f' at the end), with the blanks filled as the course's
#   solution notebook fills them: https://github.com/gtmp047/dlschool  07. Neural Networks Practice/Dropout_admin.ipynb
#   (the task: 07. Neural Networks Practice/[homework]dropout_regression.ipynb)
# Shrunk: 100 steps instead of 500 (by step 500 float32 rounding differences, amplified by Adam, move the
#   overfitting net's losses and predictions in their 2nd-3rd digit between libraries); the IPython images,
#   matplotlib plots, clear_output and
#   sleep dropped (the plotted predictions printed at the last evaluation instead).
import torch
import numpy as np

torch.manual_seed(2)
np.random.seed(2)

# Кол-во точек
N_SAMPLES = 20

# Строим выборку для обучения
x = torch.linspace(-1, 1, N_SAMPLES).view(N_SAMPLES, -1)
#y = x + 0.3 * torch.normal(torch.zeros(N_SAMPLES, 1), torch.ones(N_SAMPLES, 1))
y = torch.tensor([[-1.3122],[-0.6198],[-1.1807],[-1.0171],[-0.5700],[-0.4886],[-0.0489],[ 0.0027],[-0.4012],[ 0.1495]
                  ,[-0.2844],[ 0.1303],[ 0.3053],[ 0.7042],[ 0.5683],[ 1.1048],[ 0.4623],[ 0.4167],[ 0.8422],[ 1.2097]])

# Строим тестовую выборку
test_x = torch.linspace(-1, 1, N_SAMPLES).view(N_SAMPLES, -1)
#test_y = test_x + 0.3 * torch.normal(torch.zeros(N_SAMPLES, 1), torch.ones(N_SAMPLES, 1))
test_y = torch.tensor([[-1.3883],[-0.9020],[-0.8601],[-0.8968],[-0.2950],[-1.0038],[-0.5611],[ 0.4919],[-0.4285],[-0.0572],
                       [ 0.4683],[ 0.9315],[ 0.1591],[ 0.3946],[ 0.1438],[ 0.7278],[ 1.1072],[ 0.6730],[ 1.0141],[ 0.6687]])

# plt.scatter(x.numpy(), y.numpy(), ...), plt.scatter(test_x.numpy(), test_y.numpy(), ...)
print(x.numpy().ravel(), y.numpy().ravel(), test_y.numpy().dtype)

N_HIDDEN = 300
net_overfitting = torch.nn.Sequential(
    torch.nn.Linear(1, N_HIDDEN),
    torch.nn.ReLU(),
    torch.nn.Linear(N_HIDDEN, N_HIDDEN),
    torch.nn.ReLU(),
    torch.nn.Linear(N_HIDDEN, 1),
)
print(net_overfitting)  # архитектура сети

net_dropped = torch.nn.Sequential(
    torch.nn.Linear(1, N_HIDDEN),
    torch.nn.Dropout(0.5),
    torch.nn.ReLU(),
    torch.nn.Linear(N_HIDDEN, N_HIDDEN),
    torch.nn.Dropout(0.5),
    torch.nn.ReLU(),
    torch.nn.Linear(N_HIDDEN, 1),
)
print(net_dropped) # архитектура сети

optimizer_ofit = torch.optim.Adam(net_overfitting.parameters(), lr=0.01)
optimizer_drop = torch.optim.Adam(net_dropped.parameters(), lr=0.01)

loss_func = torch.nn.MSELoss()

# Ошибки на y и test_y
error = []
error_test = []
for t in range(100):
    # Пропустим x по нейронной сети
    pred_ofit = net_overfitting(x)
    pred_drop = net_dropped(x)

    loss_ofit = loss_func(pred_ofit, y)
    loss_drop = loss_func(pred_drop, y)

    # Cделаем шаг градиентного спуска
    optimizer_ofit.zero_grad()
    optimizer_drop.zero_grad()
    loss_ofit.backward()
    loss_drop.backward()
    optimizer_ofit.step()
    optimizer_drop.step()

    if t % 20 == 0:
        # перейдем к режиму eval, чтобы учесть поправку dropout
        net_overfitting.eval()
        net_dropped.eval()

        # Пропустим test_x по нейронной сети
        test_pred_ofit = net_overfitting(test_x)
        test_pred_drop = net_dropped(test_x)

        # Ошибка на y и на на test_y
        error.append((loss_func(pred_ofit, y).data.numpy(), loss_func(pred_drop, y).data.numpy()))
        error_test.append((loss_func(test_pred_ofit, test_y).data.numpy(), loss_func(test_pred_drop, test_y).data.numpy()))

        print('overfitting loss=%.4f' % loss_func(test_pred_ofit, test_y).data.numpy())
        print('dropout loss=%.4f' % loss_func(test_pred_drop, test_y).data.numpy())

        # вернемся к режиму train
        net_overfitting.train()
        net_dropped.train()

# the last plot's curves
print(test_pred_ofit.data.numpy().ravel())
print(test_pred_drop.data.numpy().ravel())

# Выведим ошибки двух сетей попарно на y:
print('overfitting loss train', 'dropout loss train')
for i in range(len(error)):
    print('%.4f\t\t\t%.4f' % (error[i][0], error[i][1]))

print()
# Выведим ошибки двух сетей попарно на test_y:
print('overfitting loss', '   dropout loss')
for i in range(len(error)):
    print('%.4f\t\t\t%.4f' % (error_test[i][0], error_test[i][1]))
print(type(error[0][0]), error[0][0].shape, error[0][0].dtype)
