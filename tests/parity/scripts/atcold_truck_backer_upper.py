# Source: Alfredo Canziani, NYU Deep Learning (DS-GA 1008, spring 2020) notebook "14 - Truck
# backer-upper" (Nguyen & Widrow's truck-and-trailer kinematics simulated in Python; an expert data set
# of random steering angles; an MLP emulator of the next state trained one sample at a time with SGD):
#   https://github.com/Atcold/NYU-DLSP20  14-truck_backer_upper.ipynb
# Shrunk: no display: `from matplotlib.pylab import *` is replaced by the NumPy names it supplied here
# (pi, cos, sin, tan, deg2rad and numpy.random.random as random()), the drawing methods (_draw_car,
# _draw_trailer, clear, the figure in __init__) are left out and draw() does nothing, as with
# display=False; tqdm left out; 3 episodes instead of 10 (the data set has a few hundred pairs), the
# emulator's loss printed every 100 samples instead of every 1000. The truck's state is printed where
# the notebook draws it.
from numpy import pi, cos, sin, tan, deg2rad
from numpy.random import random
π = pi


class Truck:
    def __init__(self, display=False):

        self.W = 1  # car and trailer width, for drawing only
        self.L = 1 * self.W  # car length
        self.d = 4 * self.L  # d_1
        self.s = -0.1  # speed
        self.display = display

        self.box = [0, 40, -10, 10]

        self.reset()

    def reset(self, ϕ=0):
        self.ϕ = ϕ  # car initial steering angle

        # self.θ0 = deg2rad(30)  # car initial direction
        # self.θ1 = deg2rad(-30)  # trailer initial direction
        # self.x, self.y = 20, -5  # initial car coordinates

        self.θ0 = random() * 2 * π  # 0 <= ϑ₀ < 2π
        self.θ1 = (random() - 0.5) * π / 2 + self.θ0  # -π/4 <= ϑ₁ - ϑ₀ < π/4
        self.x = (random() * .75 + 0.25) * self.box[1]
        self.y = (random() - 0.5) * (self.box[3] - self.box[2])

        # If poorly initialise, then re-initialise
        if not self.valid():
            self.reset(ϕ)

        # Draw, if display is True
        if self.display: self.draw()

    def step(self, ϕ=0, dt=1):

        # Check for illegal conditions
        if self.is_jackknifed():
            print('The truck is jackknifed!')
            return

        if self.is_offscreen():
            print('The car or trailer is off screen')
            return

        self.ϕ = ϕ
        x, y, W, L, d, s, θ0, θ1, ϕ = self._get_atributes()

        # Perform state update
        self.x += s * cos(θ0) * dt
        self.y += s * sin(θ0) * dt
        self.θ0 += s / L * tan(ϕ) * dt
        self.θ1 += s / d * sin(θ0 - θ1) * dt

        return (self.x, self.y, self.θ0, *self._traler_xy(), self.θ1)

    def state(self):
        return (self.x, self.y, self.θ0, *self._traler_xy(), self.θ1)

    def _get_atributes(self):
        return (
            self.x, self.y, self.W, self.L, self.d, self.s,
            self.θ0, self.θ1, self.ϕ
        )

    def _traler_xy(self):
        x, y, W, L, d, s, θ0, θ1, ϕ = self._get_atributes()
        return x - d * cos(θ1), y - d * sin(θ1)

    def is_jackknifed(self):
        x, y, W, L, d, s, θ0, θ1, ϕ = self._get_atributes()
        return abs(θ0 - θ1) * 180 / π > 90

    def is_offscreen(self):
        x, y, W, L, d, s, θ0, θ1, ϕ = self._get_atributes()

        x1, y1 = x + 1.5 * L * cos(θ0), y + 1.5 * L * sin(θ0)
        x2, y2 = self._traler_xy()

        b = self.box
        return not (
            b[0] <= x1 <= b[1] and b[2] <= y1 <= b[3] and
            b[0] <= x2 <= b[1] and b[2] <= y2 <= b[3]
        )

    def valid(self):
        return not self.is_jackknifed() and not self.is_offscreen()

    def draw(self):
        if not self.display: return


truck = Truck(display=True)
print([round(float(v), 4) for v in truck.state()])

ϕ = deg2rad(-35)  # positive left, negative right
truck.step(ϕ)
truck.draw()
print([round(float(v), 4) for v in truck.state()])

truck.reset()

import torch
import torch.nn as nn
from torch.optim import SGD

# Build expert data set

episodes = 3
inputs = list()
outputs = list()
# truck = Truck(); episodes = 10_000  # uncomment for creating the data set

for episode in range(episodes):

    truck.reset()

    while truck.valid():
        initial_state = truck.state()
        ϕ = (random() - 0.5) * π / 2
        inputs.append((ϕ, *initial_state))
        outputs.append(truck.step(ϕ))
        truck.draw()

print(len(inputs), len(outputs))

state_size = 6
steering_size = 1
hidden_units_e = 45

emulator = nn.Sequential(
    nn.Linear(steering_size + state_size, hidden_units_e),
    nn.ReLU(),
    nn.Linear(hidden_units_e, state_size)
)

optimiser_e = SGD(emulator.parameters(), lr=0.005)
criterion = nn.MSELoss()

tensor_inputs = torch.Tensor(inputs)
tensor_outputs = torch.Tensor(outputs)
print(tensor_inputs.dtype, tensor_inputs.shape, tensor_outputs.shape)

mean = tensor_inputs.mean(0)
std = tensor_inputs.std(0)
tensor_inputs = (tensor_inputs - mean) / std
tensor_outputs = (tensor_outputs - mean[1:]) / std[1:]
print(mean)
print(std)

# Split the data into 80:20 for test:train.
test_size = int(len(tensor_inputs) * 0.8)
print(len(tensor_inputs), test_size)

train_inputs = tensor_inputs[:test_size]
train_outputs = tensor_outputs[:test_size]
test_inputs = tensor_inputs[test_size:]
test_outputs = tensor_outputs[test_size:]

print(len(train_inputs))

# Emulator training
cnt = 0
for i in torch.randperm(len(train_inputs)):
    ϕ_state = train_inputs[i]
    next_state_prediction = emulator(ϕ_state)

    next_state = train_outputs[i]
    loss = criterion(next_state_prediction, next_state)

    optimiser_e.zero_grad()
    loss.backward()
    optimiser_e.step()

    if cnt == 0 or (cnt + 1) % 100 == 0:
        print(f'{cnt + 1:4d} / {len(train_inputs)}, {loss.item():.10f}')
    cnt += 1

# Test
total_loss = 0
with torch.no_grad():
    for idx, ϕ_state in enumerate(test_inputs):
        next_state_prediction = emulator(ϕ_state)

        next_state = test_outputs[idx]
        total_loss += criterion(next_state_prediction, next_state).item()

ave_test_loss = total_loss/test_size
print(f'Test loss: {ave_test_loss:.10f}')
