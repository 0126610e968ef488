import { NO_LONGER_ASKED, RETIRED_CLASS, anyLiveStdin, retireStaleStdin } from '../staleStdin';

function box(disabled = false) {
  const classes: string[] = [];
  return { disabled, placeholder: '', title: '', classes, classList: { add: (name: string) => classes.push(name) } };
}

describe('an approval box left under a finished cell', () => {
  it('is disabled and says it is no longer asked', () => {
    const stale = box();
    expect(retireStaleStdin([stale])).toBe(1);
    expect(stale.disabled).toBe(true);
    expect(stale.placeholder).toBe(NO_LONGER_ASKED);
    expect(stale.title).toMatch(/Run the cell again/);
    expect(stale.classes).toEqual([RETIRED_CLASS]);
  });

  it('is retired once: a box already disabled is left as it is', () => {
    const done = box(true);
    expect(retireStaleStdin([done])).toBe(0);
    expect(done.placeholder).toBe('');
    expect(retireStaleStdin([])).toBe(0);
  });
});

describe("JupyterLab's pending-input guard", () => {
  it('is lifted only when no box in the notebook still asks', () => {
    const retired = box();
    retireStaleStdin([retired]);
    expect(anyLiveStdin([retired])).toBe(false);
    expect(anyLiveStdin([retired, box()])).toBe(true); // a later cell's live prompt keeps the guard
    expect(anyLiveStdin([])).toBe(false);
  });
});
