/**
 * The generated isolation matrix (issues 7 and 8): for every documented operation with ids in its path, one
 * caller (the owner) makes the resource through the API, another caller (a second tenant, or the same tenant's
 * key of the other mode) asks for it with a valid request and must get a 404 problem; the owner's same request
 * must not be a 404, or the 404 proves nothing. List operations never show the owner's ids to the other caller,
 * and the owner's ids as a cursor are refused. Returns every violation, one line each.
 */
import { call } from "./harness";
import { loadDocument } from "./openapi-conformance";
import { kindFor, listOperations, mentionsAny, missingValidRequest, requestFor, withPathIds } from "./resources";

export async function isolationMatrix(
  ownerKey: string,
  otherKey: string,
  opts: { knownGaps?: readonly string[] } = {},
): Promise<{ failures: string[]; checked: string[] }> {
  const { operations } = await loadDocument();
  const failures: string[] = [];
  const checked: string[] = [];
  const ownerIds: { kind: string; id: string }[] = [];

  for (const op of withPathIds(operations)) {
    const name = `${op.method} ${op.template}`;
    const found = kindFor(op.template);
    if (found && opts.knownGaps?.includes(found.key)) continue;
    if (!found) {
      failures.push(`${name}: no way to create its resource; register one in resourceKinds (edge/test/resources.ts)`);
      continue;
    }
    if (missingValidRequest(op)) {
      failures.push(`${name}: needs a body or query; add a valid one to validRequests (edge/test/resources.ts)`);
      continue;
    }
    const ids = await found.kind.create(ownerKey);
    // Only distinctive ids are looked for in lists (a delivery id "7" or a channel "email" would match anything).
    ownerIds.push(...Object.values(ids).filter((id) => id.length >= 12).map((id) => ({ kind: found.key, id })));
    const req = requestFor(op, ids);
    const other = await call(op.method, req.path, { apiKey: otherKey, body: req.body });
    if (other.status !== 404 || other.body?.code !== "not_found") {
      failures.push(`${name}: the other caller got ${other.status} ${String(JSON.stringify(other.body)).slice(0, 200)}, expected a 404 problem`);
    }
    const own = await call(op.method, req.path, { apiKey: ownerKey, body: req.body });
    if (own.status === 404 || own.status >= 500) {
      failures.push(`${name}: the owner's own request got ${own.status}, so the other caller's 404 proves nothing (fix validRequests)`);
    }
    checked.push(name);
  }

  for (const op of listOperations(operations)) {
    const name = `${op.method} ${op.template}`;
    if (opts.knownGaps?.includes(`${op.template}/{id}`)) continue;
    const mine = ownerIds.filter((o) => o.kind.startsWith(`${op.template}/`)).map((o) => o.id);
    const list = await call("GET", op.template, { apiKey: otherKey });
    const leaked = mentionsAny(list.body, ownerIds.map((o) => o.id));
    if (list.status !== 200 || leaked) failures.push(`${name}: the other caller got ${list.status}${leaked ? `, listing the owner's ${leaked}` : ""}`);
    const hasCursor = (op.spec.parameters ?? []).some((p: { name: string }) => p.name === "starting_after");
    for (const id of hasCursor ? mine.slice(0, 1) : []) {
      const page = await call("GET", `${op.template}?starting_after=${id}`, { apiKey: otherKey });
      if (page.status < 400 || page.status >= 500) failures.push(`${name}?starting_after=<owner's id>: the other caller got ${page.status}, expected a 4xx`);
    }
    if (mine.length) {
      const ownList = await call("GET", `${op.template}?limit=100`, { apiKey: ownerKey });
      if (!mentionsAny(ownList.body, mine)) failures.push(`${name}: the owner's list shows none of its own ids, so the check above proves nothing`);
    }
    checked.push(name);
  }
  return { failures, checked };
}
