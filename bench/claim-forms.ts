/**
 * The earlier forms of the store's claim, rebuilt from its rows form (claimRows) so that the
 * claim benches compare against them: the claimed ids as an array looked up on the primary key
 * (the fourth pass), and the UPDATE joined to its locking subquery (before that). Throws when a
 * rewrite no longer matches the statement.
 */
import { claim, claimRows } from '../lib/store/postgresql/postgresql.sql';

function rewritten(text: string, what: string): string {
  if (text === claimRows) throw new Error(`the ${what} form could not be rebuilt from claimRows`);
  return text;
}

const idsNotCtids = (text: string) => text.replace('WHERE j.ctid = ANY(ARRAY(', 'WHERE j."id" = ANY(ARRAY(').replace('SELECT d.ctid FROM', 'SELECT d."id" FROM');

/** The claimed ids as an array, looked up on the primary key. */
export const claimRowsById = rewritten(idsNotCtids(claimRows), 'by-id');

/** The UPDATE joined to the locking subquery (planned as a hash join over the whole table). */
export const claimRowsJoined = rewritten(
  claimRowsById
    .replace('WHERE j."id" = ANY(ARRAY(', 'FROM (')
    .replace(/FOR UPDATE SKIP LOCKED\s*\)\)/, 'FOR UPDATE SKIP LOCKED\n       ) AS due\n       WHERE j."id" = due."id"'),
  'joined',
);

/** The large claim before the ids left its JSON (every element `["id", type, ...]`, one column). */
export const claimIdsInJson = (() => {
  const text = claim
    .replace(`j."id"::text AS "id", '[' || to_json(j."type")`, `'["' || j."id" || '",' || to_json(j."type")`)
    .replace(`SELECT string_agg(c."id", ',') AS "ids", '[' || string_agg(c."job", ',') || ']' AS "jobs"`, `SELECT '[' || string_agg(c."job", ',') || ']' AS "jobs"`);
  if (!text.includes(`'["' || j."id"`) || text.includes('AS "ids"')) throw new Error('the ids-in-JSON form could not be rebuilt from claim');
  return text;
})();
