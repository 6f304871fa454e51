// Runs calls into the client library one at a time (tuf-js 5.0.1's Updater keeps per-walk state
// and is not re-entrant), in two lanes: what pip is waiting for first, then background work
// (prefetching). A waiting background call that pip turns out to need is promoted.
interface Task {
  key?: string;
  run: () => void;
}

export class CallQueue {
  private readonly foreground: Task[] = [];
  private readonly background: Task[] = [];
  private busy = false;

  /** Queues `fn`; `key` names it for promote(). */
  run<T>(fn: () => Promise<T>, opts: { background?: boolean; key?: string } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        key: opts.key,
        run: () => {
          fn().then(resolve, reject).finally(() => {
            this.busy = false;
            this.next();
          });
        },
      };
      (opts.background ? this.background : this.foreground).push(task);
      this.next();
    });
  }

  /** Moves a waiting background call to the foreground lane (pip now waits for it). */
  promote(key: string): void {
    const i = this.background.findIndex((t) => t.key === key);
    if (i >= 0) this.foreground.push(...this.background.splice(i, 1));
  }

  private next(): void {
    if (this.busy) return;
    const task = this.foreground.shift() ?? this.background.shift();
    if (!task) return;
    this.busy = true;
    task.run();
  }
}
