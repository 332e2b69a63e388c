/**
 * One page of a keyset-paginated list (newest first, `starting_after` = the last id of the previous page): the
 * query fetched `limit + 1` rows, the extra one only says whether there is more.
 */
export interface ListPage<V> {
  object: "list";
  data: V[];
  hasMore: boolean;
  /** Pass as `starting_after` for the next page; null on the last page. */
  nextCursor: string | null;
}

export function listPage<R extends { id: string | number }, V>(rows: R[], limit: number, view: (row: R) => V): ListPage<V> {
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { object: "list", data: page.map(view), hasMore, nextCursor: hasMore ? String(page.at(-1)!.id) : null };
}
