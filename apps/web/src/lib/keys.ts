/** Marks a region whose key presses the page's other key handlers leave alone. */
export const OWN_KEYS = 'data-own-keys';

/** What a key press means in the labeling queue. */
export type KeyAction =
  | { type: 'label'; classId: string }
  | { type: 'skip' }
  | { type: 'undo' }
  | { type: 'help' }
  | null;

export interface KeyClass {
  id: string;
  position: number;
  hotkey?: string | null;
  retired: boolean;
}

/**
 * Digits 1-9 pick the first nine classes by position and 0 the tenth, unless a class claims
 * that key as its hotkey; `s` skips, `u` undoes the last label, `?` shows the keys. Presses
 * with Ctrl/Alt/Meta, or inside text fields, belong to the browser.
 */
export function keyAction(
  event: { key: string; ctrlKey?: boolean; altKey?: boolean; metaKey?: boolean; inField?: boolean },
  classes: KeyClass[],
): KeyAction {
  if (event.ctrlKey || event.altKey || event.metaKey || event.inField) return null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const active = classes.filter((c) => !c.retired);
  const byHotkey = active.find((c) => c.hotkey === key);
  if (byHotkey) return { type: 'label', classId: byHotkey.id };
  if (key === 's') return { type: 'skip' };
  if (key === 'u') return { type: 'undo' };
  if (key === '?') return { type: 'help' };
  if (/^[0-9]$/.test(key)) {
    const index = key === '0' ? 9 : Number(key) - 1;
    const ordered = [...active].sort((a, b) => a.position - b.position);
    const target = ordered[index];
    if (target && !active.some((c) => c.hotkey === key))
      return { type: 'label', classId: target.id };
  }
  return null;
}

/** The key shown for a class in the legend. */
export function keyFor(c: KeyClass, classes: KeyClass[]): string | null {
  if (c.hotkey) return c.hotkey;
  const ordered = classes.filter((x) => !x.retired).sort((a, b) => a.position - b.position);
  const index = ordered.findIndex((x) => x.id === c.id);
  if (index < 0 || index > 9) return null;
  const digit = index === 9 ? '0' : String(index + 1);
  return classes.some((x) => x.hotkey === digit) ? null : digit;
}
