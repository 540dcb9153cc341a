import { changedFields } from './changes.js';

describe('changedFields', () => {
  it('keeps only the fields the patch sets and changes, with their old and new values', () => {
    const before = { name: 'Chair 1', active: true, hours: [{ weekday: 1 }], note: null };
    expect(
      changedFields(before, { name: 'Chair 1', active: false, hours: [{ weekday: 2 }], note: 'x', ignored: undefined }),
    ).toEqual({
      before: { active: true, hours: [{ weekday: 1 }], note: null },
      after: { active: false, hours: [{ weekday: 2 }], note: 'x' },
    });
  });
  it('is empty on both sides when nothing changes', () => {
    expect(changedFields({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] })).toEqual({ before: {}, after: {} });
  });
  it('treats a missing old field as null', () => {
    expect(changedFields({}, { email: 'a@b.c' })).toEqual({ before: { email: null }, after: { email: 'a@b.c' } });
  });
});
