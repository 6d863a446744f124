"""Run under mpiexec: the Runner trains a DDP model on each process's share of Iris; rank 0 prints
the histories as JSON (they must equal one process's on all the data)."""
import json
import sys

import chainrule as torch
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel
from tests.distributed.runner_case import histories, iris_case

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()
model, optimizer, runner, train_data, dev_data = iris_case(wrap=DistributedDataParallel)
shard = lambda data: (data[0][rank::size], data[1][rank::size])  # noqa: E731
runner.train(shard(train_data), shard(dev_data), num_epochs=6, log_steps=2, save_path=sys.argv[1])
runner.load_model(sys.argv[1])  # every process loads the checkpoint that rank 0 wrote
if rank == 0:
    print("HISTORIES " + json.dumps(histories(runner, model)))
dist.destroy_process_group()
