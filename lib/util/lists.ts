/**
 * An empty array with the elements kind V8 gives an array of objects (PACKED_ELEMENTS). An empty
 * literal `[]` starts as an array of small integers, another hidden class: optimised code that
 * had only seen lists of jobs was thrown away ("wrong map") the first time an empty one reached
 * it, and compiled again. The claim loop did that at the end of every drain (node --trace-deopt);
 * recompiling it cost 10-25 ms of the optimising compiler's time on the cores the database shares.
 */
export function emptyList<T>(): T[] {
  const list = [undefined as T];
  list.pop();
  return list;
}
