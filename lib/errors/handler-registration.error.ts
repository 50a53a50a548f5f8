/** A @JobHandler declaration that cannot work (duplicate type, bad options); thrown at start-up. */
export class HandlerRegistrationError extends Error {
  override readonly name = 'HandlerRegistrationError';
}
