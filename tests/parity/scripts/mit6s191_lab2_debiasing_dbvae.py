# Source: MIT 6.S191 Introduction to Deep Learning, Lab 2 Part 2 (PyTorch): "Debiasing Facial
# Detection Systems" - make_standard_classifier (ConvBlock: Conv2d, ReLU(inplace=True),
# BatchNorm2d), BCEWithLogitsLoss + Adam training, evaluation under torch.inference_mode, the VAE
# loss, reparameterisation with randn_like, the DB-VAE loss with
# F.binary_cross_entropy_with_logits(reduction="none"), the ConvTranspose2d face decoder, DB_VAE,
# get_latent_mu / get_training_sample_probabilities (numpy histogram resampling) and the DB-VAE
# training loop, then the per-group test predictions of both models.
#   https://github.com/MITDeepLearning/introtodeeplearning  lab2/solutions/PT_Part2_Debiasing_Solution.ipynb
#   (TrainingDatasetLoader, get_test_faces, plot_sample and LossHistory from mitdeeplearning/lab2.py
#   and util.py, the parts the notebook uses)
# Shrunk: a synthetic in-memory loader (48 uint8 64x64x3 images, half "faces" with a bright blob)
# instead of the CelebA/ImageNet h5 download; 4 synthetic test faces per group instead of the PNGs;
# batch 8, 1 epoch of the standard CNN, 2 epochs of 3 steps of the DB-VAE; comet_ml, tqdm, the
# plotter and figures left out (plot_sample's tensor work kept, its figure replaced by a print);
# CPU instead of requiring a GPU.
import os
import random
import functools
import numpy as np

# Import torch
import torch
import torch.nn as nn
import torch.optim as optim
import torch.nn.functional as F
import torch.backends.cudnn as cudnn

if torch.cuda.is_available():
    device = torch.device("cuda")
    cudnn.benchmark = True
else:
    device = torch.device("cpu")  # the notebook raises ValueError here
print(device, cudnn.benchmark)


class LossHistory:
    def __init__(self, smoothing_factor=0.0):
        self.alpha = smoothing_factor
        self.loss = []

    def append(self, value):
        self.loss.append(
            self.alpha * self.loss[-1] + (1 - self.alpha) * value
            if len(self.loss) > 0
            else value
        )

    def get(self):
        return self.loss


class TrainingDatasetLoader(object):
    """mdl.lab2.TrainingDatasetLoader with the h5 file replaced by synthetic arrays."""

    def __init__(self, n, channels_last=True):
        rng = np.random.RandomState(1)
        images = rng.randint(0, 120, size=(n, 64, 64, 3)).astype(np.uint8)
        labels = np.zeros((n, 1), dtype=np.float32)
        labels[: n // 2] = 1.0
        images[: n // 2, 16:48, 16:48, :] += 100  # faces: a bright square in the middle
        self.images = images
        self.channels_last = channels_last
        self.labels = labels.astype(np.float32)
        self.image_dims = self.images.shape
        n_train_samples = self.image_dims[0]

        self.train_inds = np.random.permutation(np.arange(n_train_samples))

        self.pos_train_inds = self.train_inds[self.labels[self.train_inds, 0] == 1.0]
        self.neg_train_inds = self.train_inds[self.labels[self.train_inds, 0] != 1.0]

    def get_train_size(self):
        return self.train_inds.shape[0]

    def get_batch(self, n, only_faces=False, p_pos=None, p_neg=None, return_inds=False):
        if only_faces:
            selected_inds = np.random.choice(
                self.pos_train_inds, size=n, replace=False, p=p_pos
            )
        else:
            selected_pos_inds = np.random.choice(
                self.pos_train_inds, size=n // 2, replace=False, p=p_pos
            )
            selected_neg_inds = np.random.choice(
                self.neg_train_inds, size=n // 2, replace=False, p=p_neg
            )
            selected_inds = np.concatenate((selected_pos_inds, selected_neg_inds))

        sorted_inds = np.sort(selected_inds)
        train_img = (self.images[sorted_inds, :, :, ::-1] / 255.0).astype(np.float32)
        train_label = self.labels[sorted_inds, ...]

        if not self.channels_last:
            train_img = np.ascontiguousarray(
                np.transpose(train_img, (0, 3, 1, 2))
            )  # [B, H, W, C] -> [B, C, H, W]
        return (
            (train_img, train_label, sorted_inds)
            if return_inds
            else (train_img, train_label)
        )

    def get_all_train_faces(self):
        return self.images[self.pos_train_inds]


def get_test_faces(channels_last=True):
    """mdl.lab2.get_test_faces with the PNG files replaced by synthetic images in [0, 1]."""
    rng = np.random.RandomState(2)
    images = {"LF": [], "LM": [], "DF": [], "DM": []}
    for k, key in enumerate(images.keys()):
        for _ in range(4):
            image = rng.uniform(0, 0.4, size=(64, 64, 3)) + 0.1 * k
            image[16:48, 16:48, :] += 0.4
            if not channels_last:
                image = np.transpose(image, (2, 0, 1))
            images[key].append(image)

    return images["LF"], images["LM"], images["DF"], images["DM"]


# Instantiate a TrainingDatasetLoader using the (synthetic) dataset
channels_last = False
loader = TrainingDatasetLoader(48, channels_last=channels_last)

number_of_training_examples = loader.get_train_size()
(images, labels) = loader.get_batch(16)
print(number_of_training_examples, images.shape, images.dtype, labels.shape, labels[:, 0])

B, C, H, W = images.shape

face_images = images[np.where(labels == 1)[0]].transpose(0, 2, 3, 1)
not_face_images = images[np.where(labels == 0)[0]].transpose(0, 2, 3, 1)
print(face_images.shape, not_face_images.shape)

### Define the CNN model ###

n_filters = 12  # base number of convolutional filters
in_channels = images.shape[1]


def make_standard_classifier(n_outputs):
    """Create a standard CNN classifier."""

    # Start by first defining a convolutional block
    class ConvBlock(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
            self.relu = nn.ReLU(inplace=True)
            self.bn = nn.BatchNorm2d(out_channels)

        def forward(self, x):
            x = self.conv(x)
            x = self.relu(x)
            x = self.bn(x)
            return x

    # now use the block to define the classifier
    model = nn.Sequential(
        ConvBlock(in_channels, n_filters, kernel_size=5, stride=2, padding=2),
        ConvBlock(n_filters, 2 * n_filters, kernel_size=5, stride=2, padding=2),
        ConvBlock(2 * n_filters, 4 * n_filters, kernel_size=3, stride=2, padding=1),
        ConvBlock(4 * n_filters, 6 * n_filters, kernel_size=3, stride=2, padding=1),
        nn.Flatten(),
        nn.Linear(H // 16 * W // 16 * 6 * n_filters, 512),
        nn.ReLU(inplace=True),
        nn.Linear(512, n_outputs),
    )

    return model.to(device)


# call the function to instantiate a classifier model
standard_classifier = make_standard_classifier(n_outputs=1)
print(standard_classifier)

### Train the standard CNN ###
loss_fn = nn.BCEWithLogitsLoss()
# Training hyperparameters
params = dict(
    batch_size=8,
    num_epochs=1,  # keep small to run faster
    learning_rate=5e-4,
)

optimizer = optim.Adam(
    standard_classifier.parameters(), lr=params["learning_rate"]
)  # define our optimizer
loss_history = LossHistory(smoothing_factor=0.99)  # to record loss evolution

# set the model to train mode
standard_classifier.train()


def standard_train_step(x, y):
    x = torch.from_numpy(x).float().to(device)
    y = torch.from_numpy(y).float().to(device)

    # clear the gradients
    optimizer.zero_grad()

    # feed the images into the model
    logits = standard_classifier(x)
    # Compute the loss
    loss = loss_fn(logits, y)

    # Backpropagation
    loss.backward()
    optimizer.step()

    return loss


# The training loop!
step = 0
for epoch in range(params["num_epochs"]):
    for idx in range(loader.get_train_size() // params["batch_size"]):
        # Grab a batch of training data and propagate through the network
        x, y = loader.get_batch(params["batch_size"])
        loss = standard_train_step(x, y)
        loss_value = loss.detach().cpu().numpy()

        # Record the loss and plot the evolution of the loss as a function of training
        loss_history.append(loss_value)
        print("step", step, loss_value, type(loss_value).__name__, loss_value.dtype, loss_value.shape)
        step += 1

print("loss history:", np.round(np.array(loss_history.get(), dtype=np.float64), 4))
print(standard_classifier[0].bn.running_mean[:4], standard_classifier[0].bn.num_batches_tracked)

### Evaluation of standard CNN ###

# set the model to eval mode
standard_classifier.eval()

# TRAINING DATA
# Evaluate on a subset of CelebA+Imagenet
(batch_x, batch_y) = loader.get_batch(20)
batch_x = torch.from_numpy(batch_x).float().to(device)
batch_y = torch.from_numpy(batch_y).float().to(device)

with torch.inference_mode():
    y_pred_logits = standard_classifier(batch_x)
    y_pred_standard = torch.round(torch.sigmoid(y_pred_logits))
    acc_standard = torch.mean((batch_y == y_pred_standard).float())

print(
    "Standard CNN accuracy on (potentially biased) training set: {:.4f}".format(
        acc_standard.item()
    )
)
print(y_pred_logits.is_inference(), y_pred_logits.requires_grad, y_pred_logits[:4, 0])

### Load test dataset ###

test_faces = get_test_faces(channels_last=channels_last)
keys = ["Light Female", "Light Male", "Dark Female", "Dark Male"]
print(np.hstack(test_faces[0]).transpose(1, 2, 0).shape)

### Evaluate the standard CNN on the test data ###

standard_classifier_probs_list = []  # store each demographic's probabilities

with torch.inference_mode():
    for x in test_faces:
        x = torch.from_numpy(np.array(x, dtype=np.float32)).to(device)
        logits = standard_classifier(x)  # [B, 1]
        probs = torch.sigmoid(logits)  # [B, 1]
        probs = torch.squeeze(probs, dim=-1)  # shape [B]
        standard_classifier_probs_list.append(probs.cpu().numpy())

standard_classifier_probs = np.stack(standard_classifier_probs_list, axis=0)

# In place of the bar plot of the prediction accuracies per demographic
xx = range(len(keys))
yy = standard_classifier_probs.mean(axis=1)  # shape [D]
print("Standard classifier predictions:", dict(zip(keys, np.round(yy, 4))))
print(max(0, yy.min() - np.ptp(yy) / 2.0) >= 0, standard_classifier_probs.shape)


### Defining the VAE loss function ###

def vae_loss_function(x, x_recon, mu, logsigma, kl_weight=0.0005):
    # TODO: Define the latent loss. Note this is given in the equation for L_{KL}
    # in the text block directly above
    latent_loss = 0.5 * torch.sum(torch.exp(logsigma) + mu**2 - 1 - logsigma, dim=1)

    # TODO: Define the reconstruction loss as the mean absolute pixel-wise
    # difference between the input and reconstruction.
    reconstruction_loss = torch.mean(torch.abs(x - x_recon), dim=(1, 2, 3))

    # TODO: Define the VAE loss. Note this is given in the equation for L_{VAE}
    # in the text block directly above
    vae_loss = kl_weight * latent_loss + reconstruction_loss

    return vae_loss


### VAE Reparameterization ###

def sampling(z_mean, z_logsigma):
    # Generate random noise with the same shape as z_mean, sampled from a standard normal distribution (mean=0, std=1)
    eps = torch.randn_like(z_mean)

    # # TODO: Define the reparameterization computation!
    z = z_mean + torch.exp(z_logsigma) * eps

    return z


### Loss function for DB-VAE ###

def debiasing_loss_function(x, x_pred, y, y_logit, mu, logsigma):
    # TODO: call the relevant function to obtain VAE loss
    vae_loss = vae_loss_function(x, x_pred, mu, logsigma)

    # TODO: define the classification loss using binary_cross_entropy
    classification_loss = F.binary_cross_entropy_with_logits(
        y_logit, y, reduction="none"
    )

    # Use the training data labels to create variable face_indicator:
    #   indicator that reflects which training data are images of faces
    y = y.float()
    face_indicator = (y == 1.0).float()

    # TODO: define the DB-VAE total loss! Use torch.mean to average over all
    # samples
    total_loss = torch.mean(classification_loss * face_indicator + vae_loss)

    return total_loss, classification_loss


### Define the decoder portion of the DB-VAE ###

n_filters = 12  # base number of convolutional filters, same as standard CNN
latent_dim = 100  # number of latent variables


def make_face_decoder_network(latent_dim=100, n_filters=12):
    """
    Function builds a face-decoder network.
    """

    class FaceDecoder(nn.Module):
        def __init__(self, latent_dim, n_filters):
            super(FaceDecoder, self).__init__()

            self.latent_dim = latent_dim
            self.n_filters = n_filters

            # Linear (fully connected) layer to project from latent space
            # to a 4 x 4 feature map with (6*n_filters) channels
            self.linear = nn.Sequential(
                nn.Linear(latent_dim, 4 * 4 * 6 * n_filters), nn.ReLU()
            )

            # Convolutional upsampling (inverse of an encoder)
            self.deconv = nn.Sequential(
                # [B, 6n_filters, 4, 4] -> [B, 4n_filters, 8, 8]
                nn.ConvTranspose2d(
                    in_channels=6 * n_filters,
                    out_channels=4 * n_filters,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                nn.ReLU(),
                # [B, 4n_filters, 8, 8] -> [B, 2n_filters, 16, 16]
                nn.ConvTranspose2d(
                    in_channels=4 * n_filters,
                    out_channels=2 * n_filters,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                nn.ReLU(),
                # [B, 2n_filters, 16, 16] -> [B, n_filters, 32, 32]
                nn.ConvTranspose2d(
                    in_channels=2 * n_filters,
                    out_channels=n_filters,
                    kernel_size=5,
                    stride=2,
                    padding=2,
                    output_padding=1,
                ),
                nn.ReLU(),
                # [B, n_filters, 32, 32] -> [B, 3, 64, 64]
                nn.ConvTranspose2d(
                    in_channels=n_filters,
                    out_channels=3,
                    kernel_size=5,
                    stride=2,
                    padding=2,
                    output_padding=1,
                ),
            )

        def forward(self, z):
            x = self.linear(z)  # [B, 4*4*6*n_filters]
            x = x.view(-1, 6 * self.n_filters, 4, 4)  # [B, 6n_filters, 4, 4]

            # Upsample through transposed convolutions
            x = self.deconv(x)  # [B, 3, 64, 64]
            return x

    return FaceDecoder(latent_dim, n_filters)


### Defining and creating the DB-VAE ###


class DB_VAE(nn.Module):
    def __init__(self, latent_dim=100):
        super(DB_VAE, self).__init__()
        self.latent_dim = latent_dim

        # Define the number of outputs for the encoder.
        self.encoder = make_standard_classifier(n_outputs=2 * latent_dim + 1)
        self.decoder = make_face_decoder_network()

    # function to feed images into encoder, encode the latent space, and output
    def encode(self, x):
        encoder_output = self.encoder(x)

        # classification prediction
        y_logit = encoder_output[:, 0].unsqueeze(-1)
        # latent variable distribution parameters
        z_mean = encoder_output[:, 1: self.latent_dim + 1]
        z_logsigma = encoder_output[:, self.latent_dim + 1:]

        return y_logit, z_mean, z_logsigma

    # VAE reparameterization: given a mean and logsigma, sample latent variables
    def reparameterize(self, z_mean, z_logsigma):
        # TODO: call the sampling function defined above
        z = sampling(z_mean, z_logsigma)
        return z

    # Decode the latent space and output reconstruction
    def decode(self, z):
        # TODO: use the decoder to output the reconstruction
        reconstruction = self.decoder(z)
        return reconstruction

    # The forward function will be used to pass inputs x through the core VAE
    def forward(self, x):
        # Encode input to a prediction and latent space
        y_logit, z_mean, z_logsigma = self.encode(x)

        # TODO: reparameterization
        z = self.reparameterize(z_mean, z_logsigma)

        # TODO: reconstruction
        recon = self.decode(z)

        return y_logit, z_mean, z_logsigma, recon

    # Predict face or not face logit for given input x
    def predict(self, x):
        y_logit, z_mean, z_logsigma = self.encode(x)
        return y_logit


dbvae = DB_VAE(latent_dim)
print(dbvae.decoder)
print(sum(p.numel() for p in dbvae.parameters()))


# Function to return the means for an input image batch

def get_latent_mu(images, dbvae, batch_size=64):
    dbvae.eval()
    all_z_mean = []

    # If images is NumPy, convert once outside the loop
    images_t = torch.from_numpy(images).float()

    with torch.inference_mode():
        for start in range(0, len(images_t), batch_size):
            end = start + batch_size
            batch = images_t[start:end]
            batch = batch.to(device).permute(0, 3, 1, 2)
            # Forward pass on this chunk only
            _, z_mean, _, _ = dbvae(batch)
            all_z_mean.append(z_mean.cpu())

    # Concatenate all partial z_mean
    z_mean_full = torch.cat(all_z_mean, dim=0)  # shape [N, latent_dim]
    mu = z_mean_full.numpy()  # convert to NumPy if needed
    return mu


### Resampling algorithm for DB-VAE ###

def get_training_sample_probabilities(images, dbvae, bins=10, smoothing_fac=0.001):
    print("Recomputing the sampling probabilities")

    # TODO: run the input batch and get the latent variable means
    mu = get_latent_mu(images, dbvae)
    print("mu", mu.shape, mu.dtype, np.round(mu[:2, :4], 4))

    # sampling probabilities for the images
    training_sample_p = np.zeros(mu.shape[0], dtype=np.float64)

    # consider the distribution for each latent variable
    for i in range(latent_dim):
        latent_distribution = mu[:, i]
        # generate a histogram of the latent distribution
        hist_density, bin_edges = np.histogram(
            latent_distribution, density=True, bins=bins
        )

        # find which latent bin every data sample falls in
        bin_edges[0] = -float("inf")
        bin_edges[-1] = float("inf")

        # TODO: call the digitize function to find which bins in the latent distribution
        #    every data sample falls in to
        bin_idx = np.digitize(latent_distribution, bin_edges)

        # smooth the density function
        hist_smoothed_density = hist_density + smoothing_fac
        hist_smoothed_density = hist_smoothed_density / np.sum(hist_smoothed_density)

        # invert the density function
        p = 1.0 / (hist_smoothed_density[bin_idx - 1])

        # TODO: normalize all probabilities
        p = p / np.sum(p)

        # TODO: update sampling probabilities by considering whether the newly
        #     computed p is greater than the existing sampling probabilities.
        training_sample_p = np.maximum(training_sample_p, p)

    # final normalization
    training_sample_p /= np.sum(training_sample_p)

    return training_sample_p


def plot_sample(x, y, vae):
    """mdl.util.plot_sample(backend='pt'): its tensor work, the figure replaced by a print."""
    y = y.detach().cpu().numpy()
    face_indices = np.where(y == 1)[0]
    idx = face_indices[0] if len(face_indices) > 0 else 0

    with torch.inference_mode():
        _, _, _, recon = vae(x)
    recon = torch.clamp(recon, 0, 1)
    recon = recon.permute(0, 2, 3, 1).detach().cpu().numpy()
    x = x.permute(0, 2, 3, 1).detach().cpu().numpy()
    print("plot_sample", idx, x[idx].shape, recon[idx].shape, round(float(recon[idx].mean()), 4))


### Training the DB-VAE ###

# Hyperparameters
params = dict(
    batch_size=8,
    learning_rate=5e-4,
    latent_dim=100,
    num_epochs=2,  # DB-VAE needs slightly more epochs to train
)

# instantiate a new DB-VAE model and optimizer
dbvae = DB_VAE(params["latent_dim"]).to(device)
optimizer = optim.Adam(dbvae.parameters(), lr=params["learning_rate"])


def debiasing_train_step(x, y):
    optimizer.zero_grad()

    y_logit, z_mean, z_logsigma, x_recon = dbvae(x)

    '''TODO: call the DB_VAE loss function to compute the loss'''
    loss, class_loss = debiasing_loss_function(
        x, x_recon, y, y_logit, z_mean, z_logsigma
    )

    loss.backward()
    optimizer.step()

    return loss


# get training faces from data loader
all_faces = loader.get_all_train_faces()
print(all_faces.shape, all_faces.dtype)

# The training loop -- outer loop iterates over the number of epochs
step = 0
for i in range(params["num_epochs"]):
    print("Starting epoch {}/{}".format(i + 1, params["num_epochs"]))

    # Recompute data sampling proabilities
    """TODO: recompute the sampling probabilities for debiasing"""
    p_faces = get_training_sample_probabilities(all_faces, dbvae)
    print("p_faces", p_faces.shape, np.round(p_faces[:6], 5), round(float(p_faces.sum()), 6))

    # the notebook sets no train mode back: dbvae stays in the eval mode get_latent_mu left it in
    print("training mode:", dbvae.training)

    # get a batch of training data and compute the training step
    for j in range(3):
        # load a batch of data
        (x, y) = loader.get_batch(params["batch_size"], p_pos=p_faces)
        x = torch.from_numpy(x).float().to(device)
        y = torch.from_numpy(y).float().to(device)

        # loss optimization
        loss = debiasing_train_step(x, y)
        loss_value = loss.detach().cpu().numpy()
        print("step", step, loss_value)

        # plot the progress every 500 steps
        if j % 500 == 0:
            plot_sample(x, y, dbvae)

        step += 1

dbvae.to(device)
dbvae_logits_list = []
for face in test_faces:
    face = np.asarray(face, dtype=np.float32)
    face = torch.from_numpy(face).to(device)

    # Forward pass to get the classification logit
    with torch.inference_mode():
        logit = dbvae.predict(face)

    dbvae_logits_list.append(logit.detach().cpu().numpy())

dbvae_logits_array = np.concatenate(dbvae_logits_list, axis=0)
dbvae_logits_tensor = torch.from_numpy(dbvae_logits_array)
dbvae_probs_tensor = torch.sigmoid(dbvae_logits_tensor)
dbvae_probs_array = dbvae_probs_tensor.squeeze(dim=-1).numpy()

xx = np.arange(len(keys))

std_probs_mean = standard_classifier_probs.mean(axis=1)
dbvae_probs_mean = dbvae_probs_array.reshape(len(keys), -1).mean(axis=1)

# In place of the bar plot "Network predictions on test dataset"
for k, s, d in zip(keys, std_probs_mean, dbvae_probs_mean):
    print(f"{k:12s} Standard CNN {s:.4f}  DB-VAE {d:.4f}")
print(dbvae_probs_tensor.shape, dbvae_probs_tensor.dtype)
