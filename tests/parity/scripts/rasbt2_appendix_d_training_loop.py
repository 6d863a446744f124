# Source: Sebastian Raschka, "Build a Large Language Model (From Scratch)", appendix D ("Adding bells and
# whistles to the training loop"): linear learning-rate warmup and cosine decay written by hand through
# optimizer.param_groups[...]["lr"] (AdamW created without lr), find_highest_gradient
# (param.grad.data.flatten().max()), torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0), and
# the modified train_model (warmup + cosine annealing + clipping) with evaluate_model/generate_and_print_sample.
#   https://github.com/rasbt/LLMs-from-scratch  appendix-D/01_main-chapter-code/appendix-D.ipynb
#   (GPTModel, create_dataloader_v1, calc_loss_batch, evaluate_model, generate_and_print_sample from the
#   book's package pkg/llms_from_scratch/ch02.py, ch04.py and ch05.py, copied in llms_from_scratch/ beside
#   this file)
# Shrunk: GPT_CONFIG_124M keeps its name but is a tiny GPT (context 32, 32-dim embeddings, 4 heads,
# 2 layers, vocabulary of the character tokenizer); "The Verdict" (downloaded) is replaced by its first 698
# characters written below; tiktoken's GPT-2 BPE is replaced by a character tokenizer
# (llms_from_scratch/char_tokenizer.py, also inside create_dataloader_v1); n_epochs 15 -> 3 for the
# schedules and the training; the plots are replaced by prints of the learning rates; one extra
# clip_grad_norm_ with max_norm=0.05 (the tiny model's gradient norm is below 1.0).
import torch

from llms_from_scratch.char_tokenizer import CharTokenizer

from llms_from_scratch.ch04 import GPTModel

GPT_CONFIG_124M = {
    "vocab_size": 97,      # Vocabulary size (the book: 50257; here the character tokenizer's)
    "context_length": 32,  # Shortened context length (orig: 1024; the appendix: 256)
    "emb_dim": 32,         # Embedding dimension
    "n_heads": 4,          # Number of attention heads
    "n_layers": 2,         # Number of layers
    "drop_rate": 0.1,      # Dropout rate
    "qkv_bias": False      # Query-key-value bias
}

device = torch.device("cpu")

print("Device:", device)

torch.manual_seed(123)
model = GPTModel(GPT_CONFIG_124M)
model.eval();  # Disable dropout during inference

text_data = (
    'I HAD always thought Jack Gisburn rather a cheap genius--though a good fellow enough--so it was no '
    'great surprise to me to hear that, in the height of his glory, he had dropped his painting, married '
    'a rich widow, and established himself in a villa on the Riviera. (Though I rather thought it would '
    'have been Rome or Florence.)\n\n"The height of his glory"--that was what the women called it. I can '
    'hear Mrs. Gideon Thwing--his last Chicago sitter--deploring his unaccountable abdication. "Of '
    "course it's going to send the value of my picture 'way up; but I don't think of that, Mr. "
    'Rickham--the loss to Arrt is all I think of." The word, on Mrs. Thwing\'s lips, multiplied its _rs_ '
    'as though they were'
)

from llms_from_scratch.ch02 import create_dataloader_v1


# Train/validation ratio
train_ratio = 0.90
split_idx = int(train_ratio * len(text_data))


torch.manual_seed(123)

train_loader = create_dataloader_v1(
    text_data[:split_idx],
    batch_size=2,
    max_length=GPT_CONFIG_124M["context_length"],
    stride=GPT_CONFIG_124M["context_length"],
    drop_last=True,
    shuffle=True,
    num_workers=0
)

val_loader = create_dataloader_v1(
    text_data[split_idx:],
    batch_size=2,
    max_length=GPT_CONFIG_124M["context_length"],
    stride=GPT_CONFIG_124M["context_length"],
    drop_last=False,
    shuffle=False,
    num_workers=0
)
print(len(train_loader), len(val_loader))

n_epochs = 3
initial_lr = 0.0001
peak_lr = 0.01

total_steps = len(train_loader) * n_epochs
warmup_steps = int(0.2 * total_steps) # 20% warmup
print(warmup_steps)

lr_increment = (peak_lr - initial_lr) / warmup_steps

global_step = -1
track_lrs = []

optimizer = torch.optim.AdamW(model.parameters(), weight_decay=0.1)

for epoch in range(n_epochs):
    for input_batch, target_batch in train_loader:
        optimizer.zero_grad()
        global_step += 1

        if global_step < warmup_steps:
            lr = initial_lr + global_step * lr_increment
        else:
            lr = peak_lr

        # Apply the calculated learning rate to the optimizer
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        track_lrs.append(optimizer.param_groups[0]["lr"])

        # Calculate loss and update weights
        # ...

total_training_steps = len(train_loader) * n_epochs
print("Learning rates:", [round(lr, 6) for lr in track_lrs])  # the notebook plots them

import math

min_lr = 0.1 * initial_lr
track_lrs = []

lr_increment = (peak_lr - initial_lr) / warmup_steps
global_step = -1

for epoch in range(n_epochs):
    for input_batch, target_batch in train_loader:
        optimizer.zero_grad()
        global_step += 1

        # Adjust the learning rate based on the current phase (warmup or cosine annealing)
        if global_step < warmup_steps:
            # Linear warmup
            lr = initial_lr + global_step * lr_increment
        else:
            # Cosine annealing after warmup
            progress = ((global_step - warmup_steps) /
                        (total_training_steps - warmup_steps))
            lr = min_lr + (peak_lr - min_lr) * 0.5 * (
                1 + math.cos(math.pi * progress))

        # Apply the calculated learning rate to the optimizer
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        track_lrs.append(optimizer.param_groups[0]["lr"])

        # Calculate loss and update weights

print("Learning rates:", [round(lr, 6) for lr in track_lrs])  # the notebook plots them

from llms_from_scratch.ch05 import calc_loss_batch


torch.manual_seed(123)
model = GPTModel(GPT_CONFIG_124M)
model.to(device)

loss = calc_loss_batch(input_batch, target_batch, model, device)
loss.backward()


def find_highest_gradient(model):
    max_grad = None
    for param in model.parameters():
        if param.grad is not None:
            grad_values = param.grad.data.flatten()
            max_grad_param = grad_values.max()
            if max_grad is None or max_grad_param > max_grad:
                max_grad = max_grad_param
    return max_grad

print(find_highest_gradient(model))

torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
print(find_highest_gradient(model))
# extra: the tiny model's total gradient norm is below 1.0, so clip to a smaller norm to see it act
print(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.05))
print(find_highest_gradient(model))

from llms_from_scratch.ch05 import evaluate_model, generate_and_print_sample


ORIG_BOOK_VERSION = False


def train_model(model, train_loader, val_loader, optimizer, device,
                n_epochs, eval_freq, eval_iter, start_context, tokenizer,
                warmup_steps, initial_lr=3e-05, min_lr=1e-6):

    train_losses, val_losses, track_tokens_seen, track_lrs = [], [], [], []
    tokens_seen, global_step = 0, -1

    # Retrieve the maximum learning rate from the optimizer
    peak_lr = optimizer.param_groups[0]["lr"]

    # Calculate the total number of iterations in the training process
    total_training_steps = len(train_loader) * n_epochs

    # Calculate the learning rate increment during the warmup phase
    lr_increment = (peak_lr - initial_lr) / warmup_steps

    for epoch in range(n_epochs):
        model.train()
        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()
            global_step += 1

            # Adjust the learning rate based on the current phase (warmup or cosine annealing)
            if global_step < warmup_steps:
                # Linear warmup
                lr = initial_lr + global_step * lr_increment
            else:
                # Cosine annealing after warmup
                progress = ((global_step - warmup_steps) /
                            (total_training_steps - warmup_steps))
                lr = min_lr + (peak_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))

            # Apply the calculated learning rate to the optimizer
            for param_group in optimizer.param_groups:
                param_group["lr"] = lr
            track_lrs.append(lr)  # Store the current learning rate

            # Calculate and backpropagate the loss
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            loss.backward()

            # Apply gradient clipping after the warmup phase to avoid exploding gradients
            if ORIG_BOOK_VERSION:
                if global_step > warmup_steps:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            else:
                if global_step >= warmup_steps:  # the book originally used global_step > warmup_steps, which led to a skipped clipping step after warmup
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)

            optimizer.step()
            tokens_seen += input_batch.numel()

            # Periodically evaluate the model on the training and validation sets
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(
                    model, train_loader, val_loader,
                    device, eval_iter
                )
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                # Print the current losses
                print(f"Ep {epoch+1} (Iter {global_step:06d}): "
                      f"Train loss {train_loss:.3f}, "
                      f"Val loss {val_loss:.3f}"
                )

        # Generate and print a sample from the model to monitor progress
        generate_and_print_sample(
            model, tokenizer, device, start_context
        )

    return train_losses, val_losses, track_tokens_seen, track_lrs


torch.manual_seed(123)
model = GPTModel(GPT_CONFIG_124M)
model.to(device)

peak_lr = 0.001  # this was originally set to 5e-4 in the book by mistake
optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.1)  # the book accidentally omitted the lr assignment
tokenizer = CharTokenizer()  # the book: tiktoken.get_encoding("gpt2")

train_losses, val_losses, tokens_seen, lrs = train_model(
    model, train_loader, val_loader, optimizer, device, n_epochs=n_epochs,
    eval_freq=5, eval_iter=1, start_context="Every effort moves you",
    tokenizer=tokenizer, warmup_steps=warmup_steps,
    initial_lr=1e-5, min_lr=1e-5
)

print("Learning rates:", [round(lr, 7) for lr in lrs])  # the notebook plots them
print(train_losses, val_losses, tokens_seen)
print(find_highest_gradient(model))

epochs_tensor = torch.linspace(1, n_epochs, len(train_losses))
print(epochs_tensor)
