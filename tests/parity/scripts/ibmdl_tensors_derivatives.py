# Source: IBM / Coursera "Deep Neural Networks with PyTorch" (Joseph Santarcangelo), week 1 labs
# 1.1 "Torch Tensors in 1D", 1.1_2 "Two-Dimensional Tensors", 1.2 "Differentiation in PyTorch",
# as mirrored in https://github.com/AngelFelipeMP/Deep-Neural-Networks-with-Pytorch
#   Week1/1.1_1Dtensors_v2.ipynb, Week1/1.1_2 Two-Dimensional Tensors_v2.ipynb,
#   Week1/1.2derivativesandGraphsinPytorch_v2.ipynb (the code cells, in order)
# Shrunk: plots dropped (plotVec, plt.plot); cells that only display a value in the notebook wrapped
# in print(); pandas is not installed, so pd.Series(...).values / pd.DataFrame(...).values written as
# the NumPy arrays they return; the practice cells filled in as the notebook's solutions do.
import numpy as np
import torch

# ---- 1.1 Types and shape
ints_to_tensor = torch.tensor([0, 1, 2, 3, 4])
print("The dtype of tensor object after converting it to tensor: ", ints_to_tensor.dtype)
print("The type of tensor object after converting it to tensor: ", ints_to_tensor.type())
print(type(ints_to_tensor))

floats_to_tensor = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
print("The dtype of tensor object after converting it to tensor: ", floats_to_tensor.dtype)
print("The type of tensor object after converting it to tensor: ", floats_to_tensor.type())

list_floats = [0.0, 1.0, 2.0, 3.0, 4.0]
floats_int_tensor = torch.tensor(list_floats, dtype=torch.int64)
print("The dtype of tensor object is: ", floats_int_tensor.dtype)
print("The type of tensor object is: ", floats_int_tensor.type())

new_float_tensor = torch.FloatTensor([0, 1, 2, 3, 4])
new_float_tensor.type()
print("The type of the new_float_tensor:", new_float_tensor.type())

old_int_tensor = torch.tensor([0, 1, 2, 3, 4])
new_float_tensor = old_int_tensor.type(torch.FloatTensor)
print("The type of the new_float_tensor:", new_float_tensor.type())

print("The size of the new_float_tensor: ", new_float_tensor.size())
print("The dimension of the new_float_tensor: ", new_float_tensor.ndimension())

twoD_float_tensor = new_float_tensor.view(5, 1)
print("Original Size: ", new_float_tensor)
print("Size after view method", twoD_float_tensor)

twoD_float_tensor = new_float_tensor.view(-1, 1)
print("Original Size: ", new_float_tensor)
print("Size after view method", twoD_float_tensor)

numpy_array = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
new_tensor = torch.from_numpy(numpy_array)
print("The dtype of new tensor: ", new_tensor.dtype)
print("The type of new tensor: ", new_tensor.type())

back_to_numpy = new_tensor.numpy()
print("The numpy array from tensor: ", back_to_numpy)
print("The dtype of numpy array: ", back_to_numpy.dtype)

# Set all elements in numpy array to zero
numpy_array[:] = 0
print("The new tensor points to numpy_array : ", new_tensor)
print("and back to numpy array points to the tensor: ", back_to_numpy)

# Convert a panda series to a tensor (pd.Series([0.1, 2, 0.3, 10.1]).values)
pandas_series_values = np.array([0.1, 2, 0.3, 10.1])
new_tensor = torch.from_numpy(pandas_series_values)
print("The new tensor from numpy array: ", new_tensor)
print("The dtype of new tensor: ", new_tensor.dtype)
print("The type of new tensor: ", new_tensor.type())

this_tensor = torch.tensor([0, 1, 2, 3])
print("the first item is given by", this_tensor[0].item(), "the first tensor value is given by ", this_tensor[0])
print("the second item is given by", this_tensor[1].item(), "the second tensor value is given by ", this_tensor[1])
print("the third  item is given by", this_tensor[2].item(), "the third tensor value is given by ", this_tensor[2])

torch_to_list = this_tensor.tolist()
print('tensor:', this_tensor, "\nlist:", torch_to_list)

your_tensor = torch.tensor([1, 2, 3, 4, 5])
my_new_tensor = your_tensor.view(-1, 5)
print(my_new_tensor.size(), my_new_tensor)

# ---- Indexing and slicing
index_tensor = torch.tensor([0, 1, 2, 3, 4])
print("The value on index 0:", index_tensor[0])
print("The value on index 1:", index_tensor[1])
print("The value on index 2:", index_tensor[2])
print("The value on index 3:", index_tensor[3])
print("The value on index 4:", index_tensor[4])

tensor_sample = torch.tensor([20, 1, 2, 3, 4])
print("Inital value on index 0:", tensor_sample[0])
tensor_sample[0] = 100
print("Modified tensor:", tensor_sample)
print("Inital value on index 4:", tensor_sample[4])
tensor_sample[4] = 0
print("Modified tensor:", tensor_sample)

subset_tensor_sample = tensor_sample[1:4]
print("Original tensor sample: ", tensor_sample)
print("The subset of tensor sample:", subset_tensor_sample)

print("Inital value on index 3 and index 4:", tensor_sample[3:5])
tensor_sample[3:5] = torch.tensor([300.0, 400.0])
print("Modified tensor:", tensor_sample)

selected_indexes = [3, 4]
subset_tensor_sample = tensor_sample[selected_indexes]
print("The inital tensor_sample", tensor_sample)
print("The subset of tensor_sample with the values on index 3 and 4: ", subset_tensor_sample)

print("The inital tensor_sample", tensor_sample)
selected_indexes = [1, 3]
tensor_sample[selected_indexes] = 100000
print("Modified tensor with one value: ", tensor_sample)

practice_tensor = torch.tensor([2, 7, 3, 4, 6, 2, 3, 1, 2])
practice_tensor[[3, 4, 7]] = 0
print(practice_tensor)

# ---- Tensor functions
math_tensor = torch.tensor([1.0, -1.0, 1, -1])
print("Tensor example: ", math_tensor)
mean = math_tensor.mean()
print("The mean of math_tensor: ", mean)
standard_deviation = math_tensor.std()
print("The standard deviation of math_tensor: ", standard_deviation)

max_min_tensor = torch.tensor([1, 1, 3, 5, 5])
print("Tensor example: ", max_min_tensor)
max_val = max_min_tensor.max()
print("Maximum number in the tensor: ", max_val)
print(max_min_tensor.max())
min_val = max_min_tensor.min()
print("Minimum number in the tensor: ", min_val)

pi_tensor = torch.tensor([0, np.pi / 2, np.pi])
sin = torch.sin(pi_tensor)
print("The sin result of pi_tensor: ", sin)

len_5_tensor = torch.linspace(-2, 2, steps=5)
print("First Try on linspace", len_5_tensor)
len_9_tensor = torch.linspace(-2, 2, steps=9)
print("Second Try on linspace", len_9_tensor)

pi_tensor = torch.linspace(0, 2 * np.pi, 100)
sin_result = torch.sin(pi_tensor)
print(sin_result.numpy()[::10])

x_tensor = torch.linspace(0, np.pi / 2, steps=25)
y_tensor = torch.sin(x_tensor)
print(f' Max value: {y_tensor.max()}')
print(f' Min value: {y_tensor.min()}')

pi_tensor = torch.linspace(0, np.pi / 2, 100)
print("Max Number: ", pi_tensor.max())
print("Min Number", pi_tensor.min())

# ---- Tensor operations
u = torch.tensor([1, 0])
v = torch.tensor([0, 1])
w = u + v
print("The result tensor: ", w)
z = u - v
print("The result tensor: ", z)

print(torch.tensor([1, 2, 3], dtype=torch.int64) + torch.tensor([1, 2, 3], dtype=torch.float64))

u = torch.tensor([1, 2, 3, -1])
v = u + 1
print("Addition Result: ", v)

u = torch.tensor([1, 2])
v = 2 * u
print("The result of 2 * u: ", v)

u = torch.tensor([1, 2])
v = torch.tensor([3, 2])
w = u * v
print("The result of u * v", w)
print("Dot Product of u, v:", torch.dot(u, v))

tensor_d = torch.tensor([-1, 1])
tensor_o = torch.tensor([1, 1])
print(f'dot product: {torch.dot(tensor_d,tensor_o)}')
u = torch.tensor([-1, 1])
v = torch.tensor([1, 1])
print("The Dot Product is", np.dot(u, v))

# ---- 1.1_2 Two-dimensional tensors
twoD_list = [[11, 12, 13], [21, 22, 23], [31, 32, 33]]
twoD_tensor = torch.tensor(twoD_list)
print("The New 2D Tensor: ", twoD_tensor)
print("The dimension of twoD_tensor: ", twoD_tensor.ndimension())
print("The shape of twoD_tensor: ", twoD_tensor.shape)
print("The shape of twoD_tensor: ", twoD_tensor.size())
print("The number of elements in twoD_tensor: ", twoD_tensor.numel())

twoD_numpy = twoD_tensor.numpy()
print("Tensor -> Numpy Array:")
print("The numpy array after converting: ", twoD_numpy)
print("Type after converting: ", twoD_numpy.dtype)
print("================================================")
new_twoD_tensor = torch.from_numpy(twoD_numpy)
print("Numpy Array -> Tensor:")
print("The tensor after converting:", new_twoD_tensor)
print("Type after converting: ", new_twoD_tensor.dtype)

# pd.DataFrame({'a':[11,21,31],'b':[12,22,312]}).values
df_values = np.array([[11, 12], [21, 22], [31, 312]])
print("Pandas Dataframe to numpy: ", df_values)
print("Type BEFORE converting: ", df_values.dtype)
print("================================================")
new_tensor = torch.from_numpy(df_values)
print("Tensor AFTER converting: ", new_tensor)
print("Type AFTER converting: ", new_tensor.dtype)

tensor_example = torch.tensor([[11, 12, 13], [21, 22, 23], [31, 32, 33]])
print("What is the value on 2nd-row 3rd-column? ", tensor_example[1, 2])
print("What is the value on 2nd-row 3rd-column? ", tensor_example[1][2])
print(tensor_example[0][0])
print("What is the value on 1st-row first two columns? ", tensor_example[0, 0:2])
print("What is the value on 1st-row first two columns? ", tensor_example[0][0:2])

sliced_tensor_example = tensor_example[1:3]
print("1. Slicing step on tensor_example: ")
print("Result after tensor_example[1:3]: ", sliced_tensor_example)
print("Dimension after tensor_example[1:3]: ", sliced_tensor_example.ndimension())
print("================================================")
print("2. Pick an index on sliced_tensor_example: ")
print("Result after sliced_tensor_example[1]: ", sliced_tensor_example[1])
print("Dimension after sliced_tensor_example[1]: ", sliced_tensor_example[1].ndimension())
print("================================================")
print("3. Combine these step together:")
print("Result: ", tensor_example[1:3][1])
print("Dimension: ", tensor_example[1:3][1].ndimension())
print("What is the value on 3rd-column last two rows? ", tensor_example[1:3, 2])

tensor_ques = torch.tensor([[11, 12, 13], [21, 22, 23], [31, 32, 33]])
tensor_ques[1:3, 1] = 0
print(tensor_ques)

X = torch.tensor([[1, 0], [0, 1]])
Y = torch.tensor([[2, 1], [1, 2]])
X_plus_Y = X + Y
print("The result of X + Y: ", X_plus_Y)
two_Y = 2 * Y
print("The result of 2Y: ", two_Y)
X_times_Y = X * Y
print("The result of X * Y: ", X_times_Y)

A = torch.tensor([[0, 1, 1], [1, 0, 1]])
B = torch.tensor([[1, 1], [1, 1], [-1, 1]])
A_times_B = torch.mm(A, B)
print("The result of A * B: ", A_times_B)

X = torch.tensor([[0, 1], [1, 2]])
Y = torch.tensor([[-1, -2, 0], [2, 1, 2]])
print(torch.mm(X, Y))

# ---- 1.2 Derivatives
x = torch.tensor(2.0, requires_grad=True)
print("The tensor x: ", x)
y = x ** 2
print("The result of y = x^2: ", y)
y.backward()
print("The dervative at x = 2: ", x.grad)

print('data:', x.data)
print('grad_fn:', x.grad_fn)
print('grad:', x.grad)
print("is_leaf:", x.is_leaf)
print("requires_grad:", x.requires_grad)

print('data:', y.data)
print('grad_fn:', y.grad_fn)
print('grad:', y.grad)  # PyTorch warns (stderr) that .grad of a non-leaf is not populated
print("is_leaf:", y.is_leaf)
print("requires_grad:", y.requires_grad)

x = torch.tensor(2.0, requires_grad=True)
y = x ** 2 + 2 * x + 1
print("The result of y = x^2 + 2x + 1: ", y)
y.backward()
print("The dervative at x = 2: ", x.grad)

x = torch.tensor(1.0, requires_grad=True)
y = 2 * x ** 3 + x
y.backward()
print("The derivative result: ", x.grad)


class SQ(torch.autograd.Function):

    @staticmethod
    def forward(ctx, i):
        result = i ** 2
        ctx.save_for_backward(i)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        i, = ctx.saved_tensors
        grad_output = 2 * i
        return grad_output


x = torch.tensor(2.0, requires_grad=True)
sq = SQ.apply
y = sq(x)
print(y)
print(y.grad_fn)
y.backward()
print(x.grad)

u = torch.tensor(1.0, requires_grad=True)
v = torch.tensor(2.0, requires_grad=True)
f = u * v + u ** 2
print("The result of v * u + u^2: ", f)
f.backward()
print("The partial derivative with respect to u: ", u.grad)
print("The partial derivative with respect to u: ", v.grad)

x = torch.linspace(-10, 10, 10, requires_grad=True)
Y = x ** 2
y = torch.sum(x ** 2)
y.backward()
print(x.detach().numpy(), Y.detach().numpy(), x.grad.detach().numpy())
print(x)
print(Y)
print(y)

x = torch.linspace(-10, 10, 1000, requires_grad=True)
Y = torch.relu(x)
y = Y.sum()
y.backward()
print(Y.detach().numpy()[495:505], x.grad.detach().numpy()[495:505], x.grad.sum())
print(y.grad_fn)

u = torch.tensor(2.0, requires_grad=True)
v = torch.tensor(1.0, requires_grad=True)
f = u * v + (u * v) ** 2
f.backward()
print("The result is ", u.grad)

# The same lab, as a learner typed it (AyadiGithub/Deep-Neural-Networks-with-PyTorch, Week 1/Differentiation.py):
# dtype=float (Python's float) gives a float64 tensor
x = torch.tensor(2, requires_grad=True, dtype=float)
z = x ** 2 + 2 * x + 1
z.backward()
print(x, z, x.grad)
u = torch.tensor(1, requires_grad=True, dtype=float)
v = torch.tensor(2, requires_grad=True, dtype=float)
f = u * v + u ** 2
f.backward()
print(f)
print(u.grad)
print(v.grad)
