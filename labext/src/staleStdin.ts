/**
 * A %%ask approval prompt is the notebook's input box (`input()` under a time limit). When the wait ends with no
 * answer, or the request is stopped, the kernel no longer reads that box, yet JupyterLab leaves it under the cell
 * looking editable: a newcomer typed "y" into it and nothing happened (newcomer r10). Once the cell's execution
 * has ended, nothing can read a box still there, so it is disabled and says so. JupyterLab also keeps its guard
 * against a second prompt, and refused to run any other cell ("Cell not executed due to pending input") until the
 * stop button was pressed (newcomer r11): with no live box left in the notebook, that guard is lifted too.
 */

/** What a stale box says, in place of its placeholder, and on hover why. */
export const NO_LONGER_ASKED = 'no longer asked';
export const NO_LONGER_ASKED_TITLE =
  'The cell has finished: nothing reads this box any more. Run the cell again to be asked again.';
export const RETIRED_CLASS = 'kenkyu-stdin-retired';

/** The part of an `<input class="jp-Stdin-input">` this module touches (a plain object in the jest tests). */
export interface IStdinInput {
  disabled: boolean;
  placeholder: string;
  title: string;
  classList: { add(name: string): void };
}

/** JupyterLab's class for the input box of an `input_request` (its Stdin widget). */
export const STDIN_INPUT_SELECTOR = 'input.jp-Stdin-input';

/**
 * Disable and label every input box still open under a cell whose execution has ended; returns how many.
 * An answered box is already gone (JupyterLab replaces it with the answer), so only unanswered ones are met.
 */
export function retireStaleStdin(inputs: Iterable<IStdinInput>): number {
  let retired = 0;
  for (const input of inputs) {
    if (input.disabled) {
      continue;
    }
    input.disabled = true;
    input.placeholder = NO_LONGER_ASKED;
    input.title = NO_LONGER_ASKED_TITLE;
    input.classList.add(RETIRED_CLASS);
    retired += 1;
  }
  return retired;
}

/** Whether any box in the notebook still asks (a later cell's live prompt): then JupyterLab's guard stays. */
export function anyLiveStdin(inputs: Iterable<Pick<IStdinInput, 'disabled'>>): boolean {
  for (const input of inputs) {
    if (!input.disabled) {
      return true;
    }
  }
  return false;
}
