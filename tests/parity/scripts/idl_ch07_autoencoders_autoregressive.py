# Source: Edward Raff, "Inside Deep Learning" (Manning 2022), Chapter 7 "Autoencoding and self-supervision"
# (PCA as a tied-weight linear autoencoder with an orthogonality penalty, non-linear and deep
# autoencoders, denoising with Gaussian noise and dropout, an autoregressive GRUCell character model
# sampled with temperature): https://github.com/EdwardRaff/Inside-Deep-Learning  Chapter_7.ipynb, with
# the book's helper module idlmam.py (train_network, View, set_seed: tests/parity/scripts/idlmam/__init__.py).
# Shrunk: torchvision's MNIST is replaced by 64 + 32 synthetic 1x8x8 "digits" (a per-class sparse 0/1
# template times noise in [0.5, 1], as (image, int label) pairs), so D = 8*8 instead of 28*28 (View(-1, 1,
# 8, 8)); batch_size 32 instead of 128; 2 epochs instead of 10 (100 for the character model); the "big"
# autoencoders use D instead of D*2 units. The Shakespeare download (karpathy's char-rnn shakespear.txt,
# 100k characters) is replaced by the opening of Hamlet's soliloquy (public domain, 420 characters),
# MAX_CHUNK=25 instead of 250, batch_size 8, AutoRegressive(vocab, 8, 16, layers=2) instead of (.., 32, 128,
# ..); 40 characters are generated instead of 500. sklearn/seaborn/matplotlib are not used: the encoded
# points and reconstructions the book plots are summarized by printed numbers: the squared reconstruction
# error, and the encodings only of the models without BatchNorm (getLayer's Linear bias before BatchNorm1d
# gets a mathematically zero gradient, rounding noise that AdamW scales to +-lr steps; the eval-mode
# encodings and reconstruction sums then move by ~1e-3 under 3e-8 gradient noise in PyTorch itself).
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch.utils.data import Dataset, DataLoader

import numpy as np

from idlmam import train_network, Flatten, View, weight_reset,  set_seed


def tqdm(iterable):  # tqdm's progress bar left out
    return iterable


def show(name, results):
    for key in ["train loss", "test loss"]:
        if key in results:
            print(name, key, [round(float(v), 4) for v in results[key]])


torch.backends.cudnn.deterministic=True
set_seed(42)

device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

#How many values are in the input? We use this to help determine the size of subsequent layers
D = 8*8 #28 * 28 images 
#Hidden layer size
n = 2 
#How many channels are in the input?
C = 1
#How many classes are there?
classes = 10

class TransposeLinear(nn.Module): #Our class extends nn.Module, all PyTorch layers must extend this. 
    def __init__(self, linearLayer, bias=True):
        """
        linearLayer: is the layer that we want to use the transpose of to produce the output of this layer. So the Linear layer represents W, and this layer represents W^T. This is accomplished via weight sharing by re-using the weights of linearLayer
        bias: if True, we will crease a new bias term b that is learned separately from what is in linearLayer. If false, we will not use any bias vector. 
        """
        super().__init__()
        
        #We create a new variable weight to store a _reference_ to the original weight term. 
        self.weight = linearLayer.weight
        if bias:
            #We need to create a new bias vector. By default, PyTorch knows how to update Modules and Parameters. Since tensors are not either, the Parameter class wraps the Tensor class, so that PyTorch knows that the values in this tensor need to be updated by gradient descent
            self.bias = nn.Parameter(torch.Tensor(linearLayer.weight.shape[1]))
        else:
            #The Parameter class can not take None as an input. So if we want the bias term to exist, but be  potentially unused, we can use the register_parameter function to create it. The important thing  here is that PyTorch always sees the same parameters regardless of what we set the arguments for the  Module are. 
            self.register_parameter('bias', None)
    
    #The forward function is the code that takes an input and produce an output. 
    def forward(self, x):
        #The F directory of PyTorch contains many _functions_ that are used by Modules. For example, the linear function  performs a linear transform when given an input (we use the transpose of our weights) and a bias (if `None`, it knows to not do anything ).
        return F.linear(x, self.weight.t(), self.bias)

#Since we will share the weights of the linear layer, lets define it separately
linearLayer = nn.Linear(D,  n, bias=False)
#The encoder just falltens and then uses the linear layer
pca_encoder = nn.Sequential(
    nn.Flatten(),
    linearLayer,
)
#The decoder uses our TransposeLinear layer + the now shared linearLayer object 
pca_decoder = nn.Sequential(
    TransposeLinear(linearLayer, bias=False),
    View(-1, 1, 8, 8)#Shape the data back to it's original form
)
#Define a final PCA model that is the sequence of an encoder, followed by a decoder
pca_model = nn.Sequential(
    pca_encoder,
    pca_decoder
)
print(pca_model)
print([name for name, p in pca_model.named_parameters()])

nn.init.orthogonal_(linearLayer.weight)
print(torch.mm(linearLayer.weight, linearLayer.weight.t()))

mse_loss = nn.MSELoss() #Original loss function

def mseWithOrthoLoss(x, y):#our PCA loss function
    #Grabing W from the linearLayer object we saved earlier. 
    W = linearLayer.weight
    #The identity matrix that is the target for the regularized
    I = torch.eye(W.shape[0]).to(device)
    #compute the original loss $\ell_{\mathit{MSE}}(f(\boldsymbol{x}), \boldsymbol{x})$
    normal_loss =  mse_loss(x, y) 
    #compute the regularizer penalty $\ell_{\mathit{MSE}}(W^\top W, \boldsymbol{I})$
    regularization_loss = 0.1*mse_loss(torch.mm(W, W.t()), I)
    #return the sum of the two losses
    return normal_loss + regularization_loss

class AutoEncodeDataset(Dataset):
    """Takes a dataset with (x, y) label pairs and converts it to (x, x) pairs. 
    This makes it easy to re-use other code"""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, idx):
        x, y = self.dataset.__getitem__(idx)
        return x, x#just throw away the original label. 

class FakeMNIST(Dataset):  # synthetic stand-in for torchvision.datasets.MNIST(..., transform=transforms.ToTensor())
    templates = (torch.rand(10, 1, 8, 8) > 0.6).float()
    def __init__(self, n):
        self.labels = torch.randint(0, 10, (n,))
        self.images = self.templates[self.labels] * (0.5 + 0.5*torch.rand(n, 1, 8, 8))
    def __len__(self):
        return len(self.labels)
    def __getitem__(self, idx):
        return self.images[idx], int(self.labels[idx])

train_data = AutoEncodeDataset(FakeMNIST(64))
test_data_xy = FakeMNIST(32)
test_data_xx = AutoEncodeDataset(test_data_xy)

train_loader = DataLoader(train_data, batch_size=32, shuffle=True)
test_loader = DataLoader(test_data_xx, batch_size=32)

show("PCA", train_network(pca_model, mseWithOrthoLoss, train_loader, test_loader=test_loader, epochs=2, device=device))

def encode_batch(encoder, dataset_to_encode):
    """
    encoder: the PyTorch network that takes in a dataset and convers it to a new dimension
    dataset_to_encode: a PyTorch `Dataset` object that we want to convert. 

    Returns a tuple (projected, labels) where `projected` is the encoded version of the dataset, and `labels` are the original labels provided by the `dataset_to_encode`
    """
    #Create space to store the results
    projected = []
    labels = []
    #Switch to eval mode
    encoder = encoder.eval()
    #Switching to CPU mode for simplicty, but you don't have to. 
    encoder = encoder.cpu()
    with torch.no_grad():#We don't want to train, so torch.no_grad! 
        for x, y in  DataLoader(dataset_to_encode, batch_size=128):
            z = encoder(x.cpu()) #encode the original data
            projected.append( z.numpy() ) #store the encoded version & label
            labels.append( y.cpu().numpy().ravel() )
    #Turn the results into single large numpy arrays
    projected = np.vstack(projected)
    labels = np.hstack(labels)
    #return the results
    return projected, labels
#Now lets project our data
projected, labels = encode_batch(pca_encoder, test_data_xy)
print(projected.shape, np.round(projected[:4], 4), labels[:4])  # the book scatter-plots them by label

def showEncodeDecode(encode_decode, x):
    """
    encode_decode: the PyTorch Module that does the encoding and decoding steps at once
    x: the input to plot as is, and after encoding & decoding it
    """
    #Switch to eval mode
    encode_decode = encode_decode.eval()
    #We will move things to the CPU so that we don't have to think about what device anything was on
    #and because this functino is not performance sensative
    encode_decode = encode_decode.cpu()
    with torch.no_grad():#Always no_grad if you are not training
        x_recon = encode_decode(x.cpu())
    #Use matplotlib to create a size-by-side plot with the original on the left
    print(tuple(x_recon.shape), "input sum %.4f, squared error %.4f" % (
        x.sum().item(), ((x_recon[0] - x)**2).sum().item()))  # (the book's imshow pair)

#Showing the input (left) and output (right) for three data points
showEncodeDecode(pca_model, test_data_xy[0][0])
showEncodeDecode(pca_model, test_data_xy[2][0])
showEncodeDecode(pca_model, test_data_xy[10][0])

#First the encoder is augmented by a Tanh non-linearity
pca_nonlinear_encode = nn.Sequential(
    nn.Flatten(),
    nn.Linear(D,  n),
    nn.Tanh(), #The only real change, ading a non-linear operation at the end
)
#The decoder gets its own Linear layer now, making it look more like a normal network
pca_nonlinear_decode = nn.Sequential(
    nn.Linear(n, D),#We are no longer tying the weights for simplicity 
    View(-1, 1, 8, 8)
)
#Combine then together into the encoder-decoder function $f(\cdot)$
pca_nonlinear = nn.Sequential(
    pca_nonlinear_encode,
    pca_nonlinear_decode
)

show("nonlinear", train_network(pca_nonlinear, mse_loss, train_loader, test_loader=test_loader, epochs=2, device=device))

projected, labels = encode_batch(pca_nonlinear_encode, test_data_xy)
print(np.round(projected[:4], 4))

showEncodeDecode(pca_nonlinear, test_data_xy[0][0])

def getLayer(in_size, out_size):
    """
    in_size: how many neurons/features are coming into this layer
    out_size: how many neurons/outputs this hidden layer should produce
    """
    return nn.Sequential( #Organize the conceptual "block" of a hidden layer into a Sequential object
        nn.Linear(in_size,  out_size),
        nn.BatchNorm1d(out_size),
        nn.ReLU())

#Dividing by 2, 3, 4, is one of many patterns that could have been used
auto_encoder = nn.Sequential(
    nn.Flatten(),
    getLayer(D, D//2), #Each of these layers has a smaller output size than the previous
    getLayer(D//2, D//3),
    getLayer(D//3, D//4),
    nn.Linear(D//4,  n), #Jump down to the target dimension
)

#Decoder will do the same layers/sizes in reverse now to be symmetric 
auto_decoder = nn.Sequential(
    getLayer(n, D//4), #Each layer now increases in size because we are in the decoder. 
    getLayer(D//4, D//3),
    getLayer(D//3, D//2),
    nn.Linear(D//2,  D),
    View(-1, 1, 8, 8) #Reshape to match the original shape
)
#Combine into a deep auto encoder
auto_encode_decode = nn.Sequential(
    auto_encoder,
    auto_decoder
)

show("deep", train_network(auto_encode_decode, mse_loss, train_loader, test_loader=test_loader, epochs=2, device=device))

projected, labels = encode_batch(auto_encoder, test_data_xy)
print(projected.shape)

showEncodeDecode(auto_encode_decode, test_data_xy[0][0])
showEncodeDecode(auto_encode_decode, test_data_xy[2][0])

normal = torch.distributions.Normal(0, 0.5)#first argument is the mean $\mu$, second is the standard deviation $\sigma$

def addNoise(x, device='cpu'): 
    """
    We will use this helper function to add noise to some data. 
    x: the data we want to add noise to
    device: the CPU or GPU that the input is located on. 
    """
    return x + normal.sample(sample_shape=torch.Size(x.shape)).to(device) #$\boldsymbol{x} + s$

showEncodeDecode(auto_encode_decode, addNoise(test_data_xy[6][0]))
showEncodeDecode(auto_encode_decode, addNoise(test_data_xy[23][0]))

class AdditiveGausNoise(nn.Module):
    def __init__(self):
        super().__init__()
        #We don't need to do anything in the constructor of this object. 
        
    def forward(self, x):
        #every PyTorch Module object has a self.training boolean which can be used  to check if we are in training (True) or evaluation (False) mode. 
        if self.training:
             return addNoise(x, device=device)
        else: #Now training, return the data as it was given
            return x

dnauto_encoder_big = nn.Sequential(
    nn.Flatten(),
    AdditiveGausNoise(), #Only addition! Inserting noise here hopefully helps.
    getLayer(D, D),
    getLayer(D, D),
    nn.Linear(D,  D),
)

dnauto_decoder_big = nn.Sequential(
    getLayer(D, D),
    getLayer(D, D),
    nn.Linear(D,  D),
    View(-1, 1, 8, 8)
)

dnauto_encode_decode_big = nn.Sequential(
    dnauto_encoder_big,
    dnauto_decoder_big
)
# Now we can train like normal. 
show("denoising", train_network(dnauto_encode_decode_big, mse_loss, train_loader, test_loader=test_loader, epochs=2, device=device))

showEncodeDecode(dnauto_encode_decode_big, test_data_xy[6][0])
showEncodeDecode(dnauto_encode_decode_big, addNoise(test_data_xy[6][0]))

dnauto_encoder_dropout = nn.Sequential(
    nn.Flatten(),
    nn.Dropout(p=0.2), #For the input we will usually drop only 5-20% of the values. 
    getLayer(D, D),
    nn.Dropout(), #By defult dropout uses 50% probability to zero-out values
    getLayer(D, D),
    nn.Dropout(),
    nn.Linear(D,  D)
)

dnauto_decoder_dropout = nn.Sequential(
    getLayer(D, D),
    nn.Dropout(),
    getLayer(D, D),
    nn.Dropout(),
    nn.Linear(D,  D),
    View(-1, 1, 8, 8)
)

dnauto_encode_decode_dropout = nn.Sequential(
    dnauto_encoder_big,
    dnauto_decoder_big
)
# Now we can train like normal. 
show("dropout", train_network(dnauto_encode_decode_dropout, mse_loss, train_loader, test_loader=test_loader, epochs=2, device=device))

showEncodeDecode(dnauto_encode_decode_dropout, test_data_xy[6][0]) #Clean data
showEncodeDecode(dnauto_encode_decode_dropout, addNoise(test_data_xy[6][0])) #guassian noise
showEncodeDecode(dnauto_encode_decode_dropout, nn.Dropout()(test_data_xy[6][0])) #dropout noise

# shakespear_100k = urlopen("https://cs.stanford.edu/people/karpathy/char-rnn/shakespear.txt").read().decode('utf-8').lower()
shakespear_100k = """HAMLET:
To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take arms against a sea of troubles
And by opposing end them. To die: to sleep;
No more; and by a sleep to say we end
The heart-ache and the thousand natural shocks
That flesh is heir to, 'tis a consummation
Devoutly to be wish'd. To die, to sleep;
To sleep: perchance to dream: ay, there's the rub;
EMILIA:
""".lower()

vocab2indx = {} #the vocab $\Sigma$
for char in shakespear_100k: 
    if char not in vocab2indx: #add every new character to the vocab
        vocab2indx[char] = len(vocab2indx) #set the index based on the current vocab size

#Some useful code to goe from index back to original characters. 
indx2vocab = {}
#Well simply iterate over all key,value pairs and create a dicionary with the inverse mapping. 
for k, v in vocab2indx.items():
    indx2vocab[v] = k
print("Vocab Size: ", len(vocab2indx))
print("Total Characters:", len(shakespear_100k))

class AutoRegressiveDataset(Dataset):
    """
    Creates an autoregressive dataset from one single, long, source sequence by breaking it up into "chunks". 
    """

    def __init__(self, large_string, MAX_CHUNK=500):
        """
        large_string: the original long source sequence that chunks will be extracted from
        MAX_CHUNK: the maximum allowed size of any chunk. 
        """
        self.doc = large_string
        self.MAX_CHUNK = MAX_CHUNK

    def __len__(self):
        #The number of items is the number of characters divided by chunk size
        return (len(self.doc)-1) // self.MAX_CHUNK

    def __getitem__(self, idx):
        #Compute the starting position for the idx'th chunk
        start = idx*self.MAX_CHUNK
        #Grab the input sub-string
        sub_string = self.doc[start:start+self.MAX_CHUNK]
        #convert the sub-string into integers based on our vocab
        x = [vocab2indx[c] for c in sub_string]
        
        #grab the label sub-string by shifting over by 1
        sub_string = self.doc[start+1:start+self.MAX_CHUNK+1]
        #convert the label sub-string into integers based on our vocab
        y = [vocab2indx[c] for c in sub_string]
        #convert the 
        return torch.tensor(x, dtype=torch.int64), torch.tensor(y, dtype=torch.int64)

class AutoRegressive(nn.Module):

    def __init__(self, num_embeddings, embd_size, hidden_size, layers=1):
        super(AutoRegressive, self).__init__()
        self.hidden_size = hidden_size
        self.embd = nn.Embedding(num_embeddings, embd_size)
        self.layers = nn.ModuleList([nn.GRUCell(embd_size, hidden_size)] + 
                                     [nn.GRUCell(hidden_size, hidden_size) for i in range(layers-1)])
        self.norms = nn.ModuleList([nn.LayerNorm(hidden_size) for i in range(layers)])
        
        self.pred_class = nn.Sequential(
            nn.Linear(hidden_size, hidden_size),# (B, *, D)
            nn.LeakyReLU(),
            nn.LayerNorm(hidden_size), # (B, *, D)
            nn.Linear(hidden_size, num_embeddings) #(B, *. D) -> B(B, *, VocabSize)
        )
        
    def initHiddenStates(self, B):
        """
        Creates an initial hidden state list for the RNN layers. 
        
        B: the batch size for the hidden states. 
        """
        return [torch.zeros(B, self.hidden_size, device=device) for _ in range(len(self.layers))]
        
    def step(self, x_in, h_prevs=None):
        """
        x_in: the input for this current time step and has shape (B) if the values need 
            to be embedded, and (B, D) if they have alreayd been embedded. 

        h_prevs: a list of hidden state tensors each with shape (B, self.hidden_size) for each 
            layer in the network. These contain the current hidden state of the RNN layers and 
            will be updated by this call. 
        """
        #Prep all three arguments to be in the final form
        if len(x_in.shape) == 1: #(B), we need to embed it
            x_in = self.embd(x_in) #now (B, D)

        if h_prevs is None:
            h_prevs = self.initHiddenStates(x_in.shape[0])
        
        #Process the input 
        for l in range(len(self.layers)):
            h_prev = h_prevs[l]
            h = self.norms[l](self.layers[l](x_in, h_prev))

            h_prevs[l] = h
            x_in = h
        #Make predictions about the token
        return self.pred_class(x_in)
    
    def forward(self, input):
        #Input should be (B, T)
        #What is the batch size?
        B = input.size(0)
        #What is the max number of time steps?
        T = input.size(1)
        
        x = self.embd(input) #(B, T, D)
        
        #Initial hidden states
        h_prevs = self.initHiddenStates(B)
        
        last_activations = []
        for t in range(T):
            x_in = x[:,t,:] #(B, D)
            last_activations.append(self.step(x_in, h_prevs))
        
        last_activations = torch.stack(last_activations, dim=1) #(B, T, D)
        
        return last_activations

autoRegData = AutoRegressiveDataset(shakespear_100k, MAX_CHUNK=25)
autoReg_loader = DataLoader(autoRegData, batch_size=8, shuffle=True)

autoReg_model = AutoRegressive(len(vocab2indx), 8, 16, layers=2)
autoReg_model = autoReg_model.to(device)

for p in autoReg_model.parameters():
    p.register_hook(lambda grad: torch.clamp(grad, -2, 2))

def CrossEntLossTime(x, y):
    """
    x: output with shape (B, T, V)
    y: labels with shape (B, T)
    
    """
    cel = nn.CrossEntropyLoss()
    
    T = x.size(1)
    
    loss = 0
    
    for t in range(T):#for every item in the sequence
        loss += cel(x[:,t,:], y[:,t]) #Compute the sum of prediction errors
    
    return loss

show("autoregressive", train_network(autoReg_model, CrossEntLossTime, autoReg_loader, epochs=2, device=device))

autoReg_model = autoReg_model.eval()
sampling = torch.zeros((1, 40), dtype=torch.int64, device=device)

seed = "EMILIA:".lower()
cur_len = len(seed)
sampling[0,0:cur_len] = torch.tensor([vocab2indx[x] for x in seed])

for i in tqdm(range(cur_len, sampling.size(1))):
    with torch.no_grad():
        h = autoReg_model(sampling[:,0:i]) #process all the previous items
        h = h[:,-1,:] #Grab the last time step
        h = F.softmax(h, dim=1) #make probabilities
        next_tokens = torch.multinomial(h, 1) #sample the next prediction
        sampling[:,i] = next_tokens #set the next prediction
        #increase the length by one
        cur_len += 1

s = [indx2vocab[x] for x in sampling.cpu().numpy().flatten()]
print(repr("".join(s)))

cur_len = len(seed)
temperature = 0.05 #Very low temp, will almost always pick the most likely items. 
for i in tqdm(range(cur_len, sampling.size(1))):
    with torch.no_grad():
        h = autoReg_model(sampling[:,0:i])
        h = h[:,-1,:] #Grab the last time step
        h = F.softmax(h/temperature, dim=1) #make probabilities
        next_tokens = torch.multinomial(h, 1)
        sampling[:,i] = next_tokens

        cur_len += 1
s = [indx2vocab[x] for x in sampling.cpu().numpy().flatten()]
print(repr("".join(s)))

#Set up our seed and the location to store the generated content
seed = "EMILIA:".lower()
cur_len = len(seed)
sampling = torch.zeros((1, 40), dtype=torch.int64, device=device)
sampling[0,0:cur_len] = torch.tensor([vocab2indx[x] for x in seed])

#pick a temperature
temperature = 0.75
with torch.no_grad():
    #initialize the hidden state to avoid redundant work
    h_prevs = autoReg_model.initHiddenStates(1)
    #push the seed through
    for i in range(0, cur_len):
        h = autoReg_model.step(sampling[:,i], h_prevs=h_prevs)

    #generate new text one character at a time
    for i in tqdm(range(cur_len, sampling.size(1))):
        h = F.softmax(h/temperature, dim=1) #make probabilities
        next_tokens = torch.multinomial(h, 1)
        sampling[:,i] = next_tokens
        cur_len += 1
        #now push only the new sample into the model
        h = autoReg_model.step(sampling[:,i], h_prevs=h_prevs)

s = [indx2vocab[x] for x in sampling.cpu().numpy().flatten()]
print(repr("".join(s)))
