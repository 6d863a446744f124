# Source: Chen Yun (陈云), 《深度学习框架PyTorch：入门与实践》 (1st ed.), chapter 10 "图像描述 (image caption)":
#   https://github.com/chenyuntc/pytorch-book  (commit 2db9c66) chapter10-image_caption/data_preprocess.py,
#   data.py, model.py, utils/beam_search.py (CaptionGenerator, from TensorFlow's im2txt) and main.py
#   (train, generate), in that order.
# Shrunk/changed: the AI Challenger annotations are 12 images' 5 captions written here, already cut
# into words (jieba's job); the ResNet-50 features of the images (results.pth, 2048 per image) are
# random; rnn_hidden and embedding_dim 32 (not 256), batch_size 4, num_workers 0, one epoch, a report
# every 2 batches with the values visdom plotted printed instead (torchnet's AverageValueMeter, tqdm and
# the raw image left out). The generated caption is for a random feature vector (not resnet50 of a
# photo). ix2word is saved as the word list: the preprocessing's {ix: word} dict needs int keys, and
# PyTorch 2's 0-dim tensors (the beam search's word ids, which PyTorch 0.3 gave as Python numbers) hash
# by identity. model.save() names its file by the time: the name is not printed. The files are written
# in a fresh temporary directory.
import os
import tempfile
import time
import heapq

import numpy as np
import torch as t
import torch
from torch import nn
from torch.utils import data
from torch.autograd import Variable
from torch.nn.functional import log_softmax
from torch.nn.utils.rnn import pack_padded_sequence

os.chdir(tempfile.mkdtemp())
os.makedirs('checkpoints')


# ------------------------------------------------------------------------ data_preprocess.py
class PreprocessConfig:
    annotation_file = 'caption_train_annotations_20170902.json'
    unknown = '</UNKNOWN>'
    end = '</EOS>'
    padding = '</PAD>'
    max_words = 10000
    min_appear = 2
    save_path = 'caption.pth'


scenes = ['一个 穿着 红色 衣服 的 女人 在 草地 上 奔跑', '两个 男人 在 球场 上 打 篮球',
          '一个 戴着 帽子 的 男人 站 在 街道 上', '一个 女孩 坐在 房间 里 看书']
annotations = []  # json.load(open(opt.annotation_file))
for ix in range(12):
    words_ = scenes[ix % 4].split()
    captions_ = []
    for jj in range(5):
        keep = [w for kk, w in enumerate(words_) if (kk * 7 + jj + ix) % 5 != 0 or kk == 0]
        captions_.append(keep)
    annotations.append({'image_id': '%040x.jpg' % (ix * 7919), 'caption': captions_})


def process(**kwargs):
    opt = PreprocessConfig()
    for k, v in kwargs.items():
        setattr(opt, k, v)

    data = annotations

    # 8f00f3d0f1008e085ab660e70dffced16a8259f6.jpg -> 0
    id2ix = {item['image_id']: ix for ix, item in enumerate(data)}
    # 0-> 8f00f3d0f1008e085ab660e70dffced16a8259f6.jpg
    ix2id = {ix: id for id, ix in (id2ix.items())}
    assert id2ix[ix2id[10]] == 10

    captions = [item['caption'] for item in data]
    # 分词结果
    cut_captions = [[list(ii) for ii in item] for item in captions]  # jieba.cut(ii, cut_all=False)

    word_nums = {}  # '快乐'-> 10000 (次)

    def update(word_nums):
        def fun(word):
            word_nums[word] = word_nums.get(word, 0) + 1
            return None

        return fun

    lambda_ = update(word_nums)
    _ = {lambda_(word) for sentences in cut_captions for sentence in sentences for word in sentence}

    # [ (10000,u'快乐')，(9999,u'开心') ...]
    word_nums_list = sorted([(num, word) for word, num in word_nums.items()], reverse=True)

    words = [word[1] for word in word_nums_list[:opt.max_words] if word[0] >= opt.min_appear]
    words = [opt.unknown, opt.padding, opt.end] + words
    word2ix = {word: ix for ix, word in enumerate(words)}
    ix2word = {ix: word for word, ix in word2ix.items()}
    assert word2ix[ix2word[12]] == 12

    ix_captions = [[[word2ix.get(word, word2ix.get(opt.unknown)) for word in sentence]
                    for sentence in item]
                   for item in cut_captions]
    results = {
        'caption': ix_captions,
        'word2ix': word2ix,
        'ix2word': words,
        'ix2id': ix2id,
        'readme': 'caption: 分词之后的描述',
        'padding': '</PAD>',
        'end': '</EOS>'
    }
    t.save(results, opt.save_path)
    print('save file in %s' % opt.save_path)
    return len(words)


print(process())
t.save(t.rand(12, 2048), 'results.pth')  # the ResNet-50 features of all images (feature_extract.py)


# ------------------------------------------------------------------------ config.py
class Config:
    caption_data_path = 'caption.pth'  # 经过预处理后的人工描述信息
    img_path = '/home/cy/caption_data/'
    img_feature_path = 'results.pth'  # 所有图片的features,20w*2048的向量
    scale_size = 300
    img_size = 224
    batch_size = 4
    shuffle = True
    num_workers = 0
    rnn_hidden = 32
    embedding_dim = 32
    num_layers = 2
    share_embedding_weights = False

    prefix = 'checkpoints/caption'  # 模型保存前缀

    env = 'caption'
    plot_every = 2
    debug_file = '/tmp/debugc'

    model_ckpt = None  # 模型断点保存路径
    lr = 1e-3
    use_gpu = False
    epoch = 1

    test_img = 'img/example.jpeg'


# ------------------------------------------------------------------------ data.py
def create_collate_fn(padding, eos, max_length=50):
    def collate_fn(img_cap):
        """
        将多个样本拼接在一起成一个batch
        返回：
        - imgs(Tensor): batch_sie*2048
        - cap_tensor(Tensor): batch_size*max_length
        - lengths(list of int): 长度为batch_size
        - index(list of int): 长度为batch_size
        """
        img_cap.sort(key=lambda p: len(p[1]), reverse=True)
        imgs, caps, indexs = zip(*img_cap)
        imgs = t.cat([img.unsqueeze(0) for img in imgs], 0)
        lengths = [min(len(c) + 1, max_length) for c in caps]
        batch_length = max(lengths)
        cap_tensor = t.LongTensor(batch_length, len(caps)).fill_(padding)
        for i, c in enumerate(caps):
            end_cap = lengths[i] - 1
            if end_cap < batch_length:
                cap_tensor[end_cap, i] = eos
            cap_tensor[:end_cap, i].copy_(c[:end_cap])
        return (imgs, (cap_tensor, lengths), indexs)

    return collate_fn


class CaptionDataset(data.Dataset):

    def __init__(self, opt):
        self.opt = opt
        data = t.load(opt.caption_data_path)
        word2ix = data['word2ix']
        self.captions = data['caption']
        self.padding = word2ix.get(data.get('padding'))
        self.end = word2ix.get(data.get('end'))
        self._data = data
        self.ix2id = data['ix2id']
        self.all_imgs = t.load(opt.img_feature_path)

    def __getitem__(self, index):
        """
        返回：
        - img: 图像features 2048的向量
        - caption: 描述，形如LongTensor([1,3,5,2]),长度取决于描述长度
        - index: 下标，图像的序号，可以通过ix2id[index]获取对应图片文件名
        """
        img = self.all_imgs[index]

        caption = self.captions[index]
        # 5句描述随机选一句
        rdn_index = np.random.choice(len(caption), 1)[0]
        caption = caption[rdn_index]
        return img, t.LongTensor(caption), index

    def __len__(self):
        return len(self.ix2id)


def get_dataloader(opt):
    dataset = CaptionDataset(opt)
    dataloader = data.DataLoader(dataset,
                                 batch_size=opt.batch_size,
                                 shuffle=opt.shuffle,
                                 num_workers=opt.num_workers,
                                 collate_fn=create_collate_fn(dataset.padding, dataset.end))
    return dataloader


# ------------------------------------------------------------------------ utils/beam_search.py
class Caption(object):
    """Represents a complete or partial caption."""

    def __init__(self, sentence, state, logprob, score, metadata=None):
        self.sentence = sentence
        self.state = state
        self.logprob = logprob
        self.score = score
        self.metadata = metadata

    def __cmp__(self, other):
        """Compares Captions by score."""
        assert isinstance(other, Caption)
        if self.score == other.score:
            return 0
        elif self.score < other.score:
            return -1
        else:
            return 1

    # For Python 3 compatibility (__cmp__ is deprecated).
    def __lt__(self, other):
        assert isinstance(other, Caption)
        return self.score < other.score

    # Also for Python 3 compatibility.
    def __eq__(self, other):
        assert isinstance(other, Caption)
        return self.score == other.score


class TopN(object):
    """Maintains the top n elements of an incrementally provided set."""

    def __init__(self, n):
        self._n = n
        self._data = []

    def size(self):
        assert self._data is not None
        return len(self._data)

    def push(self, x):
        """Pushes a new element."""
        assert self._data is not None
        if len(self._data) < self._n:
            heapq.heappush(self._data, x)
        else:
            heapq.heappushpop(self._data, x)

    def extract(self, sort=False):
        """Extracts all elements from the TopN. This is a destructive operation."""
        assert self._data is not None
        data = self._data
        self._data = None
        if sort:
            data.sort(reverse=True)
        return data

    def reset(self):
        """Returns the TopN to an empty state."""
        self._data = []


class CaptionGenerator(object):
    """Class to generate captions from an image-to-text model."""

    def __init__(self,
                 embedder,
                 rnn,
                 classifier,
                 eos_id,
                 beam_size=3,
                 max_caption_length=20,
                 length_normalization_factor=0.0):
        self.embedder = embedder
        self.rnn = rnn
        self.classifier = classifier
        self.eos_id = eos_id
        self.beam_size = beam_size
        self.max_caption_length = max_caption_length
        self.length_normalization_factor = length_normalization_factor

    def beam_search(self, rnn_input, initial_state=None):
        """Runs beam search caption generation on a single image."""

        def get_topk_words(embeddings, state):
            output, new_states = self.rnn(embeddings, state)
            output = self.classifier(output.squeeze(0))
            logprobs = log_softmax(output, dim=1)
            logprobs, words = logprobs.topk(self.beam_size, 1)
            return words.data, logprobs.data, new_states

        partial_captions = TopN(self.beam_size)
        complete_captions = TopN(self.beam_size)

        words, logprobs, new_state = get_topk_words(rnn_input, initial_state)
        for k in range(self.beam_size):
            cap = Caption(
                sentence=[words[0, k]],
                state=new_state,
                logprob=logprobs[0, k],
                score=logprobs[0, k])
            partial_captions.push(cap)

        # Run beam search.
        for _ in range(self.max_caption_length - 1):
            partial_captions_list = partial_captions.extract()
            partial_captions.reset()
            input_feed = torch.LongTensor([c.sentence[-1]
                                           for c in partial_captions_list])
            if rnn_input.is_cuda:
                input_feed = input_feed.cuda()
            input_feed = Variable(input_feed, volatile=True)
            state_feed = [c.state for c in partial_captions_list]
            if isinstance(state_feed[0], tuple):
                state_feed_h, state_feed_c = zip(*state_feed)
                state_feed = (torch.cat(state_feed_h, 1),
                              torch.cat(state_feed_c, 1))
            else:
                state_feed = torch.cat(state_feed, 1)

            embeddings = self.embedder(input_feed).view(1, len(input_feed), -1)
            words, logprobs, new_states = get_topk_words(
                embeddings, state_feed)
            for i, partial_caption in enumerate(partial_captions_list):
                if isinstance(new_states, tuple):
                    state = (new_states[0].narrow(1, i, 1),
                             new_states[1].narrow(1, i, 1))
                else:
                    state = new_states[i]
                for k in range(self.beam_size):
                    w = words[i, k]
                    sentence = partial_caption.sentence + [w]
                    logprob = partial_caption.logprob + logprobs[i, k]
                    score = logprob
                    if w == self.eos_id:
                        if self.length_normalization_factor > 0:
                            score /= len(sentence)**self.length_normalization_factor
                        beam = Caption(sentence, state, logprob, score)
                        complete_captions.push(beam)
                    else:
                        beam = Caption(sentence, state, logprob, score)
                        partial_captions.push(beam)
            if partial_captions.size() == 0:
                # We have run out of partial candidates; happens when beam_size
                # = 1.
                break

        # If we have no complete captions then fall back to the partial captions.
        if not complete_captions.size():
            complete_captions = partial_captions

        caps = complete_captions.extract(sort=True)

        return [c.sentence for c in caps], [c.score for c in caps]


# ------------------------------------------------------------------------ model.py
class CaptionModel(nn.Module):
    def __init__(self, opt, word2ix, ix2word):
        super(CaptionModel, self).__init__()
        self.ix2word = ix2word
        self.word2ix = word2ix
        self.opt = opt
        self.fc = nn.Linear(2048, opt.rnn_hidden)

        self.rnn = nn.LSTM(opt.embedding_dim, opt.rnn_hidden, num_layers=opt.num_layers)
        self.classifier = nn.Linear(opt.rnn_hidden, len(word2ix))
        self.embedding = nn.Embedding(len(word2ix), opt.embedding_dim)

    def forward(self, img_feats, captions, lengths):
        embeddings = self.embedding(captions)
        # img_feats是2048维的向量,通过全连接层转为256维的向量,和词向量一样
        img_feats = self.fc(img_feats).unsqueeze(0)
        # 将img_feats看成第一个词的词向量
        embeddings = t.cat([img_feats, embeddings], 0)
        # PackedSequence
        packed_embeddings = pack_padded_sequence(embeddings, lengths)
        outputs, state = self.rnn(packed_embeddings)
        # lstm的输出作为特征用来分类预测下一个词的序号
        pred = self.classifier(outputs[0])
        return pred, state

    def generate(self, img, eos_token='</EOS>',
                 beam_size=3,
                 max_caption_length=30,
                 length_normalization_factor=0.0):
        """
        根据图片生成描述,主要是使用beam search算法以得到更好的描述
        """
        cap_gen = CaptionGenerator(embedder=self.embedding,
                                   rnn=self.rnn,
                                   classifier=self.classifier,
                                   eos_id=self.word2ix[eos_token],
                                   beam_size=beam_size,
                                   max_caption_length=max_caption_length,
                                   length_normalization_factor=length_normalization_factor)
        if next(self.parameters()).is_cuda:
            img = img.cuda()
        img = img.unsqueeze(0)
        img = self.fc(img).unsqueeze(0)
        sentences, score = cap_gen.beam_search(img)
        sentences = [' '.join([self.ix2word[idx] for idx in sent])
                     for sent in sentences]
        return sentences

    def states(self):
        opt_state_dict = {attr: getattr(self.opt, attr)
                          for attr in dir(self.opt)
                          if not attr.startswith('__')}
        return {
            'state_dict': self.state_dict(),
            'opt': opt_state_dict
        }

    def save(self, path=None, **kwargs):
        if path is None:
            path = '{prefix}_{time}'.format(prefix=self.opt.prefix,
                                            time=time.strftime('%m%d_%H%M'))
        states = self.states()
        states.update(kwargs)
        t.save(states, path)
        return path

    def load(self, path, load_opt=False):
        data = t.load(path, map_location=lambda s, l: s)
        state_dict = data['state_dict']
        self.load_state_dict(state_dict)

        if load_opt:
            for k, v in data['opt'].items():
                setattr(self.opt, k, v)

        return self

    def get_optimizer(self, lr):
        return t.optim.Adam(self.parameters(), lr=lr)


# ------------------------------------------------------------------------ main.py
def generate(**kwargs):
    opt = Config()
    for k, v in kwargs.items():
        setattr(opt, k, v)
    device = t.device('cuda') if opt.use_gpu else t.device('cpu')

    # 数据预处理
    data = t.load(opt.caption_data_path, map_location=lambda s, l: s)
    word2ix, ix2word = data['word2ix'], data['ix2word']

    # 用resnet50来提取图片特征 (here: a random feature vector)
    img_feats = t.rand(1, 2048).to(device)

    # Caption模型
    model = CaptionModel(opt, word2ix, ix2word)
    model = model.load(opt.model_ckpt).eval()
    model.to(device)

    results = model.generate(img_feats.data[0])
    print('\r\n'.join(results))


def train(**kwargs):
    opt = Config()
    for k, v in kwargs.items():
        setattr(opt, k, v)
    device = t.device('cuda') if opt.use_gpu else t.device('cpu')

    opt.caption_data_path = 'caption.pth'  # 原始数据
    opt.test_img = ''  # 输入图片

    # 数据
    dataloader = get_dataloader(opt)
    _data = dataloader.dataset._data
    word2ix, ix2word = _data['word2ix'], _data['ix2word']

    # 模型
    model = CaptionModel(opt, word2ix, ix2word)
    if opt.model_ckpt:
        model.load(opt.model_ckpt)
    optimizer = model.get_optimizer(opt.lr)
    criterion = t.nn.CrossEntropyLoss()

    model.to(device)

    # 统计
    losses = []  # loss_meter = meter.AverageValueMeter()

    for epoch in range(opt.epoch):
        losses.clear()
        for ii, (imgs, (captions, lengths), indexes) in enumerate(dataloader):
            # 训练
            optimizer.zero_grad()
            imgs = imgs.to(device)
            captions = captions.to(device)
            input_captions = captions[:-1]
            target_captions = pack_padded_sequence(captions, lengths)[0]
            score, _ = model(imgs, input_captions, lengths)
            loss = criterion(score, target_captions)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            print(ii, captions.shape, lengths, indexes, loss.item())

            # 可视化
            if (ii + 1) % opt.plot_every == 0:
                print('loss', np.mean(losses))  # vis.plot('loss', loss_meter.value()[0])

                # 可视化原始图片 + 可视化人工的描述语句
                raw_img = _data['ix2id'][indexes[0]]
                print(raw_img)

                raw_caption = captions.data[:, 0]
                raw_caption = ''.join([_data['ix2word'][ii] for ii in raw_caption])
                print(raw_caption)  # vis.text(raw_caption, u'raw_caption')

                # 可视化网络生成的描述语句
                results = model.generate(imgs.data[0])
                print('</br>'.join(results))  # vis.text('</br>'.join(results), u'caption')
        return model.save()


if __name__ == '__main__':
    path = train()
    generate(model_ckpt=path)
