/**
 * Group commit: inserts that arrive while the event loop was busy share one transaction.
 * With synchronous=FULL each commit waits for the disk (an fsync, milliseconds on a cloud
 * disk); one commit per request would cap the collector at a few hundred requests a second,
 * one commit per turn of the event loop serves all the requests that turn read.
 */

interface Pending<T> {
  batch: T;
  resolve: (result: number) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitter<T> {
  /** Queues a batch; resolves with commit()'s result for it once the group is committed. */
  add(batch: T): Promise<number>;
  /** Commits what is queued now (before closing). */
  flush(): void;
}

/** `commit` writes every batch in one transaction, returning one result per batch, or throws (then no batch is committed). */
export function groupCommitter<T>(commit: (batches: T[]) => number[]): GroupCommitter<T> {
  let queue: Array<Pending<T>> = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const group = queue;
    queue = [];
    if (group.length === 0) return;
    let results: number[];
    try {
      results = commit(group.map((pending) => pending.batch));
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    group.forEach((pending, i) => pending.resolve(results[i]!));
  }

  return {
    add(batch) {
      return new Promise<number>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // After the I/O callbacks of this turn: every request read in it joins the group.
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
