import { JobEvents } from './job-events';

describe('JobEvents', () => {
  it('has() tells whether an event has a listener, by name or through "*", and forgets unsubscribed ones', () => {
    const events = new JobEvents();
    expect(events.has('job.started')).toBe(false);
    const off = events.on('job.started', () => undefined);
    expect(events.has('job.started')).toBe(true);
    expect(events.has('job.succeeded')).toBe(false);
    const offAll = events.on('*', () => undefined);
    expect(events.has('job.succeeded')).toBe(true);
    off();
    off(); // a second call changes nothing
    offAll();
    expect(events.has('job.started')).toBe(false);
    expect(events.has('job.succeeded')).toBe(false);
  });

  it('refuses a name that is no event, naming it and the names there are', () => {
    const events = new JobEvents();
    expect(() => events.on('job.done' as 'job.started', () => undefined)).toThrow(
      'JobEvents.on: no event is named "job.done"; the names are job.started, job.succeeded, job.failed, job.dead-lettered, *',
    );
    expect(() => events.on('toString' as 'job.started', () => undefined)).toThrow('no event is named "toString"');
  });
});
