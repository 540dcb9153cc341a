import { loggableUrl } from './logging.js';

describe('loggableUrl', () => {
  it.each([
    ['/v1/patients?q=Jordan%20Rivera', '/v1/patients'],
    ['/v1/calendar/feeds/abcDEF123_-secret.ics', '/v1/calendar/feeds/[redacted].ics'],
    ['/v1/calendar/feeds/abcDEF123.ics?x=1', '/v1/calendar/feeds/[redacted].ics'],
    ['/v1/clinics/1b2c', '/v1/clinics/1b2c'],
    [undefined, ''],
  ])('%p → %p', (url, logged) => expect(loggableUrl(url)).toBe(logged));
});
