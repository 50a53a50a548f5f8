// Preloaded into a worker process (node -r) to put its clock CLOCK_OFFSET_MS off the real time:
// Date.now() and new Date() both see the skewed time, as they would on a host whose clock drifted.
const offset = Number(process.env.CLOCK_OFFSET_MS || 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = SkewedDate;
