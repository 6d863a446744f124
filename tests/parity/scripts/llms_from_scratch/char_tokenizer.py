# NOT from the book: a stand-in for tiktoken's GPT-2 BPE (tiktoken is not a test dependency and needs a
# download). A fixed character vocabulary, "\n" and the printable ASCII characters " ".."~" (ids 0-95),
# plus "<|endoftext|>" as the last id (96), with tiktoken's encode(text, allowed_special=...) and decode.
class CharTokenizer:
    def __init__(self):
        chars = ["\n"] + [chr(i) for i in range(32, 127)]
        self.str_to_int = {ch: i for i, ch in enumerate(chars)}
        self.str_to_int["<|endoftext|>"] = len(chars)
        self.int_to_str = {i: s for s, i in self.str_to_int.items()}
        self.n_vocab = len(self.str_to_int)
        self.eot_token = self.str_to_int["<|endoftext|>"]

    def encode(self, text, allowed_special=None):
        ids = []
        for k, part in enumerate(text.split("<|endoftext|>")):
            if k > 0:
                ids.append(self.eot_token)
            ids.extend(self.str_to_int[ch] for ch in part)
        return ids

    def decode(self, ids):
        return "".join(self.int_to_str[i] for i in ids)
