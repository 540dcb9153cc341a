import { DateTime } from 'luxon';

/** "Now", injected so that tests can fix it. Everything time-dependent asks the clock. */
export abstract class Clock {
  abstract now(): DateTime;
}

export class SystemClock extends Clock {
  now(): DateTime {
    return DateTime.utc();
  }
}

/** A clock that stands still until moved; for tests. */
export class FixedClock extends Clock {
  constructor(private current: DateTime) {
    super();
  }
  now(): DateTime {
    return this.current;
  }
  set(to: DateTime): void {
    this.current = to;
  }
}
