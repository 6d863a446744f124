# Source: PyTorch tutorials, "Text classification with the torchtext library":
#   https://github.com/pytorch/tutorials  beginner_source/text_sentiment_ngrams_tutorial.py
#   (the version at commit 5130967035247c8343376ee69f49d6e10d61eaca)
# Shrunk: torchtext is not used: AG_NEWS is 240 training and 64 test synthetic "news" of 4 to 13
# words (a label's own topic words mixed with common ones), and get_tokenizer("basic_english"),
# build_vocab_from_iterator and to_map_style_dataset are replaced by the few lines below that do
# what they do here (lower-case split; tokens by frequency, then alphabetically, after the
# specials; a list). Batches of 16 instead of 64, 3 epochs instead of 10, a log every 4 batches
# instead of every 500; the epoch's time is not printed (a timing).
import torch
import re
from collections import Counter

topics = {
    1: "government minister president election war talks country peace".split(),
    2: "team game season coach win match players cup".split(),
    3: "company shares market profit bank stocks sales oil".split(),
    4: "software internet computer space research users microsoft science".split(),
}
common = "the a of to in on for with said new after".split()


def make_news(count):
    news = []
    for _ in range(count):
        label = int(torch.randint(1, 5, (1,)))
        length = int(torch.randint(4, 14, (1,)))
        words = []
        for _ in range(length):
            if torch.rand(1).item() < 0.25:
                words.append(topics[label][int(torch.randint(0, 8, (1,)))])
            else:
                words.append(common[int(torch.randint(0, len(common), (1,)))])
        news.append((label, " ".join(words).capitalize() + "."))
    return news


train_news, test_news = make_news(240), make_news(64)


class NewsPipe(torch.utils.data.IterableDataset):  # (torchtext's datasets are iterable datapipes)
    def __init__(self, news):
        self.news = news

    def __iter__(self):
        return iter(self.news)


def AG_NEWS(split=None):
    if split == "train":
        return NewsPipe(train_news)
    return NewsPipe(train_news), NewsPipe(test_news)


train_iter = iter(AG_NEWS(split="train"))
print(next(train_iter))
print(next(train_iter))

######################################################################
# Prepare data processing pipelines
# ---------------------------------


def get_tokenizer(name):  # (torchtext's "basic_english", for these texts)
    return lambda text: re.sub(r"([.,!?])", r" \1 ", text.lower()).split()


class Vocab:  # (what torchtext's build_vocab_from_iterator returns, as used here)
    def __init__(self, itos):
        self.stoi = {token: index for index, token in enumerate(itos)}
        self.default_index = None

    def set_default_index(self, index):
        self.default_index = index

    def __getitem__(self, token):
        return self.stoi.get(token, self.default_index)

    def __call__(self, tokens):
        return [self[token] for token in tokens]

    def __len__(self):
        return len(self.stoi)


def build_vocab_from_iterator(iterator, specials=()):
    counter = Counter(token for tokens in iterator for token in tokens)
    ordered = sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    return Vocab(list(specials) + [token for token, _ in ordered if token not in specials])


tokenizer = get_tokenizer("basic_english")
train_iter = AG_NEWS(split="train")


def yield_tokens(data_iter):
    for _, text in data_iter:
        yield tokenizer(text)


vocab = build_vocab_from_iterator(yield_tokens(train_iter), specials=["<unk>"])
vocab.set_default_index(vocab["<unk>"])

print(vocab(['here', 'is', 'an', 'example']), vocab(['the', 'team', 'market']))

text_pipeline = lambda x: vocab(tokenizer(x))
label_pipeline = lambda x: int(x) - 1

print(text_pipeline('here is the an example'), label_pipeline('10'))

######################################################################
# Generate data batch and iterator
# --------------------------------


from torch.utils.data import DataLoader

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(label_pipeline(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list.to(device), text_list.to(device), offsets.to(device)


train_iter = AG_NEWS(split="train")
dataloader = DataLoader(
    train_iter, batch_size=8, shuffle=False, collate_fn=collate_batch
)
print(next(iter(dataloader)))  # (extra)


######################################################################
# Define the model
# ----------------

from torch import nn


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


######################################################################
# Initiate an instance
# --------------------

train_iter = AG_NEWS(split="train")
num_class = len(set([label for (label, text) in train_iter]))
vocab_size = len(vocab)
emsize = 64
model = TextClassificationModel(vocab_size, emsize, num_class).to(device)
print(model, num_class, vocab_size)  # (extra)


######################################################################
# Define functions to train the model and evaluate results.
# ---------------------------------------------------------


import time


def train(dataloader):
    model.train()
    total_acc, total_count = 0, 0
    log_interval = 4
    start_time = time.time()

    for idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
        if idx % log_interval == 0 and idx > 0:
            elapsed = time.time() - start_time
            print(
                "| epoch {:3d} | {:5d}/{:5d} batches "
                "| accuracy {:8.3f}".format(
                    epoch, idx, len(dataloader), total_acc / total_count
                )
            )
            total_acc, total_count = 0, 0
            start_time = time.time()


def evaluate(dataloader):
    model.eval()
    total_acc, total_count = 0, 0

    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count


######################################################################
# Split the dataset and run the model
# -----------------------------------


from torch.utils.data.dataset import random_split


def to_map_style_dataset(iter_data):  # (torchtext's, as used here)
    return list(iter_data)


# Hyperparameters
EPOCHS = 3  # epoch
LR = 5  # learning rate
BATCH_SIZE = 16  # batch size for training

criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
total_accu = None
train_iter, test_iter = AG_NEWS()
train_dataset = to_map_style_dataset(train_iter)
test_dataset = to_map_style_dataset(test_iter)
num_train = int(len(train_dataset) * 0.95)
split_train_, split_valid_ = random_split(
    train_dataset, [num_train, len(train_dataset) - num_train]
)
print(len(split_train_), len(split_valid_), split_valid_.indices[:5])  # (extra)

train_dataloader = DataLoader(
    split_train_, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch
)
valid_dataloader = DataLoader(
    split_valid_, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch
)
test_dataloader = DataLoader(
    test_dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=collate_batch
)

for epoch in range(1, EPOCHS + 1):
    epoch_start_time = time.time()
    train(train_dataloader)
    accu_val = evaluate(valid_dataloader)
    if total_accu is not None and total_accu > accu_val:
        scheduler.step()
    else:
        total_accu = accu_val
    print("-" * 59)
    print(
        "| end of epoch {:3d} | "
        "valid accuracy {:8.3f} ".format(
            epoch, accu_val
        )
    )
    print("-" * 59)
    print(scheduler.get_last_lr(), model.fc.bias)  # (extra)


######################################################################
# Evaluate the model with test dataset
# ------------------------------------

print("Checking the results of test dataset.")
accu_test = evaluate(test_dataloader)
print("test accuracy {:8.3f}".format(accu_test))


######################################################################
# Test on a random news
# ---------------------


ag_news_label = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tec"}


def predict(text, text_pipeline):
    with torch.no_grad():
        text = torch.tensor(text_pipeline(text))
        output = model(text, torch.tensor([0]))
        return output.argmax(1).item() + 1


ex_text_str = "MEMPHIS, Tenn. – Four days ago, Jon Rahm was \
    enduring the season’s worst weather conditions on Sunday at The \
    Open on his way to a closing 75 at Royal Portrush, which \
    considering the wind and the rain was a respectable showing. \
    Thursday’s first round at the WGC-FedEx St. Jude Invitational \
    was another story. With temperatures in the mid-80s and hardly any \
    wind, the Spaniard was 13 strokes better in a flawless round. \
    Thanks to his best putting performance on the PGA Tour, Rahm \
    finished with an 8-under 62 for a three-stroke lead, which \
    was even more impressive considering he’d never played the \
    front nine at TPC Southwind."

model = model.to("cpu")

print("This is a %s news" % ag_news_label[predict(ex_text_str, text_pipeline)])
print("This is a %s news" % ag_news_label[predict("The team won the cup after the match.", text_pipeline)])
