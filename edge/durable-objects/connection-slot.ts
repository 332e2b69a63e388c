/**
 * One shared connection, opened lazily and replaced after a failure (NatsPublisher's socket). Every user
 * holds the exact connection promise it used, and `reset(failed)` forgets and closes only THAT connection:
 * a publish that failed on an old socket must never close the new one another publish has just opened
 * (issue 6, scenario 8).
 */
export class ConnectionSlot<T> {
  private current?: Promise<T>;

  constructor(
    private readonly open: () => Promise<T>,
    private readonly close: (conn: T) => Promise<void>,
    /** Resolves when a connection closed by itself; it is then forgotten so the next `get` dials again. */
    private readonly closed?: (conn: T) => Promise<unknown>,
  ) {}

  /** The current connection, dialling one if there is none (a failed dial is forgotten). */
  get(): Promise<T> {
    if (this.current) return this.current;
    const pending = this.open();
    this.current = pending;
    pending.then(
      (conn) => this.closed?.(conn).then(() => this.forget(pending), () => this.forget(pending)),
      () => this.forget(pending),
    );
    return pending;
  }

  /** Forgets `conn` if it is still the current one (e.g. when it closed by itself). */
  forget(conn: Promise<T>): void {
    if (this.current === conn) this.current = undefined;
  }

  /** The connection `failed` broke: forget it if current and close it; a newer connection is left alone. */
  async reset(failed: Promise<T>): Promise<void> {
    this.forget(failed);
    let conn: T;
    try {
      conn = await failed;
    } catch {
      return; // never opened: nothing to close
    }
    try {
      await this.close(conn);
    } catch {
      // Already broken; nothing more to do.
    }
  }
}
