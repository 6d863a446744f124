# Source: Brandon Snider's solution to Stanford CS336 (Spring 2025) assignment 1 "basics"
# (https://github.com/stanford-cs336/assignment1-basics):
#   https://github.com/brandon-snider/cs336-a1  cs336_basics/{model,adamw,loss,gradient_clip,
#   lr_schedule,data_loader,checkpointing}.py
# Copied as they are, except: einops' einsum/rearrange/reduce replaced by torch.einsum, torch.stack +
# flatten, view + transpose and mean(keepdim=True) (einops is not a test dependency); lr_schedule.py
# keeps only lr_cosine_schedule (the handout's schedule) of the file's several schedules.
