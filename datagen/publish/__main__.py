"""``python -m datagen.publish TASKS RESULTS``: one shard worker process of the parallel export
(:func:`datagen.publish.shards._run_workers`): it runs the pickled shard tasks and pickles their results.

The worker function is imported from its module rather than defined here, so the results pickle as
``datagen.publish.shards`` classes (a class defined in ``__main__`` would not unpickle in the parent).
"""

import sys

from datagen.publish.shards import _worker_main

if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
