import { describe, expect, it } from 'vitest';
import { keyAction, keyFor, type KeyClass } from '../src/lib/keys.ts';

const classes: KeyClass[] = Array.from({ length: 11 }, (_, i) => ({
  id: `c${i}`,
  position: i,
  hotkey: null,
  retired: false,
}));

describe('labeling keys', () => {
  it('digits pick classes by position, 0 the tenth, nothing past it', () => {
    expect(keyAction({ key: '1' }, classes)).toEqual({ type: 'label', classId: 'c0' });
    expect(keyAction({ key: '9' }, classes)).toEqual({ type: 'label', classId: 'c8' });
    expect(keyAction({ key: '0' }, classes)).toEqual({ type: 'label', classId: 'c9' });
    expect(keyFor(classes[10]!, classes)).toBeNull();
  });

  it('s skips, u undoes, ? helps; modifiers and text fields are left to the browser', () => {
    expect(keyAction({ key: 's' }, classes)).toEqual({ type: 'skip' });
    expect(keyAction({ key: 'U' }, classes)).toEqual({ type: 'undo' });
    expect(keyAction({ key: '?' }, classes)).toEqual({ type: 'help' });
    expect(keyAction({ key: '1', ctrlKey: true }, classes)).toBeNull();
    expect(keyAction({ key: 's', inField: true }, classes)).toBeNull();
    expect(keyAction({ key: 'x' }, classes)).toBeNull();
  });

  it('a hotkey wins over the digit it takes, and retired classes have no key', () => {
    const custom = classes.slice(0, 3).map((c) => ({ ...c }));
    custom[2]!.hotkey = '1';
    custom[1]!.retired = true;
    expect(keyAction({ key: '1' }, custom)).toEqual({ type: 'label', classId: 'c2' });
    // Position order skips the retired class: 2 is now the third class... which took key 1.
    expect(keyAction({ key: '2' }, custom)).toEqual({ type: 'label', classId: 'c2' });
    expect(keyFor(custom[0]!, custom)).toBeNull();
    expect(keyFor(custom[2]!, custom)).toBe('1');
    expect(keyAction({ key: '3' }, custom)).toBeNull();
  });
});
