# Source: Jose Portilla / Pierian Data, "PyTorch for Deep Learning with Python Bootcamp",
#   02-ANN-Artificial-Neural-Networks/04a-Full-ANN-Code-Along-Regression.ipynb (NYC taxi fares:
#   nn.Embedding per categorical column, BatchNorm1d, Dropout, RMSE from MSELoss, Adam, save/load)
#   (as kept in https://github.com/qalmaqihir/qalmaqihir.github.io
#    docs/bootcampsnotes/pytorchDLbootcamp/02-ANN-Artificial-Neural-Networks/04a-Full-ANN-Code-Along-Regression.md)
# Shrunk: synthetic taxi records (60 rows instead of 120,000 read from NYCTaxiFares.csv) made with
# numpy; pandas' datetime/category steps done with numpy (np.unique gives the same sorted category
# codes); 12 epochs instead of 300 (float32 last-bit differences in the Adam updates grow past
# the tolerance by epoch 30); the trained state_dict is saved to an in-memory buffer instead of
# TaxiFareRegrModel.pt; test_data() takes its answers as arguments instead of input().
import io
import time

import torch
import torch.nn as nn

import numpy as np

# ---- synthetic stand-in for pd.read_csv('../Data/NYCTaxiFares.csv') ----
rng = np.random.RandomState(101)
n_rows = 60
pickup_latitude = 40.73 + 0.03 * rng.randn(n_rows)
pickup_longitude = -73.99 + 0.03 * rng.randn(n_rows)
dropoff_latitude = pickup_latitude + 0.02 * rng.randn(n_rows)
dropoff_longitude = pickup_longitude + 0.02 * rng.randn(n_rows)
passenger_count = rng.randint(1, 6, n_rows)
utc_hour = rng.randint(0, 24, n_rows)
day = rng.randint(11, 25, n_rows)               # April 11..24, 2010 as in the course data
weekdays = np.array(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'])


def haversine_distance(df, lat1, long1, lat2, long2):
    """
    Calculates the haversine distance between 2 sets of GPS coordinates in df
    """
    r = 6371  # average radius of Earth in kilometers

    phi1 = np.radians(df[lat1])
    phi2 = np.radians(df[lat2])

    delta_phi = np.radians(df[lat2] - df[lat1])
    delta_lambda = np.radians(df[long2] - df[long1])

    a = np.sin(delta_phi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(delta_lambda / 2) ** 2
    c = 2 * np.arctan2(np.sqrt(a), np.sqrt(1 - a))
    d = (r * c)  # in kilometers

    return d


df = {'pickup_latitude': pickup_latitude, 'pickup_longitude': pickup_longitude,
      'dropoff_latitude': dropoff_latitude, 'dropoff_longitude': dropoff_longitude,
      'passenger_count': passenger_count}
df['dist_km'] = haversine_distance(df, 'pickup_latitude', 'pickup_longitude', 'dropoff_latitude', 'dropoff_longitude')
df['fare_amount'] = np.round(2.5 + 2.1 * df['dist_km'] + 0.3 * passenger_count + rng.rand(n_rows), 2)

# EDT = UTC-4
edt_hour = (utc_hour - 4) % 24
edt_day = day - (utc_hour < 4)
df['Hour'] = edt_hour
df['AMorPM'] = np.where(df['Hour'] < 12, 'am', 'pm')
df['Weekday'] = weekdays[(edt_day - 11) % 7]      # April 11, 2010 was a Sunday
print(df['fare_amount'][:5], df['dist_km'][:5].round(6))

cat_cols = ['Hour', 'AMorPM', 'Weekday']
cont_cols = ['pickup_latitude', 'pickup_longitude', 'dropoff_latitude', 'dropoff_longitude', 'passenger_count', 'dist_km']
y_col = ['fare_amount']

# Categorify: df[cat].astype('category') then .cat.categories / .cat.codes
categories, codes = {}, {}
for cat in cat_cols:
    categories[cat], codes[cat] = np.unique(df[cat], return_inverse=True)
print(categories['AMorPM'], codes['AMorPM'][:5])
print(categories['Weekday'], codes['Weekday'][:5])

hr = codes['Hour']
ampm = codes['AMorPM']
wkdy = codes['Weekday']
cats = np.stack([hr, ampm, wkdy], 1).astype(np.int8)
print(cats[:5])

# Convert categorical variables to a tensor
cats = torch.tensor(cats, dtype=torch.int64)
print(cats[:5])

# Convert continuous variables to a tensor
conts = np.stack([df[col] for col in cont_cols], 1)
conts = torch.tensor(conts, dtype=torch.float)
print(conts[:5])
print(conts.type())

# Convert labels to a tensor
y = torch.tensor(df[y_col[0]], dtype=torch.float).reshape(-1, 1)
print(y[:5])
print(cats.shape)
print(conts.shape)
print(y.shape)

# This will set embedding sizes for Hours, AMvsPM and Weekdays
cat_szs = [24, len(categories['AMorPM']), 7]
emb_szs = [(size, min(50, (size + 1) // 2)) for size in cat_szs]
print(emb_szs)

# ---- Breaking down the embeddings steps (illustration cells) ----
catz = cats[:4]
print(catz)
selfembeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
print(selfembeds)
print(list(enumerate(selfembeds)))
embeddingz = []
for i, e in enumerate(selfembeds):
    embeddingz.append(e(catz[:, i]))
print(embeddingz)
z = torch.cat(embeddingz, 1)
print(z)
selfembdrop = nn.Dropout(.4)
z = selfembdrop(z)
print(z)


class TabularModel(nn.Module):

    def __init__(self, emb_szs, n_cont, out_sz, layers, p=0.5):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
        self.emb_drop = nn.Dropout(p)
        self.bn_cont = nn.BatchNorm1d(n_cont)

        layerlist = []
        n_emb = sum((nf for ni, nf in emb_szs))
        n_in = n_emb + n_cont

        for i in layers:
            layerlist.append(nn.Linear(n_in, i))
            layerlist.append(nn.ReLU(inplace=True))
            layerlist.append(nn.BatchNorm1d(i))
            layerlist.append(nn.Dropout(p))
            n_in = i
        layerlist.append(nn.Linear(layers[-1], out_sz))

        self.layers = nn.Sequential(*layerlist)

    def forward(self, x_cat, x_cont):
        embeddings = []
        for i, e in enumerate(self.embeds):
            embeddings.append(e(x_cat[:, i]))
        x = torch.cat(embeddings, 1)
        x = self.emb_drop(x)

        x_cont = self.bn_cont(x_cont)
        x = torch.cat([x, x_cont], 1)
        x = self.layers(x)
        return x


torch.manual_seed(33)
model = TabularModel(emb_szs, conts.shape[1], 1, [200, 100], p=0.4)
print(model)

criterion = nn.MSELoss()  # we'll convert this to RMSE later
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

batch_size = 60
test_size = int(batch_size * .2)

cat_train = cats[:batch_size - test_size]
cat_test = cats[batch_size - test_size:batch_size]
con_train = conts[:batch_size - test_size]
con_test = conts[batch_size - test_size:batch_size]
y_train = y[:batch_size - test_size]
y_test = y[batch_size - test_size:batch_size]
print(len(cat_train))
print(len(cat_test))

start_time = time.time()

epochs = 12
losses = []

for i in range(epochs):
    i += 1
    y_pred = model(cat_train, con_train)
    loss = torch.sqrt(criterion(y_pred, y_train))  # RMSE
    losses.append(loss)

    # a neat trick to save screen space:
    if i % 3 == 1:
        print(f'epoch: {i:3}  loss: {loss.item():10.8f}')

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f'epoch: {i:3}  loss: {loss.item():10.8f}')  # print the last line
duration = time.time() - start_time
print(model.bn_cont.running_mean, model.bn_cont.running_var, model.bn_cont.num_batches_tracked)

# TO EVALUATE THE ENTIRE TEST SET
with torch.no_grad():
    y_val = model(cat_test, con_test)
    loss = torch.sqrt(criterion(y_val, y_test))
print(f'RMSE: {loss:.8f}')

print(f'{"PREDICTED":>12} {"ACTUAL":>8} {"DIFF":>8}')
for i in range(10):
    diff = np.abs(y_val[i].item() - y_test[i].item())
    print(f'{i+1:2}. {y_val[i].item():8.4f} {y_test[i].item():8.4f} {diff:8.4f}')

# Make sure to save the model only after the training has happened!
buffer = io.BytesIO()
if len(losses) == epochs:
    torch.save(model.state_dict(), buffer)
else:
    print('Model has not been trained. Consider loading a trained model instead.')
print(list(model.state_dict().keys()))

# Loading a saved model (starting from scratch)
emb_szs = [(24, 12), (2, 1), (7, 4)]
model2 = TabularModel(emb_szs, 6, 1, [200, 100], p=0.4)
buffer.seek(0)
print(model2.load_state_dict(torch.load(buffer)))
print(model2.eval())


def test_data(mdl, plat, plong, dlat, dlong, psngr, dt):  # pass in the name of the new model
    # PREPROCESS THE DATA
    dfx = {'pickup_latitude': np.array([plat]), 'pickup_longitude': np.array([plong]),
           'dropoff_latitude': np.array([dlat]), 'dropoff_longitude': np.array([dlong]),
           'passenger_count': np.array([psngr])}
    dfx['dist_km'] = haversine_distance(dfx, 'pickup_latitude', 'pickup_longitude',
                                        'dropoff_latitude', 'dropoff_longitude')
    day, hour = int(dt[8:10]), int(dt[11:13])
    dfx['Hour'] = np.array([hour])
    dfx['AMorPM'] = np.where(dfx['Hour'] < 12, 0, 1)
    wk = weekdays[(day - 11) % 7]
    dfx['Weekday'] = np.array([['Fri', 'Mon', 'Sat', 'Sun', 'Thu', 'Tue', 'Wed'].index(wk)]).astype('int64')
    # CREATE CAT AND CONT TENSORS
    cat_cols = ['Hour', 'AMorPM', 'Weekday']
    cont_cols = ['pickup_latitude', 'pickup_longitude', 'dropoff_latitude',
                 'dropoff_longitude', 'passenger_count', 'dist_km']
    xcats = np.stack([dfx[col] for col in cat_cols], 1)
    xcats = torch.tensor(xcats, dtype=torch.int64)
    xconts = np.stack([dfx[col] for col in cont_cols], 1)
    xconts = torch.tensor(xconts, dtype=torch.float)

    # PASS NEW DATA THROUGH THE MODEL WITHOUT PERFORMING A BACKPROP
    with torch.no_grad():
        z = mdl(xcats, xconts)
    print(f'\nThe predicted fare amount is ${z.item():.2f}')
    return z


z = test_data(model2, 40.5, -73.9, 40.52, -73.92, 2, '2010-04-15 16:00:00')
print(z)
