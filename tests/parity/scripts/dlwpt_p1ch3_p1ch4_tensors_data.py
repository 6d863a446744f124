# Source: Stevens, Antiga & Viehmann, "Deep Learning with PyTorch", chapter 3 ("It starts with a
# tensor": storage, storage_offset, strides, views that share memory, t()/transpose/contiguous,
# dtypes and to(), indexing, NumPy interop, torch.save/load; the grayscale weighting by broadcasting
# with unsqueeze_ and by einsum('...chw,c->...hw')) and chapter 4 ("Real-world data representation using
# tensors": the wine-quality table with one-hot scatter_, mean/var normalization, boolean masks and
# torch.lt; the bike-sharing time series reshaped to days with view/transpose and its weather one-hot;
# Jane Austen's text one-hot encoded by letter and by word).
#   https://github.com/deep-learning-with-pytorch/dlwpt-code  p1ch3/1_tensors.ipynb,
#   p1ch3/2_named_tensors.ipynb, p1ch4/3_tabular_wine.ipynb, p1ch4/4_time_series_bikes.ipynb,
#   p1ch4/5_text_jane_austen.ipynb
# Shrunk: the notebook cells' displayed values are printed; the data files are synthetic and written
# to a temporary folder, then read with the notebooks' own np.loadtxt calls (a 1100-row wine table with
# the real 12 column names, 4 days of hourly bike rentals with the real 17 columns, a few lines of
# Pride and Prejudice as the text, the 'Impossible, Mr. Bennet' line as `line`); id() of the storages,
# h5py and the CUDA cells left out (no h5py, no GPU here); the named-tensor cells (names=,
# refine_names, align_as, rename) left out: PyTorch 2.13 no longer has named tensors
# (torch.tensor(..., names=['c']) raises TypeError there).
import csv
import os
import tempfile

import numpy as np
import torch


folder = tempfile.mkdtemp()

# ---------------------------------------------------------------- p1ch3/1_tensors.ipynb
a = [1.0, 2.0, 1.0]
print(a[0])
a[2] = 3.0
print(a)

a = torch.ones(3) # <2>
print(a)
print(a[1])
print(float(a[1]))
a[2] = 2.0
print(a)

points = torch.zeros(6) # <1>
points[0] = 4.0 # <2>
points[1] = 1.0
points[2] = 5.0
points[3] = 3.0
points[4] = 2.0
points[5] = 1.0
points = torch.tensor([4.0, 1.0, 5.0, 3.0, 2.0, 1.0])
print(points)
print(float(points[0]), float(points[1]))
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
print(points)
print(points.shape)
points = torch.zeros(3, 2)
print(points)
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
print(points[0, 1])
print(points[0])

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
print(points.storage())
points_storage = points.storage()
print(points_storage[0])
print(points.storage()[1])

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
points_storage = points.storage()
points_storage[0] = 2.0
print(points)

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
second_point = points[1]
print(second_point.storage_offset())
print(second_point.size())
print(second_point.shape)
print(points.stride())
second_point = points[1]
print(second_point.size())
print(second_point.storage_offset())
print(second_point.stride())

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
second_point = points[1]
second_point[0] = 10.0
print(points)

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
second_point = points[1].clone()
second_point[0] = 10.0
print(points)

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
points_t = points.t()
print(points_t)
print(points.stride())
print(points_t.stride())
some_t = torch.ones(3, 4, 5)
transpose_t = some_t.transpose(0, 2)
print(some_t.shape)
print(transpose_t.shape)
print(some_t.stride())
print(transpose_t.stride())
print(points.is_contiguous())
print(points_t.is_contiguous())

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
points_t = points.t()
print(points_t)
print(points_t.storage())
print(points_t.stride())
points_t_cont = points_t.contiguous()
print(points_t_cont)
print(points_t_cont.stride())
print(points_t_cont.storage())

double_points = torch.ones(10, 2, dtype=torch.double)
short_points = torch.tensor([[1, 2], [3, 4]], dtype=torch.short)
print(short_points.dtype)
double_points = torch.zeros(10, 2).double()
short_points = torch.ones(10, 2).short()
double_points = torch.zeros(10, 2).to(torch.double)
short_points = torch.ones(10, 2).to(dtype=torch.short)
print(double_points.dtype, short_points.dtype)

points_64 = torch.rand(5, dtype=torch.double)  # <1>
points_short = points_64.to(torch.short)
print(points_64 * points_short)  # works from PyTorch 1.3 onwards

# reset points back to original value
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
some_list = list(range(6))
print(some_list[:], some_list[1:4], some_list[1:], some_list[:4], some_list[:-1], some_list[1:4:2])
print(points[1:])       # <1>
print(points[1:, :])    # <2>
print(points[1:, 0])    # <3>
print(points[None])     # <4>

points = torch.ones(3, 4)
points_np = points.numpy()
print(points_np)
points = torch.from_numpy(points_np)

torch.save(points, os.path.join(folder, 'ourpoints.t'))
with open(os.path.join(folder, 'ourpoints.t'),'wb') as f:
   torch.save(points, f)
points = torch.load(os.path.join(folder, 'ourpoints.t'))
with open(os.path.join(folder, 'ourpoints.t'),'rb') as f:
   points = torch.load(f)
print(points)

a = torch.ones(3, 2)
a_t = torch.transpose(a, 0, 1)
print(a.shape, a_t.shape)
a = torch.ones(3, 2)
a_t = a.transpose(0, 1)
print(a.shape, a_t.shape)
a = torch.ones(3, 2)
a.zero_()
print(a)

# ---------------------------------------------------------------- p1ch3/2_named_tensors.ipynb
img_t = torch.randn(3, 5, 5) # shape [channels, rows, columns]
weights = torch.tensor([0.2126, 0.7152, 0.0722])
batch_t = torch.randn(2, 3, 5, 5) # shape [batch, channels, rows, columns]
img_gray_naive = img_t.mean(-3)
batch_gray_naive = batch_t.mean(-3)
print(img_gray_naive.shape, batch_gray_naive.shape)
unsqueezed_weights = weights.unsqueeze(-1).unsqueeze_(-1)
img_weights = (img_t * unsqueezed_weights)
batch_weights = (batch_t * unsqueezed_weights)
img_gray_weighted = img_weights.sum(-3)
batch_gray_weighted = batch_weights.sum(-3)
print(batch_weights.shape, batch_t.shape, unsqueezed_weights.shape)
img_gray_weighted_fancy = torch.einsum('...chw,c->...hw', img_t, weights)
batch_gray_weighted_fancy = torch.einsum('...chw,c->...hw', batch_t, weights)
print(batch_gray_weighted_fancy.shape)
print(img_gray_weighted_fancy[0], (batch_gray_weighted_fancy - batch_gray_weighted).abs().max() < 1e-5)

# ---------------------------------------------------------------- p1ch4/3_tabular_wine.ipynb
torch.set_printoptions(edgeitems=2, precision=2, linewidth=75)

wine_path = os.path.join(folder, "winequality-white.csv")  # a synthetic table with the real header
wine_columns = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
                "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol",
                "quality"]
wine_scale = torch.tensor([7.0, 0.3, 0.3, 6.0, 0.05, 35.0, 140.0, 1.0, 3.2, 0.5, 10.0])
synthetic_wine = torch.cat([wine_scale * (0.5 + torch.rand(1100, 11)),
                            torch.randint(3, 10, (1100, 1)).float()], dim=1)
np.savetxt(wine_path, synthetic_wine.numpy(), fmt="%.4g", delimiter=";",
           header=";".join('"%s"' % c for c in wine_columns), comments="")

wineq_numpy = np.loadtxt(wine_path, dtype=np.float32, delimiter=";",
                         skiprows=1)
print(wineq_numpy.shape)
col_list = next(csv.reader(open(wine_path), delimiter=';'))
print(wineq_numpy.shape, col_list)
wineq = torch.from_numpy(wineq_numpy)
print(wineq.shape, wineq.dtype)
data = wineq[:, :-1] # <1>
print(data, data.shape)
target = wineq[:, -1] # <2>
print(target, target.shape)
target = wineq[:, -1].long()
print(target)
target_onehot = torch.zeros(target.shape[0], 10)
print(target_onehot.scatter_(1, target.unsqueeze(1), 1.0))
target_unsqueezed = target.unsqueeze(1)
print(target_unsqueezed)
data_mean = torch.mean(data, dim=0)
print(data_mean)
data_var = torch.var(data, dim=0)
print(data_var)
data_normalized = (data - data_mean) / torch.sqrt(data_var)
print(data_normalized)
bad_indexes = target <= 3 # <1>
print(bad_indexes.shape, bad_indexes.dtype, bad_indexes.sum())
bad_data = data[bad_indexes]
print(bad_data.shape)
bad_data = data[target <= 3]
mid_data = data[(target > 3) & (target < 7)] # <1>
good_data = data[target >= 7]

bad_mean = torch.mean(bad_data, dim=0)
mid_mean = torch.mean(mid_data, dim=0)
good_mean = torch.mean(good_data, dim=0)

for i, args in enumerate(zip(col_list, bad_mean, mid_mean, good_mean)):
    print('{:2} {:20} {:6.2f} {:6.2f} {:6.2f}'.format(i, *args))
total_sulfur_threshold = 141.83
total_sulfur_data = data[:,6]
predicted_indexes = torch.lt(total_sulfur_data, total_sulfur_threshold)
print(predicted_indexes.shape, predicted_indexes.dtype, predicted_indexes.sum())
actual_indexes = target > 5
print(actual_indexes.shape, actual_indexes.dtype, actual_indexes.sum())
n_matches = torch.sum(actual_indexes & predicted_indexes).item()
n_predicted = torch.sum(predicted_indexes).item()
n_actual = torch.sum(actual_indexes).item()
print(n_matches, n_matches / n_predicted, n_matches / n_actual)

# ---------------------------------------------------------------- p1ch4/4_time_series_bikes.ipynb
torch.set_printoptions(edgeitems=2, threshold=50, linewidth=75)

bikes_path = os.path.join(folder, "hour-fixed.csv")  # 4 synthetic days of the real 17 columns
with open(bikes_path, "w") as f:
    f.write("instant,dteday,season,yr,mnth,hr,holiday,weekday,workingday,weathersit,"
            "temp,atemp,hum,windspeed,casual,registered,cnt\n")
    weathersit = torch.randint(1, 5, (96,))
    measures = torch.rand(96, 4)
    riders = torch.randint(0, 200, (96, 2))
    for hour in range(96):
        day = hour // 24
        f.write("%d,2011-01-%02d,1,0,1,%d,0,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%d,%d,%d\n" % (
            hour + 1, day + 1, hour % 24, (day + 6) % 7, int(day % 7 not in (0, 1)),
            weathersit[hour], *measures[hour].tolist(), *riders[hour].tolist(), riders[hour].sum()))

bikes_numpy = np.loadtxt(
    bikes_path,
    dtype=np.float32,
    delimiter=",",
    skiprows=1,
    converters={1: lambda x: float(x[8:10])}) # <1>
bikes = torch.from_numpy(bikes_numpy)
print(bikes)
print(bikes.shape, bikes.stride())
daily_bikes = bikes.view(-1, 24, bikes.shape[1])
print(daily_bikes.shape, daily_bikes.stride())
daily_bikes = daily_bikes.transpose(1, 2)
print(daily_bikes.shape, daily_bikes.stride())
first_day = bikes[:24].long()
weather_onehot = torch.zeros(first_day.shape[0], 4)
print(first_day[:,9])
print(weather_onehot.scatter_(
    dim=1,
    index=first_day[:,9].unsqueeze(1).long() - 1, # <1>
    value=1.0))
print(torch.cat((bikes[:24], weather_onehot), 1)[:1])
daily_weather_onehot = torch.zeros(daily_bikes.shape[0], 4,
                                   daily_bikes.shape[2])
print(daily_weather_onehot.shape)
daily_weather_onehot.scatter_(
    1, daily_bikes[:,9,:].long().unsqueeze(1) - 1, 1.0)
print(daily_weather_onehot.shape)
daily_bikes = torch.cat((daily_bikes, daily_weather_onehot), dim=1)
daily_bikes[:, 9, :] = (daily_bikes[:, 9, :] - 1.0) / 3.0
temp = daily_bikes[:, 10, :]
temp_min = torch.min(temp)
temp_max = torch.max(temp)
daily_bikes[:, 10, :] = ((daily_bikes[:, 10, :] - temp_min)
                         / (temp_max - temp_min))
temp = daily_bikes[:, 10, :]
daily_bikes[:, 10, :] = ((daily_bikes[:, 10, :] - torch.mean(temp))
                         / torch.std(temp))
print(daily_bikes.shape, daily_bikes[:, 9:11, :3], daily_bikes[:, 17:, 0])

# ---------------------------------------------------------------- p1ch4/5_text_jane_austen.ipynb
torch.set_printoptions(edgeitems=2, threshold=50)

text = ("It is a truth universally acknowledged, that a single man in possession\n"
        "of a good fortune, must be in want of a wife.\n"
        "\n"
        "“But it is,” returned she; “for Mrs. Long has just been here, and she\n"
        "told me all about it.”\n"
        "“Impossible, Mr. Bennet, impossible, when I am not acquainted with him\n"
        "myself; how can you be so teasing?”\n")
lines = text.split('\n')
line = lines[5]
print(line)
letter_t = torch.zeros(len(line), 128) # <1>
print(letter_t.shape)
for i, letter in enumerate(line.lower().strip()):
    letter_index = ord(letter) if ord(letter) < 128 else 0  # <1>
    letter_t[i][letter_index] = 1
print(letter_t.sum(dim=0).nonzero().flatten(), letter_t.argmax(dim=1)[:10])


def clean_words(input_str):
    punctuation = '.,;:"!?”“_-'
    word_list = input_str.lower().replace('\n',' ').split()
    word_list = [word.strip(punctuation) for word in word_list]
    return word_list


words_in_line = clean_words(line)
print(line, words_in_line)
word_list = sorted(set(clean_words(text)))
word2index_dict = {word: i for (i, word) in enumerate(word_list)}
print(len(word2index_dict), word2index_dict['impossible'])
word_t = torch.zeros(len(words_in_line), len(word2index_dict))
for i, word in enumerate(words_in_line):
    word_index = word2index_dict[word]
    word_t[i][word_index] = 1
    print('{:2} {:4} {}'.format(i, word_index, word))

print(word_t.shape)
word_t = word_t.unsqueeze(1)
print(word_t.shape)
print([(c, ord(c)) for c in sorted(set(text))])
