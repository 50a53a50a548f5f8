/** A gate that handlers await (`await gate.promise`) until the test opens it: holds a job running for as long as a test needs. */
export interface Gate {
  promise: Promise<void>;
  open: () => void;
}

/** A new, closed gate. */
export function newGate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
