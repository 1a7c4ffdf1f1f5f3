/**
 * Walks a table in item-id pages, read → compute → write, with the next page's read and the
 * previous page's write (both in Postgres) in flight while a page is computed (in Node), so
 * both cores stay busy. Writes land in page order, one at a time; `write` reports progress
 * (a heartbeat) once its page is stored, so a retry can resume after it.
 */
export async function pipelinePages<Row extends { itemId: string }, Computed>(
  after: string | null,
  steps: {
    read: (after: string | null) => Promise<Row[]>;
    compute: (page: Row[]) => Promise<Computed>;
    write: (page: Row[], computed: Computed) => Promise<void>;
  },
): Promise<void> {
  const read = (from: string | null) => {
    const page = steps.read(from);
    // Awaited on the next turn; if this turn fails first, its error is the one reported.
    page.catch(() => undefined);
    return page;
  };
  let next = read(after);
  let writing: Promise<void> = Promise.resolve();
  for (;;) {
    const page = await next;
    if (page.length === 0) break;
    next = read(page.at(-1)!.itemId);
    const computed = await steps.compute(page);
    await writing;
    writing = steps.write(page, computed);
    writing.catch(() => undefined);
  }
  await writing;
}
